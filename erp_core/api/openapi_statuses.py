"""The error statuses of every operation in the OpenAPI document, from what the route declares.

A route handler says what it needs (``opt``: public, a permission, any token) and takes
parameters and a body; from those the kernel knows which problems it can answer, so each
operation of the document, a plugin's hand-written ones as well as the generated ones, lists
them with the ``Problem`` schema, and a public operation says it needs no token. Plugin
authors get this without writing a ``responses=`` of their own; what a handler declares
itself is kept. A route that reads its body raw (``RawBody``, checked by a service)
describes it with ``opt={"request_body": <JSON schema>}``.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

from erp_core.api.problems import PROBLEM_MEDIA_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_DESCRIPTIONS = {
    "400": "Malformed request",
    "401": "No valid token (`Authorization: Bearer <token>`)",
    "403": "The token's user lacks the permission",
    "404": "No such record (in the path, or named by the body)",
    "409": "Conflict with the current data: wrong state, vetoed, or changed meanwhile",
    "415": "The body is not JSON (send `Content-Type: application/json`)",
    "422": "Invalid input; `errors` names each field and what is wrong",
    "503": "The database is busy or unavailable; retry after `Retry-After` seconds",
}
_HEADERS = {
    "401": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    "405": {"Allow": {"schema": {"type": "string"}}},
    "503": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}},
}


def problem_response(status: str, description: str | None = None) -> dict[str, Any]:
    """An OpenAPI response: ``application/problem+json`` with the ``Problem`` schema."""
    response: dict[str, Any] = {"description": description or _DESCRIPTIONS.get(status, "Error"),
                                "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}}
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def error_statuses(opt: dict[str, Any], method: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses an operation can answer, from its route's declarations."""
    parameters = operation.get("parameters") or []
    has_path = any(p.get("in") == "path" for p in parameters)
    has_input = bool(parameters) or "requestBody" in operation
    statuses = ["503"]
    if not opt.get("public"):
        statuses.append("401")
        if not opt.get("authenticated") or "permission" in opt:
            statuses.append("403")
    if has_input:
        statuses += ["400", "422"]
    if has_path or "requestBody" in operation:
        statuses.append("404")
    if "requestBody" in operation:
        statuses.append("415")
    if method in WRITE_METHODS:
        statuses.append("409")
    return statuses


def complete_statuses(app: Litestar, document: dict[str, Any]) -> None:
    """Add to every operation of ``document`` (the dict served as ``openapi.json``) the
    problems it can answer, and ``security: []`` to public ones; in place."""
    paths = document.get("paths", {})
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in paths:
            continue
        item = paths[route.path_format]
        for handler in route.route_handlers:
            for method in handler.http_methods - {"HEAD", "OPTIONS"}:
                operation = item.get(method.lower())
                if operation is None:
                    continue
                if handler.opt.get("public"):
                    operation["security"] = []
                if "request_body" in handler.opt and "requestBody" not in operation:
                    operation["requestBody"] = {"required": True, "content": {
                        "application/json": {"schema": handler.opt["request_body"]}}}
                responses = operation.setdefault("responses", {})
                for status in error_statuses(handler.opt, method, operation):
                    responses.setdefault(status, problem_response(status))
                for status, response in responses.items():
                    if status[0] in "45":  # Litestar's own schema for 400, or a bare object
                        responses[status] = {**problem_response(status, response.get(
                            "description")), **({"headers": response["headers"]}
                                                if response.get("headers") else {})}
                operation["responses"] = dict(sorted(responses.items()))
