"""Bearer-token authentication and route-level permission checks, for every route.

Every route needs a valid token except ``/health`` and the OpenAPI document. A route a
plugin contributes must say what it needs in its ``opt``: ``{"permission": "<name>"}``,
``{"authenticated": True}`` (any valid token) or ``{"public": True}`` (e.g. a webhook that
checks its own signature). A route that says nothing is refused to everyone, so a
forgotten declaration fails closed.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from erp_core.errors import AuthenticationRequired, PermissionDenied
from erp_core.security.accounts import authenticate
from erp_core.security.principal import Principal

PUBLIC_PATH_PREFIXES = ("/schema",)
ROUTE_DECLARATIONS = ("permission", "authenticated", "public", "checked_by")


class _Marker:
    """A value only the kernel holds; Litestar's copies of a handler's ``opt`` keep it."""

    def __copy__(self) -> _Marker:
        return self

    def __deepcopy__(self, _memo: Any) -> _Marker:
        return self


AUTHENTICATED_BY_HANDLER = _Marker()
"""The value of a kernel route's ``opt["authentication"]`` when its handler resolves the
principal itself, on the connection it reads with, in the thread it already runs in
(``principal_on``): one thread hop and one connection per request instead of two. Only
the kernel's own routes carry it; a plugin route cannot name it, so it cannot opt out
of the guard."""


def _token(header: str | None) -> str:
    if not header:
        raise AuthenticationRequired("send an API token: `Authorization: Bearer <token>`"
                                     " (create one with `erp tokens create USER`)")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired("the Authorization header must be `Bearer <token>`")
    return token.strip()


def _resolve(kernel: Any, header: str | None) -> Principal:
    token = _token(header)
    with kernel.reading() as connection:  # one round trip per request
        return authenticate(connection, token, kernel.permissions)


def principal_on(session: Any, request: Request[Any, Any, Any]) -> Principal:
    """The principal of ``request``, read through ``session``, for a handler whose route
    carries ``AUTHENTICATED_BY_HANDLER``; kept in the request's state like the guard's."""
    kernel = request.app.state.kernel
    principal = authenticate(session.connection(),  # a Core read: no ORM execution path
                             _token(request.headers.get("authorization")), kernel.permissions)
    request.state.principal = principal
    return principal


async def require_token(connection: ASGIConnection[Any, Any, Any, Any],
                        handler: BaseRouteHandler) -> None:
    """Litestar guard: resolve the principal into ``connection.state.principal``, then
    check the route's declared permission."""
    opt = handler.opt
    if opt.get("public") or connection.url.path.startswith(PUBLIC_PATH_PREFIXES):
        return
    if opt.get("authentication") is AUTHENTICATED_BY_HANDLER:
        _token(connection.headers.get("authorization"))  # a missing header: 401 at once
        return
    kernel = connection.app.state.kernel
    header = connection.headers.get("authorization")
    principal = await anyio.to_thread.run_sync(_resolve, kernel, header)
    connection.state.principal = principal
    if "permission" in opt:
        principal.require(opt["permission"])
    elif not (opt.get("authenticated") or opt.get("checked_by")):
        raise PermissionDenied(f"the route {connection.url.path} declares no permission;"
                               " it is refused until its plugin declares one")


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    """The ``principal`` dependency of route handlers."""
    principal = request.state.get("principal")
    if principal is None:
        raise AuthenticationRequired("this route needs an API token")
    return principal
