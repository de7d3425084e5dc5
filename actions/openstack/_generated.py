"""Actions generated from openstacksdk's service proxies: ``openstack.<service>.<method>``.

Every public method of a proxy (``conn.compute.create_server``) becomes an action
whose inputs are the method's parameters, plus ``cloud`` and ``action_region``. A
method taking ``**attrs`` accepts any further input, passed through to the SDK.
Input models are built on first use: there are about a thousand of them.
"""

from __future__ import annotations

import importlib
import inspect
import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

from openstack.connection import Connection
from openstack.proxy import Proxy
from pydantic import BaseModel, ConfigDict, Field, create_model

from actions.catalogue import Action, ActionContext
from actions.openstack._connect import OpenStackClients
from actions.openstack._results import to_json

#: The services exposed, with the proxy module of the API version used.
SERVICES: dict[str, str] = {
    "compute": "openstack.compute.v2._proxy",
    "block_storage": "openstack.block_storage.v3._proxy",
    "image": "openstack.image.v2._proxy",
    "network": "openstack.network.v2._proxy",
    "load_balancer": "openstack.load_balancer.v2._proxy",
    "orchestration": "openstack.orchestration.v1._proxy",
    "dns": "openstack.dns.v2._proxy",
    "identity": "openstack.identity.v3._proxy",
}

#: Inputs every OpenStack action takes besides the method's own.
COMMON_INPUTS = ("cloud", "action_region")

_JSON_TYPES = (bool, int, float, str)


class SdkAction(Action[BaseModel]):
    """One proxy method of openstacksdk, run in the OpenStack thread pool."""

    def __init__(
        self, service: str, method: str, function: types.FunctionType, clients: OpenStackClients
    ) -> None:
        self.name = f"openstack.{service}.{method}"
        self.description = doc_summary(function)
        self._service = service
        self._method = method
        self._function = function
        self._clients = clients
        self._model: type[BaseModel] | None = None

    @property
    def input_model(self) -> type[BaseModel]:
        """The input model, built from the method's signature on first use."""
        if self._model is None:
            self._model = _input_model(self.name, self._function)
        return self._model

    @input_model.setter
    def input_model(self, model: type[BaseModel]) -> None:
        self._model = model

    async def run(self, params: BaseModel, ctx: ActionContext) -> Any:
        """Call the proxy method with the given inputs and return its result as JSON."""
        data = params.model_dump(by_alias=True, exclude_unset=True)
        cloud = data.pop("cloud", None)
        region = data.pop("action_region", None)

        def call(conn: Connection) -> Any:
            method = getattr(getattr(conn, self._service), self._method)
            return to_json(method(**data))

        return await self._clients.call(ctx, self.name, cloud, region, call)


def sdk_actions(clients: OpenStackClients) -> list[SdkAction]:
    """An action for every public method of the proxies in ``SERVICES``."""
    found: list[SdkAction] = []
    for service, module_name in SERVICES.items():
        proxy = importlib.import_module(module_name).Proxy
        for method, function in _public_methods(proxy):
            found.append(SdkAction(service, method, function, clients))
    return found


def _public_methods(proxy: type[Proxy]) -> Iterator[tuple[str, types.FunctionType]]:
    for method, function in inspect.getmembers(proxy, inspect.isfunction):
        if method.startswith("_") or hasattr(Proxy, method):
            continue
        # Waiting belongs in the workflow (retry with a delay), not in a pool thread.
        if method.startswith("wait_for"):
            continue
        params = list(inspect.signature(function).parameters.values())[1:]
        if any(p.kind in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY) for p in params):
            continue
        if any(p.name in COMMON_INPUTS for p in params):
            continue
        yield method, function


def _input_model(name: str, function: types.FunctionType) -> type[BaseModel]:
    fields: dict[str, Any] = {
        "cloud": (str | None, None),
        "action_region": (str | None, None),
    }
    open_ended = False
    for param in list(inspect.signature(function).parameters.values())[1:]:
        if param.kind is param.VAR_KEYWORD:
            open_ended = True
            continue
        annotation = _json_annotation(param.annotation)
        # Parameter names such as ``json`` or ``schema`` clash with BaseModel's own.
        key = f"{param.name}_" if hasattr(BaseModel, param.name) else param.name
        if param.default is inspect.Parameter.empty:
            fields[key] = (annotation, Field(alias=param.name))
        else:
            fields[key] = (
                annotation,
                Field(default=_json_default(param.default), alias=param.name),
            )
    config = ConfigDict(extra="allow" if open_ended else "forbid", populate_by_name=True)
    model_name = "".join(part.title() for part in name.replace(".", "_").split("_")) + "Input"
    model: type[BaseModel] = create_model(model_name, __config__=config, **fields)
    return model


def _json_annotation(annotation: Any) -> Any:
    if annotation in _JSON_TYPES:
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        args = get_args(annotation)
        if all(arg in _JSON_TYPES or arg is type(None) for arg in args):
            return annotation
    return Any


def _json_default(value: Any) -> Any:
    if value is None or isinstance(value, _JSON_TYPES):
        return value
    return None


def doc_summary(function: types.FunctionType) -> str:
    """The first paragraph of a function's docstring, on one line, without RST literals."""
    doc = inspect.getdoc(function) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").replace("``", "").strip()
