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


def resolve_principal(kernel: Any, header: str | None) -> Principal:
    """The principal of an `Authorization` header, or `AuthenticationRequired`."""
    if not header:
        raise AuthenticationRequired("send an API token: `Authorization: Bearer <token>`"
                                     " (create one with `erp tokens create USER`)")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired("the Authorization header must be `Bearer <token>`")
    with kernel.reading() as connection:  # one round trip per request
        return authenticate(connection, token.strip(), kernel.permissions)


async def require_token(connection: ASGIConnection[Any, Any, Any, Any],
                        handler: BaseRouteHandler) -> None:
    """Litestar guard: resolve the principal into ``connection.state.principal``, then
    check the route's declared permission."""
    opt = handler.opt
    if opt.get("public") or connection.url.path.startswith(PUBLIC_PATH_PREFIXES):
        return
    kernel = connection.app.state.kernel
    header = connection.headers.get("authorization")
    principal = await anyio.to_thread.run_sync(resolve_principal, kernel, header)
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
