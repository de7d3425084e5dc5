"""std.http and std.mistral_http against a real local aiohttp server."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from actions.catalogue import ActionCatalogue, ActionContext, ActionSettings
from tests.actions.catalogue.certificates import TlsFiles, make_tls_files

ALLOW = ActionContext(
    execution_id="ex-1",
    task_id="task-1",
    task_name="call",
    workflow_name="wf",
    action_execution_id="ae-1",
    settings=ActionSettings(allow_private_networks=True, api_url="http://squall.test:8989/"),
)


async def _echo(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "method": request.method,
            "query": [[k, v] for k, v in request.query.items()],
            "headers": dict(request.headers),
            "body": await request.text(),
            "cookies": dict(request.cookies),
        }
    )


async def _text(request: web.Request) -> web.Response:
    return web.Response(text="plain words", content_type="text/plain")


async def _status(request: web.Request) -> web.Response:
    code = int(request.match_info["code"])
    return web.Response(status=code, text=f"failure body {code}")


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(3)
    return web.Response(text="late")


async def _basic(request: web.Request) -> web.Response:
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    if request.headers.get("Authorization") != expected:
        return web.Response(status=401, text="who are you")
    return web.json_response({"user": "alice"})


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/text")


async def _cookie(request: web.Request) -> web.Response:
    response = web.Response(text="ok")
    response.set_cookie("session", "abc")
    return response


async def _big(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * 5000)


@pytest.fixture(scope="module")
async def base_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/echo", _echo)
    app.router.add_get("/text", _text)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/basic", _basic)
    app.router.add_get("/redirect", _redirect)
    app.router.add_get("/cookie", _cookie)
    app.router.add_get("/big", _big)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture(scope="module")
def catalogue() -> ActionCatalogue:
    return ActionCatalogue.default()


async def _http(catalogue: ActionCatalogue, ctx: ActionContext = ALLOW, **inputs: Any) -> Any:
    return await catalogue.run("std.http", inputs, ctx, timeout_s=10)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "post"])
async def test_methods_are_sent(catalogue: ActionCatalogue, base_url: str, method: str) -> None:
    out = await _http(catalogue, url=f"{base_url}/echo", method=method)
    assert out.state == "SUCCESS"
    assert out.output["content"]["method"] == method.upper()
    assert out.output["status"] == 200


async def test_result_has_mistrals_shape(catalogue: ActionCatalogue, base_url: str) -> None:
    out = await _http(catalogue, url=f"{base_url}/echo")
    assert set(out.output) == {
        "content",
        "status",
        "headers",
        "url",
        "history",
        "encoding",
        "reason",
        "cookies",
        "elapsed",
    }
    assert out.output["reason"] == "OK"
    assert out.output["headers"]["Content-Type"].startswith("application/json")
    assert out.output["encoding"] == "utf-8"
    assert out.output["elapsed"] >= 0


async def test_json_body_headers_params_cookies(catalogue: ActionCatalogue, base_url: str) -> None:
    out = await _http(
        catalogue,
        url=f"{base_url}/echo",
        method="POST",
        json={"servers": [1, 2]},
        headers={"X-Count": 3, "X-Name": "web"},
        params={"a": "1", "tags": ["x", "y"], "skip": None},
        cookies={"flavour": "oat"},
    )
    seen = out.output["content"]
    assert seen["body"] == '{"servers": [1, 2]}'
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["X-Count"] == "3" and seen["headers"]["X-Name"] == "web"
    assert seen["query"] == [["a", "1"], ["tags", "x"], ["tags", "y"]]
    assert seen["cookies"] == {"flavour": "oat"}


async def test_dict_body_is_sent_as_json_text(catalogue: ActionCatalogue, base_url: str) -> None:
    out = await _http(catalogue, url=f"{base_url}/echo", method="PUT", body={"k": "v"})
    assert out.output["content"]["body"] == '{"k": "v"}'


async def test_body_and_json_together_are_refused(
    catalogue: ActionCatalogue, base_url: str
) -> None:
    out = await _http(catalogue, url=f"{base_url}/echo", body="a", json={"b": 1})
    assert out.error == "Only one of the parameters 'json' and 'body' can be passed"


async def test_text_content_stays_text(catalogue: ActionCatalogue, base_url: str) -> None:
    out = await _http(catalogue, url=f"{base_url}/text")
    assert out.output["content"] == "plain words"


@pytest.mark.parametrize("auth", ["alice:s3cret", ["alice", "s3cret"]])
async def test_basic_auth(catalogue: ActionCatalogue, base_url: str, auth: Any) -> None:
    out = await _http(catalogue, url=f"{base_url}/basic", auth=auth)
    assert out.output["content"] == {"user": "alice"}


@pytest.mark.parametrize("code", [400, 404, 500, 503, 307])
async def test_error_statuses_fail_with_status_and_body(
    catalogue: ActionCatalogue, base_url: str, code: int
) -> None:
    out = await _http(catalogue, url=f"{base_url}/status/{code}")
    assert out.state == "ERROR"
    assert out.error is not None
    assert f"returned {code}" in out.error and f"failure body {code}" in out.error
    assert out.output["status"] == code
    assert out.output["content"] == f"failure body {code}"


async def test_wrong_password_is_a_401_error(catalogue: ActionCatalogue, base_url: str) -> None:
    out = await _http(catalogue, url=f"{base_url}/basic", auth="alice:nope")
    assert out.state == "ERROR" and out.output["status"] == 401


async def test_redirects_are_not_followed_by_default_as_in_mistral(
    catalogue: ActionCatalogue, base_url: str
) -> None:
    out = await _http(catalogue, url=f"{base_url}/redirect")
    assert out.state == "SUCCESS" and out.output["status"] == 302
    followed = await _http(catalogue, url=f"{base_url}/redirect", allow_redirects=True)
    assert followed.output["content"] == "plain words"
    assert followed.output["history"][0]["status"] == 302


async def test_response_cookies(catalogue: ActionCatalogue, base_url: str) -> None:
    out = await _http(catalogue, url=f"{base_url}/cookie")
    assert out.output["cookies"] == {"session": "abc"}


async def test_request_timeout_input(catalogue: ActionCatalogue, base_url: str) -> None:
    out = await _http(catalogue, url=f"{base_url}/slow", timeout=0.2)
    assert out.state == "ERROR"
    assert out.error is not None and "within 0.2 s" in out.error


async def test_catalogue_timeout_applies_to_http(catalogue: ActionCatalogue, base_url: str) -> None:
    out = await catalogue.run("std.http", {"url": f"{base_url}/slow"}, ALLOW, timeout_s=0.2)
    assert out.error == "Action 'std.http' timed out after 0.2 s"


async def test_response_size_limit(catalogue: ActionCatalogue, base_url: str) -> None:
    ctx = ALLOW.model_copy(
        update={
            "settings": ActionSettings(allow_private_networks=True, http_max_response_bytes=1000)
        }
    )
    out = await _http(catalogue, ctx, url=f"{base_url}/big")
    assert out.state == "ERROR" and out.error is not None and "exceeds 1000 bytes" in out.error


async def test_connection_refused_is_reported(catalogue: ActionCatalogue) -> None:
    out = await _http(catalogue, url="http://127.0.0.1:9/nothing")
    assert out.state == "ERROR"
    assert out.error is not None and out.error.startswith("Failed to send HTTP request:")


async def test_unsupported_scheme(catalogue: ActionCatalogue) -> None:
    out = await _http(catalogue, url="file:///etc/passwd")
    assert out.error == "Failed to send HTTP request: unsupported URL scheme 'file'"


async def test_mistral_http_sends_execution_headers_and_is_async(
    catalogue: ActionCatalogue, base_url: str
) -> None:
    received: list[dict[str, str]] = []

    async def capture(request: web.Request) -> web.Response:
        received.append(dict(request.headers))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/hook", capture)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        out = await catalogue.run("std.mistral_http", {"url": url, "method": "POST"}, ALLOW)
    finally:
        await runner.cleanup()
    assert out.state == "SUCCESS" and out.is_async and out.output is None
    headers = received[0]
    assert headers["Mistral-Workflow-Name"] == "wf"
    assert headers["Mistral-Workflow-Execution-Id"] == "ex-1"
    assert headers["Mistral-Task-Id"] == "task-1"
    assert headers["Mistral-Action-Execution-Id"] == "ae-1"
    assert headers["Mistral-Callback-URL"] == "http://squall.test:8989/v2/action_executions/ae-1"


async def test_mistral_http_error_is_reported_at_once(
    catalogue: ActionCatalogue, base_url: str
) -> None:
    out = await catalogue.run("std.mistral_http", {"url": f"{base_url}/status/500"}, ALLOW)
    assert out.state == "ERROR" and not out.is_async


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
async def https_url(tls_files: TlsFiles) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/text", _text)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls_files.server_context()).start()
    yield f"https://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_an_untrusted_certificate_is_refused_by_default(
    catalogue: ActionCatalogue, https_url: str
) -> None:
    out = await _http(catalogue, url=f"{https_url}/text")
    assert out.state == "ERROR"
    assert out.error == (
        f"Failed to send HTTP request: certificate verify failed for {https_url[8:]}: "
        "unable to get local issuer certificate; set verify to the CA bundle that signed it "
        "(or false to skip the check)"
    )


async def test_verify_false_accepts_an_untrusted_certificate(
    catalogue: ActionCatalogue, https_url: str
) -> None:
    out = await _http(catalogue, url=f"{https_url}/text", verify=False)
    assert out.state == "SUCCESS", out.error
    assert out.output["content"] == "plain words"


async def test_verify_with_a_ca_bundle_accepts_its_certificates(
    catalogue: ActionCatalogue, https_url: str, tls_files: TlsFiles
) -> None:
    out = await _http(catalogue, url=f"{https_url}/text", verify=str(tls_files.ca_file))
    assert out.state == "SUCCESS", out.error
    assert out.output["content"] == "plain words"


async def test_verify_with_another_ca_bundle_is_refused(
    catalogue: ActionCatalogue, https_url: str, tmp_path: Path
) -> None:
    other = make_tls_files(tmp_path)
    out = await _http(catalogue, url=f"{https_url}/text", verify=str(other.ca_file))
    assert out.error is not None and "certificate verify failed" in out.error


async def test_verify_naming_a_missing_ca_bundle_says_so(
    catalogue: ActionCatalogue, https_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.pem"
    out = await _http(catalogue, url=f"{https_url}/text", verify=str(missing))
    assert out.error == (
        f"Failed to send HTTP request: verify: cannot read the CA bundle {missing}: "
        "No such file or directory"
    )
