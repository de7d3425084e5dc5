"""The example plugin package: pip-installed, listed by the catalogue, and run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from actions.catalogue import ActionCatalogue, ActionContext

PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "plugin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin pip-installed into a private target directory (the venv stays as is)."""
    target = tmp_path_factory.mktemp("plugin-site")
    # Built from a copy: setuptools writes build files next to the sources.
    source = shutil.copytree(PLUGIN, tmp_path_factory.mktemp("plugin-src") / "plugin")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    command += ["--no-build-isolation", "--target", str(target), str(source)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return target


@pytest.fixture
def catalogue(installed: Path, monkeypatch: pytest.MonkeyPatch) -> ActionCatalogue:
    monkeypatch.syspath_prepend(str(installed))
    return ActionCatalogue.default()


def test_the_installed_plugin_is_listed_with_its_signature(catalogue: ActionCatalogue) -> None:
    (info,) = [i for i in catalogue.list() if i.name == "example.greet"]
    assert info.input == 'name, greeting="Hello", excited=false'
    assert "Greet someone" in info.description
    assert catalogue.load_errors == {}


async def test_the_installed_plugin_runs(catalogue: ActionCatalogue) -> None:
    ctx = ActionContext(execution_id="exec-1")
    outcome = await catalogue.run("example.greet", {"name": "ops", "excited": True}, ctx)
    assert outcome.state == "SUCCESS", outcome.error
    assert outcome.output == {"message": "Hello, ops!", "execution_id": "exec-1"}


async def test_its_input_model_and_failures_are_specific(catalogue: ActionCatalogue) -> None:
    bad = await catalogue.run("example.greet", {"name": ""}, ActionContext())
    assert bad.state == "ERROR" and "'name'" in (bad.error or "")
    refused = await catalogue.run("example.greet", {"name": "nobody"}, ActionContext())
    assert refused.error == "example.greet: refusing to greet 'nobody'"
