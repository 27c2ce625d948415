"""``erp worker``: delivers the outbox to webhooks and event sinks, purges what expired,
and runs the periodic jobs plugins declare."""

from erp_core.worker.loop import Worker
from erp_core.worker.settings import WorkerSettings

__all__ = ["Worker", "WorkerSettings"]
