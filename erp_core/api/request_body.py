"""Decoding JSON request bodies, once for every route: what no route should see.

A route that takes JSON (a ``data`` parameter, or ``body: RawBody`` on a route that needs
a token) gets its body only if it is JSON by its ``Content-Type`` (else 415), parses,
nests at most ``MAX_DEPTH`` arrays and objects deep, and holds no NUL character in a
string or key (no database stores one, and PostgreSQL's refusal would be a 500); anything
else is a 422 problem naming what is wrong, before the route runs. Litestar decodes
``data`` parameters through ``ErpRequest.json``; routes that parse a raw body call
``decode_json_body``, and the guard ``check_request_input`` checks the raw body of the
others before they run. A public route's raw body (a signed webhook) is the sender's
format and reaches its route as sent. The same guard refuses NUL characters in path and
query parameters, on every route.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import SerializationException
from litestar.handlers import BaseRouteHandler

from erp_core.errors import ErpError, ValidationError
from erp_core.json_text import check_decoded, parse_json, too_deep

_JSON_MEDIA_TYPE = re.compile(r"application/(?:[\w.+-]+\+)?json", re.IGNORECASE)


class UnsupportedMediaType(ErpError):
    """The body is not in a format the route takes."""

    status_code = 415
    title = "Unsupported media type"


def is_json_media_type(content_type: str | None) -> bool:
    media_type = (content_type or "").partition(";")[0].strip()
    return bool(_JSON_MEDIA_TYPE.fullmatch(media_type))


def check_json_body(content_type: str | None, body: bytes) -> None:
    """Refuse a body that is not declared JSON, before any parser runs. An empty body is
    left to the route (it may be optional)."""
    if body.strip() and not is_json_media_type(content_type):
        raise UnsupportedMediaType(
            f"the body must be JSON, sent with `Content-Type: application/json`"
            f" (got {(content_type or 'no Content-Type')!r})")


def decode_json_body(content_type: str | None, body: bytes) -> Any:
    """A raw JSON body decoded (numbers with a fraction as ``Decimal``), or a problem."""
    if body.strip():
        check_json_body(content_type, body)
    return parse_json(body)


class ErpRequest(Request):  # type: ignore[type-arg]
    """Litestar's request, whose ``json()`` (what fills a route's ``data``) refuses what
    ``check_json_body`` and ``check_decoded`` refuse, with a problem naming it."""

    async def json(self) -> Any:
        body = await self.body()
        check_json_body(self.headers.get("content-type"), body)
        try:
            value = await super().json()
        except RecursionError:
            raise too_deep() from None
        except SerializationException as exc:
            raise ValidationError(f"the body is not valid JSON: {exc}",
                                  {"body": "not JSON"}) from None
        check_decoded(body, value)
        return value


async def check_request_input(connection: ASGIConnection[Any, Any, Any, Any],
                              handler: BaseRouteHandler) -> None:
    """Litestar guard, after the token's: a NUL character in a path or query parameter is
    a 422 naming the parameter, before the route looks anything up with it; and the raw
    body of a route that takes ``body: RawBody`` and needs a token passes the checks of
    ``decode_json_body`` (a route checked by its service decodes it so itself, after its
    permission check)."""
    scope = connection.scope
    if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
        values = [*connection.path_params.items(), *connection.query_params.multi_items()]
        for name, value in values:
            if isinstance(value, str) and "\x00" in value:
                raise ValidationError(f"the parameter {name!r} must not contain NUL characters",
                                      {name: "contains a NUL character"})
        raise ValidationError("the URL must not contain NUL characters",
                              {"url": "contains a NUL character"})
    opt = handler.opt
    if ("body" in handler.parsed_fn_signature.parameters and not opt.get("public")
            and not opt.get("checked_by") and isinstance(connection, Request)):
        body = await connection.body()
        if body.strip():
            decode_json_body(connection.headers.get("content-type"), body)
