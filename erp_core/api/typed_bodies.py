"""Hand-written routes with typed request bodies, documented from the same declaration.

``body_operation(PlaceOrder)`` is the ``operation_class`` of a route whose handler reads
its body with ``read_body(PlaceOrder, body)``: the OpenAPI document then shows the
body's schema (money as decimal strings with their pattern and bounds), so what a
client or a fuzzer reads is exactly what the handler checks.
"""

from __future__ import annotations

from typing import Any

from litestar.openapi.spec import Operation

from erp_core.entities.typed import schema_of


def body_operation(cls: type, *, description: str | None = None) -> type[Operation]:
    """An ``operation_class`` documenting the typed class ``cls`` as the JSON body."""
    schema = schema_of(cls)
    if description:
        schema = {**schema, "description": description}

    class TypedBodyOperation(Operation):
        def to_schema(self) -> dict[str, Any]:
            document = super().to_schema()
            document["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": schema}}}
            return document

    return TypedBodyOperation
