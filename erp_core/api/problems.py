"""The one mapping from exceptions to ``application/problem+json`` (RFC 9457) responses.

Every error response of the API goes through here: a person reads ``title`` and
``detail``; a program reads ``type``, ``status`` and, for invalid input, ``errors``
(field -> message). A body a route's typed declaration refuses is a 422 whose ``errors``
name the fields (``lines[0].quantity``), as on the generic routes. A failure of the
server (an unexpected exception, a plugin error) is a 500 saying only that something went
wrong, with the request's id (``request_id``, also in ``X-Request-ID``); the exception,
SQL and parameters go to the log under that id, never to the client.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from erp_core.api.request_ids import request_id
from erp_core.api.retry import mark_transient
from erp_core.errors import ErpError, TransientConflict, ValidationError

log = logging.getLogger("erp.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://erp.invalid/problems/"


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower().removesuffix("-error")


_STATUS_HEADERS = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "1"}}


def problem(status: int, title: str, detail: str, type_: str = "about:blank",
            **extra: Any) -> Response[dict[str, Any]]:
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                    headers=_STATUS_HEADERS.get(status))


def _erp_error(request: Request, exc: ErpError) -> Response[dict[str, Any]]:
    if isinstance(exc, TransientConflict):
        mark_transient(request.scope)
    elif exc.status_code >= 500:
        log.error("request %s: %s %s failed: %s", request_id(request.scope), request.method,
                  request.url.path, exc.message, exc_info=exc)
        return _server_failure(request)
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationError) and exc.errors:
        extra["errors"] = exc.errors
    return problem(exc.status_code, exc.title, exc.message,
                   PROBLEM_TYPE_BASE + _slug(type(exc).__name__), **extra)


_AT_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED_FIELD = re.compile(
    r"^Object (?:missing required|contains unknown) field `(?P<field>[^`]+)`$")


def _field_error(item: dict[str, Any]) -> tuple[str, str]:
    """A Litestar/msgspec validation message as (field path, message): ``Expected `int`,
    got `str``` at ``data.lines[0].product_id`` becomes ``lines[0].product_id``; a missing
    or unknown field is named in the path itself."""
    match = _AT_PATH.match(str(item.get("message") or "invalid"))
    message = match["message"]  # type: ignore[index]
    key = str(item.get("key") or "")
    path = "" if key in ("data", "body") else key.removeprefix("data.")
    at = (match["path"] or "").lstrip(".")  # type: ignore[index]
    if at and not path:
        path = at
    named = _NAMED_FIELD.match(message)
    if named:
        path = f"{path}.{named['field']}" if path else named["field"]
        message = "required" if "missing" in message else "unknown field"
    return path or "body", message


def _validation(_request: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    errors = dict(_field_error(item) for item in exc.extra or [] if isinstance(item, dict))
    detail = "; ".join(f"{field}: {message}" for field, message in errors.items())
    return problem(422, "Invalid input", detail or "the request is invalid",
                   PROBLEM_TYPE_BASE + "validation", **({"errors": errors} if errors else {}))


def _http(request: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    if exc.status_code >= 500:
        log.error("request %s: %s %s failed: %s", request_id(request.scope), request.method,
                  request.url.path, exc.detail, exc_info=exc)
        return _server_failure(request, exc.status_code)
    title = HTTPStatus(exc.status_code).phrase
    detail = exc.detail or title
    if exc.status_code == 404 and detail == title:
        detail = f"there is no {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    response = problem(exc.status_code, title, detail)
    response.headers.update(exc.headers or {})  # `Allow` on a 405
    return response


def _unexpected(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.error("request %s: unexpected error on %s %s", request_id(request.scope),
              request.method, request.url.path, exc_info=exc)
    return _server_failure(request)


def _server_failure(request: Request, status: int = 500) -> Response[dict[str, Any]]:
    rid = request_id(request.scope)
    return problem(status, HTTPStatus(status).phrase,
                   f"the server failed to handle this request; quote request id {rid}"
                   " when reporting it", request_id=rid)


EXCEPTION_HANDLERS = {
    ErpError: _erp_error,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _unexpected,
}
