"""The hot paths of the service: how a routing request and a ledger write skip FastAPI's per-request machinery.

Three pieces, all here:

- :class:`LeanRoute`, a route class documented like any other but called
  without dependency solving and generic response handling;
- :class:`LeanLedgerRoute`, the same for the ledger's writes: the ledger and
  the key found directly, the path and header parameters checked by
  FastAPI's own field validation, the body by pydantic-core in one pass;
- :func:`put_first`, which splices routers' routes ahead of every other
  route of the app (Starlette matches routes one after another; each match
  costs 1–2 µs in-process, and more through an included router).

    >>> app, fast = FastAPI(), APIRouter(prefix="/regions/{region}/echo")
    >>> @fast.get("")
    ... async def echo(region: str) -> str:
    ...     return region
    >>> put_first(app, fast)
    >>> [getattr(r, 'path', None) for r in app.router.routes][:2]
    ['/regions/{region}/echo', '/openapi.json']
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.routing import request_response

from service.deps import find_region, get_key, get_ledger, get_ledger_key


class LeanRoute(APIRoute):
    """A regional ``POST`` route whose endpoint is ``endpoint(served_region, body_model, http) -> Response``
    (``http`` the Starlette request, for its headers).

    The body is parsed and validated in one pass by pydantic-core (the
    endpoint's second parameter names the model) and the endpoint returns a
    ready :class:`Response`, about a third of the time of a request in-process.
    Errors take the same road as FastAPI's own (:mod:`service.errors`). It is
    called through Starlette's request/response adapter, not FastAPI's copy,
    which opens two exit stacks per request for dependencies with ``yield``
    (this route has none).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_body_size is None:  # body size is limited by the service's middleware
            self.app = request_response(self.get_route_handler())

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        if self.body_field is None:
            raise TypeError(f"{self.path}: a LeanRoute endpoint takes a request body model")
        model: type[BaseModel] = self.body_field.field_info.annotation  # type: ignore[assignment]

        async def handle(http: Request) -> Response:
            served = find_region(http, http.path_params["region"])
            try:
                request = model.model_validate_json(await http.body())
            except ValidationError as err:
                raise RequestValidationError(err.errors()) from None
            return await endpoint(served, request, http)

        return handle


class LeanLedgerRoute(APIRoute):
    """A ledger write route whose endpoint takes the ledger (``get_ledger``), the key (``get_key``), path and
    header parameters, an optional JSON body model and the request, and returns a ready :class:`Response`.

    Per request it finds the ledger and the key as their dependencies would (503, 401), checks the path and
    header parameters with FastAPI's own field validation and the body with pydantic-core in one pass (422 with
    the same ``loc`` as FastAPI's), then runs a plain ``def`` endpoint in the thread pool. Its OpenAPI entry is
    FastAPI's, from the same signature. Dependencies other than the ledger and the key are refused when the
    route is built.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_body_size is None:  # body size is limited by the service's middleware
            self.app = request_response(self.get_route_handler())

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        dependant, endpoint = self.dependant, self.endpoint
        known: dict[Any, str] = {get_ledger: "ledger", get_key: "key", get_ledger_key: "key"}
        known_keys: dict[Any, Callable[[Any, str | None], Coroutine[Any, Any, Any]]] = {
            get_key: get_key, get_ledger_key: get_ledger_key}
        names: dict[str, str] = {}  # "ledger" / "key" -> the endpoint's parameter
        find_key: Callable[[Any, str | None], Coroutine[Any, Any, Any]] = get_key
        for sub in dependant.dependencies:
            if sub.call not in known or sub.name is None:
                raise TypeError(f"{self.path}: a LeanLedgerRoute depends on the ledger and the key only")
            names[known[sub.call]] = sub.name
            if known[sub.call] == "key":
                find_key = known_keys[sub.call]
        if dependant.query_params or dependant.cookie_params:
            raise TypeError(f"{self.path}: a LeanLedgerRoute takes path and header parameters and a body only")
        body_name, model, optional = None, None, False
        if self.body_field is not None:
            body_name = self.body_field.name
            model, optional = _body_model(self.body_field.field_info.annotation)
        is_async = inspect.iscoroutinefunction(endpoint)

        async def handle(http: Request) -> Response:
            ledger = await get_ledger(http)
            key = await find_key(ledger, http.headers.get("authorization"))
            values, errors = request_params_to_args(dependant.path_params, http.path_params)
            headers, header_errors = request_params_to_args(dependant.header_params, http.headers)
            values.update(headers)
            errors += header_errors
            if body_name is not None and model is not None:
                raw = await http.body()
                if raw and not (optional and raw.strip() == b"null"):  # JSON null: the optional body left out
                    try:
                        values[body_name] = model.model_validate_json(raw)
                    except ValidationError as err:
                        errors += [{**e, "loc": ("body", *e["loc"])} for e in err.errors()]
                elif optional:
                    values[body_name] = None
                else:
                    errors.append({"type": "missing", "loc": ("body",), "msg": "Field required", "input": None})
            if errors:
                raise RequestValidationError(errors)
            if "ledger" in names:
                values[names["ledger"]] = ledger
            if "key" in names:
                values[names["key"]] = key
            if dependant.request_param_name:
                values[dependant.request_param_name] = http
            if is_async:
                return await endpoint(**values)
            return await run_in_threadpool(endpoint, **values)

        return handle


def _body_model(annotation: Any) -> tuple[type[BaseModel], bool]:
    """The body's model, and whether the body may be left out (``Model | None``)."""
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) or typing.get_origin(
        annotation) is typing.Union else (annotation,)
    models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    if len(models) != 1:
        raise TypeError(f"a LeanLedgerRoute body must be one pydantic model (or it or None), got {annotation!r}")
    return models[0], type(None) in args


def put_first(app: FastAPI, *routers: APIRouter) -> None:
    """Place the ``routers``' routes (their prefixes already applied), in this order, ahead of the app's own
    routes and every included router: the app's route list is matched in order, an included router as one
    entry (matching the ledger's writes behind every other router cost a quarter of their time)."""
    app.router.routes[0:0] = [route for router in routers for route in router.routes]
