"""``Records``: what ``Context.records(entity)`` gives plugin code, as a typed interface.

The entity service implements it; plugins program against this protocol, so the
service's internals can change without breaking them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Records(Protocol):
    """CRUD of one entity for the context's principal, in the context's transaction.

    Every method checks the principal's permission (``<entity>.read``, ``create``,
    ``update``, ``delete``) and record rules; records are plain dicts as the API shows
    them. Every write leaves an audit row and an outbox event.
    """

    def get(self, record_id: int, *, lock: bool = False, for_key_change: bool = False
            ) -> dict[str, Any]:
        """One record (``NotFoundError`` when it does not exist for the principal);
        ``lock`` holds its row until the transaction ends."""
        ...

    def list(self, params: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """One page, with the API's query parameters (``[("state", "draft")]``):
        ``{"items": [...], "next_cursor": str | None}``."""
        ...

    def create(self, payload: Any, *, computed: Mapping[str, Any] | None = None
               ) -> dict[str, Any]:
        """Create a record from ``payload``; ``computed`` holds values of read-only
        fields the owning plugin works out itself."""
        ...

    def update(self, record_id: int, payload: Any,
               expected_version: int | None = None) -> dict[str, Any]:
        """Change the given fields; with ``expected_version``, only if the record is
        still at that version."""
        ...

    def delete(self, record_id: int, expected_version: int | None = None) -> None:
        """Delete the record (``ConflictError`` when the entity allows no deletes)."""
        ...

    def instance(self, record: Mapping[str, Any]) -> Any:
        """The SQLAlchemy model object of ``record``, without reading it again when the
        transaction holds it."""
        ...
