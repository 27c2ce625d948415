"""The kernel's webhook route beyond the generic entity API: replaying events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from litestar import post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from erp_core.api.problems import PROBLEM_MEDIA_TYPE
from erp_core.api.system import PROTECTED_RESPONSES
from erp_core.errors import ValidationError
from erp_core.kernel import Kernel
from erp_core.worker.replay import replay_to_webhook


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=dict[str, Any], description=description,
                        media_type=PROBLEM_MEDIA_TYPE, generate_examples=False)


REPLAY_RESPONSES = {**PROTECTED_RESPONSES,
                    400: _problem("The body is not a JSON object"),
                    404: _problem("No such webhook or event"),
                    422: _problem("Neither or both of event_id and since, or a bad value")}


@attrs.frozen
class ReplayRequest:
    """What to deliver again: one event (``event_id``) or every event since a time
    (``since``, ISO 8601 with its UTC offset); exactly one of the two."""

    event_id: int | None = None
    since: dt.datetime | None = None


@post("/api/v1/kernel/webhooks/{webhook_id:int}/replay", sync_to_thread=True, status_code=202,
      summary="Deliver events to a webhook again", tags=["kernel"],
      opt={"permission": "kernel.webhook.replay"}, responses=REPLAY_RESPONSES)
def replay_webhook(kernel: NamedDependency[Kernel], webhook_id: FromPath[int],
                   data: JSONBody[ReplayRequest]) -> dict[str, int]:
    """Body ``{"event_id": 42}`` (one event) or ``{"since": "2026-12-01T00:00:00Z"}``
    (every event since then that the webhook's patterns match, dead-lettered or not). The
    worker delivers them again with their original ids; answers how many were queued."""
    event_id, when = data.event_id, data.since
    if when is not None and when.tzinfo is None:
        raise ValidationError("since must be an ISO 8601 time with a time zone",
                              {"since": "no UTC offset"})
    if event_id is not None and not 0 < event_id < 2**63:
        raise ValidationError("event_id must be an event's id", {"event_id": "out of range"})
    with kernel.engine.begin() as connection:
        return {"replayed": replay_to_webhook(connection, webhook_id, event_id=event_id,
                                              since=when)}
