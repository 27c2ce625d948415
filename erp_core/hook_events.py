"""What transition and write subscribers receive, and how a before-subscriber refuses.

A leaf module: the hookspecs, the dispatcher, the entity service and the workflow engine
all name these types, so they depend on nothing of the kernel but its errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from erp_core.errors import ConflictError


class TransitionVetoed(ConflictError):
    """Raised by a subscriber to refuse a transition; the reason reaches the caller. From
    an after-subscriber it refuses a change already written: the caller's transaction
    must roll back, as every runner does on an error (a context, ``Kernel.run``, the API)."""

    title = "Transition refused"


@attrs.frozen
class TransitionEvent:
    """What transition subscribers receive: which record, which transition, the record.

    ``record`` is the JSON representation before the change for before-subscribers and
    after it for after-subscribers; ``data`` is what the caller sent with the transition
    (e.g. ``{"reason": "..."}`` for a rejection). ``cause`` is the transition whose
    subscriber fired this one, in the same transaction (its own ``cause`` goes further
    back), or ``None`` when a caller fired it directly: a before-subscriber can allow a
    transition only as the consequence of another (an order ships when its shipment is
    handed over), which no caller can claim through ``data``.
    """

    entity: str
    record_id: int
    transition: str
    source: str
    target: str
    record: Mapping[str, Any]
    data: Mapping[str, Any] = attrs.field(factory=dict)
    cause: TransitionEvent | None = None

    def caused_by(self, entity: str, transition: str) -> bool:
        """Whether a subscriber of ``entity``'s ``transition`` fired this transition,
        directly or through further transitions."""
        cause = self.cause
        while cause is not None:
            if cause.entity == entity and cause.transition == transition:
                return True
            cause = cause.cause
        return False


@attrs.frozen
class WriteEvent:
    """A create, update or delete of a record through the entity service.

    ``action`` is ``create``, ``update`` or ``delete``; ``before`` and ``after`` are the
    record's JSON representations (``None`` where it does not exist, and ``after`` is
    ``None`` for before-subscribers); ``changes`` holds the checked values being written.
    """

    entity: str
    action: str
    record_id: int | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    changes: Mapping[str, Any]
