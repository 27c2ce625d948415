"""The generic HTTP API of every registered entity, and its OpenAPI description.

For ``<plugin>.<entity>`` with collection ``<collection>``:
``GET|POST /api/v1/<plugin>/<collection>`` and ``GET|PATCH|DELETE .../{id}``.
Bodies are parsed here (decimals stay ``Decimal``) and checked by the entity service;
the OpenAPI operations and component schemas are generated from the same fields, so the
document always says exactly what the handlers accept and return.
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Operation
from litestar.params import FromPath, RawBody

from erp_core.api.auth import AUTHENTICATED_BY_HANDLER, principal_on
from erp_core.context import Context
from erp_core.entities.query import base_select
from erp_core.entities.registry import RegisteredEntity
from erp_core.entities.service import EntityService
from erp_core.errors import ValidationError
from erp_core.idempotency import StoredResponse, check_key, fingerprint, run_once
from erp_core.kernel import Kernel
from erp_core.security.principal import Principal

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')
_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _etag(record: dict[str, Any]) -> str:
    return f'"{record["version"]}"'


def _if_match(request: Request) -> int | None:
    value = request.headers.get("if-match")
    if value is None or value.strip() == "*":
        return None
    match = _IF_MATCH.match(value)
    if not match or len(match.group(1)) > 18:
        raise ValidationError('If-Match must be an ETag from a previous response, such as "3"',
                              {"If-Match": "malformed"})
    return int(match.group(1))


def _json_body(body: RawBody) -> Any:
    if not body.strip():
        raise ValidationError("the request needs a JSON object as its body")
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise ValidationError(f"the body is not valid JSON: {exc}") from None


def _record_response(record: dict[str, Any], status: int = 200,
                     headers: dict[str, str] | None = None) -> Response[Any]:
    # the kernel's read-only entities (audit entries, outbox events) have no version
    etag = {"ETag": _etag(record)} if "version" in record else {}
    return Response(record, status_code=status, headers={**etag, **(headers or {})})


def entity_router(entity: RegisteredEntity, prefix: str) -> Router:
    """A router with the generic routes of one entity: those of its ``operations``, one
    POST per workflow transition, and the record's history."""
    service = EntityService(entity)
    base = f"{prefix}/{entity.plugin}/{entity.collection}"
    docs = EntityOpenAPI(entity)
    operations = entity.declaration.operations
    checked = {"checked_by": "service"}
    handlers: list[Any] = []

    # Reads authenticate on the connection they read with, outside a transaction.
    reads = {**checked, "authentication": AUTHENTICATED_BY_HANDLER}

    @get("/", sync_to_thread=True, operation_class=docs.operation("list"), opt=reads)
    def list_records(request: Request, kernel: NamedDependency[Kernel]) -> dict[str, Any]:
        with kernel.reading_session() as session:
            ctx = Context(kernel, session, principal_on(session, request))
            return service.bind(ctx).list(request.query_params.multi_items())

    @get("/{record_id:int}", sync_to_thread=True, operation_class=docs.operation("get"),
         opt=reads)
    def get_record(record_id: FromPath[int], request: Request,
                   kernel: NamedDependency[Kernel]) -> Response[Any]:
        with kernel.reading_session() as session:
            ctx = Context(kernel, session, principal_on(session, request))
            return _record_response(service.bind(ctx).get(record_id))

    @post("/", sync_to_thread=True, operation_class=docs.operation("create"), opt=checked)
    def create_record(request: Request, body: RawBody, kernel: NamedDependency[Kernel],
                      principal: NamedDependency[Principal]) -> Response[Any]:
        principal.require(f"{entity.name}.create")  # 403 before a malformed body's 422
        payload = _json_body(body)

        def create(session: Any) -> StoredResponse:
            record = service.bind(Context(kernel, session, principal)).create(payload)
            return StoredResponse(201, record, {"ETag": _etag(record),
                                                "Location": f"{base}/{record['id']}"})

        key = request.headers.get("idempotency-key")
        if key is None:
            with kernel.transaction() as session:
                result = create(session)
        else:
            scoped_key = hashlib.sha256(
                f"{principal.user_id or principal.name}:{check_key(key)}".encode()).hexdigest()
            result = run_once(kernel.transaction, scoped_key, fingerprint("POST", base, body),
                              kernel.settings.idempotency_ttl_seconds, create)
        headers = {**result.headers, **({"Idempotent-Replayed": "true"} if result.replayed else {})}
        return Response(result.body, status_code=result.status_code, headers=headers)

    @patch("/{record_id:int}", sync_to_thread=True, operation_class=docs.operation("update"),
           opt=checked)
    def update_record(request: Request, record_id: FromPath[int], body: RawBody,
                      kernel: NamedDependency[Kernel],
                      principal: NamedDependency[Principal]) -> Response[Any]:
        principal.require(f"{entity.name}.update")  # 403 before a malformed body's 422
        payload = _json_body(body)
        expected = _if_match(request)
        with kernel.context(principal) as ctx:
            return _record_response(service.bind(ctx).update(record_id, payload, expected))

    @delete("/{record_id:int}", sync_to_thread=True, operation_class=docs.operation("delete"),
            opt=checked)
    def delete_record(request: Request, record_id: FromPath[int], kernel: NamedDependency[Kernel],
                      principal: NamedDependency[Principal]) -> None:
        principal.require(f"{entity.name}.delete")  # 403 before a malformed If-Match's 422
        expected = _if_match(request)
        with kernel.context(principal) as ctx:
            service.bind(ctx).delete(record_id, expected)

    for operation, handler in (("list", list_records), ("get", get_record),
                               ("create", create_record), ("update", update_record),
                               ("delete", delete_record)):
        if operation in operations:
            handlers.append(handler)

    if entity.declaration.workflow is not None:
        @get("/{record_id:int}/history", sync_to_thread=True,
             operation_class=docs.operation("history"), opt=checked)
        def record_history(record_id: FromPath[int], kernel: NamedDependency[Kernel],
                           principal: NamedDependency[Principal]) -> dict[str, Any]:
            with kernel.context(principal) as ctx:
                return {"items": history(ctx, entity.name, record_id)}

        handlers.append(record_history)
        for transition in entity.declaration.workflow.transitions:
            handlers.append(_transition_handler(entity, transition.name, docs))

    return Router(path=base, route_handlers=handlers, tags=[entity.plugin])


def history(ctx: Context, entity_name: str, record_id: int) -> list[dict[str, Any]]:
    """A record's audit entries, oldest first: creation, changes and transitions with who
    and when. Needs read access to the record itself (and sees only visible records)."""
    ctx.records(entity_name).get(record_id)
    entries = ctx.kernel.entities.get("kernel.audit_entry")
    rows = ctx.session.execute(
        base_select(entries)
        .where(entries.table.c.entity == entity_name, entries.table.c.record_id == record_id)
        .order_by(entries.table.c.id)).mappings().all()
    return [EntityService(entries).to_json(row) for row in rows]


def _transition_handler(entity: RegisteredEntity, name: str, docs: EntityOpenAPI) -> Any:
    @post(f"/{{record_id:int}}/{name}", sync_to_thread=True, status_code=200,
          operation_class=docs.operation("transition", name), opt={"checked_by": "service"},
          name=f"{entity.name}.{name}")
    def fire_transition(record_id: FromPath[int], body: RawBody, kernel: NamedDependency[Kernel],
                        principal: NamedDependency[Principal]) -> Response[Any]:
        transition = entity.declaration.workflow.transition(name)  # type: ignore[union-attr]
        principal.require(transition.permission or f"{entity.name}.{name}")  # before the body
        data = _json_body(body) if body.strip() else {}
        if not isinstance(data, dict):
            raise ValidationError("the body of a transition must be a JSON object")
        with kernel.context(principal) as ctx:
            return _record_response(ctx.fire(entity.name, record_id, name, data))

    return fire_transition


class EntityOpenAPI:
    """OpenAPI 3.1 operations and component schemas generated from an entity's fields."""

    def __init__(self, entity: RegisteredEntity) -> None:
        self.entity = entity
        self.name = entity.schema_name

    def components(self) -> dict[str, Any]:
        fields = self.entity.readable
        read = {"type": "object", "additionalProperties": False,
                "properties": {n: f.json_schema() for n, f in fields.items()},
                "required": list(fields)}
        writable = self.entity.writable
        create = {"type": "object", "additionalProperties": False,
                  "properties": {n: f.json_schema(for_input=True) for n, f in writable.items()},
                  "required": [n for n, f in writable.items() if f.required]}
        update = {"type": "object", "additionalProperties": False,
                  "properties": {**{n: f.json_schema(for_input=True) for n, f in writable.items()},
                                 "version": {"type": "integer", "minimum": 1,
                                             "maximum": 2 ** 31 - 1,
                                             "description": "Fail with 409 unless the record"
                                                            " is still at this version."}}}
        if not create["required"]:
            del create["required"]
        page = {"type": "object", "additionalProperties": False,
                "required": ["items", "next_cursor"],
                "properties": {"items": {"type": "array",
                                         "items": {"$ref": f"#/components/schemas/{self.name}"}},
                               "next_cursor": {"type": ["string", "null"]},
                               "total": {"type": "integer", "minimum": 0}}}
        return {self.name: read, f"{self.name}Create": create, f"{self.name}Update": update,
                f"{self.name}Page": page}

    def _parameters(self, kind: str) -> list[dict[str, Any]]:
        if kind == "create":
            return []
        if kind != "list":
            id_schema = {k: v for k, v in self.entity.fields["id"].json_schema().items()
                         if k in ("minimum", "maximum")}
            params = [{"name": "record_id", "in": "path", "required": True,
                       "schema": {"type": "integer", **id_schema}}]
            if kind in ("update", "delete"):
                params.append({"name": "If-Match", "in": "header", "required": False,
                               "schema": {"type": "string"},
                               "description": "ETag of the version you read; stale: 412."})
            return params
        params = [
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "next_cursor of the previous page."},
            {"name": "sort", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "Comma-separated fields, `-` for descending: "
                            + ", ".join(sorted({*self.entity.sortable, "id"}))},
            {"name": "total", "in": "query", "required": False, "schema": {"type": "boolean"}},
        ]
        for name, field in self.entity.filterable.items():
            schema = {k: v for k, v in field.json_schema().items() if k not in ("enum",)}
            schema["type"] = "string"
            ranges = () if field.kind in ("boolean", "json") else ("__gte", "__lte", "__gt",
                                                                     "__lt")
            for op in ("", *ranges, "__in",
                       *(("__contains",) if field.kind == "string" else ())):
                params.append({"name": name + op, "in": "query", "required": False,
                               "schema": {"type": "string"}})
        return params

    def _responses(self, kind: str) -> dict[str, Any]:
        ref = {"$ref": f"#/components/schemas/{self.name}"}
        etag = {"ETag": {"schema": {"type": "string"}}}
        problem = {"content": {"application/problem+json": {"schema": _PROBLEM}}}
        errors = {"400": {"description": "Malformed request", **problem},
                  "401": {"description": "Not authenticated", **problem},
                  "403": {"description": "Not allowed", **problem},
                  "422": {"description": "Invalid input", **problem}}
        if kind != "list":
            errors["404"] = {"description": "No such record", **problem}
        if kind in ("create", "update", "delete"):
            errors["409"] = {"description": "Conflict with the current data", **problem}
        if kind in ("update", "delete"):
            errors["412"] = {"description": "Stale If-Match", **problem}
        if kind == "transition":
            errors["409"] = {"description": "Wrong state, or vetoed", **problem}
        ok: dict[str, Any]
        if kind == "history":
            ok = {"200": {"description": "Audit entries of the record, oldest first", "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["items"], "additionalProperties": False,
                    "properties": {"items": {"type": "array", "items": {
                        "$ref": "#/components/schemas/KernelAuditEntry"}}}}}}}}
        elif kind == "list":
            ok = {"200": {"description": f"A page of {self.entity.name}", "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{self.name}Page"}}}}}
        elif kind == "create":
            ok = {"201": {"description": "Created", "headers": etag,
                          "content": {"application/json": {"schema": ref}}}}
        elif kind == "delete":
            ok = {"204": {"description": "Deleted"}}
        else:
            ok = {"200": {"description": self.entity.name, "headers": etag,
                          "content": {"application/json": {"schema": ref}}}}
        return {**ok, **errors}

    def operation(self, kind: str, transition: str | None = None) -> type[Operation]:
        entity = self.entity
        document: dict[str, Any] = {
            "tags": [entity.plugin],
            "summary": {"list": f"List {entity.collection}", "get": f"Get one {entity.name}",
                        "create": f"Create a {entity.name}", "update": f"Update a {entity.name}",
                        "delete": f"Delete a {entity.name}",
                        "history": f"History of a {entity.name}",
                        "transition": f"Fire {transition!r} on a {entity.name}"}[kind],
            "operationId": f"{transition or kind}_{entity.name.replace('.', '_')}",
            "parameters": self._parameters(kind),
            "security": [{"bearer": []}],
            "responses": self._responses(kind),
        }
        if entity.declaration.description:
            document["description"] = entity.declaration.description
        if kind in ("create", "update"):
            suffix = "Create" if kind == "create" else "Update"
            document["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{self.name}{suffix}"}}}}
        if kind == "transition":
            document["requestBody"] = {"required": False, "content": {"application/json": {
                "schema": {"type": "object", "description": "Optional data for the"
                           " transition's subscribers, e.g. {\"reason\": \"...\"}."}}}}
        if kind == "create":
            document["parameters"].append({
                "name": "Idempotency-Key", "in": "header", "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                "description": "Repeat a request safely: the same key and body return the"
                               " first response."})

        class GeneratedOperation(Operation):
            def to_schema(self) -> dict[str, Any]:
                return document

        return GeneratedOperation


PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
