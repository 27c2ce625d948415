"""The one mapping from exceptions to ``application/problem+json`` (RFC 9457) responses.

Every error response of the API goes through here: a person reads ``title`` and
``detail``; a program reads ``type``, ``status`` and, for invalid input, ``errors``
(field -> message). Unexpected exceptions become a 500 without a stack trace, logged.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

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
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationError) and exc.errors:
        extra["errors"] = exc.errors
    if exc.status_code >= 500 and not isinstance(exc, TransientConflict):
        log.error("%s", exc.message)
    return problem(exc.status_code, exc.title, exc.message,
                   PROBLEM_TYPE_BASE + _slug(type(exc).__name__), **extra)


def _validation(_request: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    errors: dict[str, str] = {}
    for item in exc.extra or []:
        if isinstance(item, dict):
            errors[str(item.get("key") or item.get("source") or "body")] = str(item.get("message"))
    return problem(400, "Bad request", exc.detail or "the request is malformed",
                   PROBLEM_TYPE_BASE + "bad-request", **({"errors": errors} if errors else {}))


def _http(request: Request, exc: HTTPException) -> Response[dict[str, Any]]:
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
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "Internal server error",
                   "the server failed to handle this request; the error has been logged")


EXCEPTION_HANDLERS = {
    ErpError: _erp_error,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _unexpected,
}
