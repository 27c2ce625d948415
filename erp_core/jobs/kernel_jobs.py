"""The kernel's own periodic jobs: forgetting what no longer needs remembering, and
fetching the day's exchange rates."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from erp_core.exchange_rate_sources import fetch_todays_exchange_rates
from erp_core.idempotency import purge_expired_keys
from erp_core.inbound.receiving import purge_received_webhooks
from erp_core.jobs.declaration import Job

if TYPE_CHECKING:
    from erp_core.context import KernelServices


def purge_idempotency_keys(kernel: KernelServices) -> str:
    purged = kernel.run(lambda ctx: purge_expired_keys(ctx.session))
    return f"{purged} expired idempotency keys purged"


def purge_inbound_webhooks(kernel: KernelServices) -> str:
    purged = kernel.run(lambda ctx: purge_received_webhooks(
        ctx.session, kernel.settings.webhook_retention_days))
    return f"{purged} inbound webhook records purged"


KERNEL_JOBS = (
    Job("purge_idempotency_keys", purge_idempotency_keys, every=dt.timedelta(hours=1),
        description="Forget Idempotency-Keys past ERP_IDEMPOTENCY_TTL."),
    Job("purge_inbound_webhooks", purge_inbound_webhooks, cron="17 3 * * *",
        description="Forget inbound webhook event ids older than ERP_WEBHOOK_RETENTION_DAYS"
                    " (a replay older than that is handled again)."),
    Job("fetch_exchange_rates", fetch_todays_exchange_rates, cron="30 16 * * *",
        description="Store today's rates from every active exchange-rate source (central"
                    " banks publish theirs in the afternoon); a failing source fails the"
                    " run, naming it, after the others' rates are stored."),
)
