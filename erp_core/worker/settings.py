"""The worker's settings, read from the environment once per worker."""

from __future__ import annotations

import os
import random
from collections.abc import Mapping

import attrs

from erp_core.errors import ConfigurationError

_VARIABLES = {
    "ERP_WORKER_BATCH": ("batch_size", int),
    "ERP_WORKER_LEASE_SECONDS": ("lease_seconds", float),
    "ERP_WORKER_POLL_SECONDS": ("poll_seconds", float),
    "ERP_DELIVERY_MAX_ATTEMPTS": ("max_attempts", int),
    "ERP_DELIVERY_BACKOFF_SECONDS": ("backoff_seconds", float),
    "ERP_DELIVERY_BACKOFF_MAX_SECONDS": ("backoff_max_seconds", float),
    "ERP_WEBHOOK_TIMEOUT_SECONDS": ("webhook_timeout_seconds", float),
    "ERP_WEBHOOK_DISABLE_AFTER": ("disable_after_seconds", float),
    "ERP_EVENT_RETENTION_SECONDS": ("retention_seconds", float),
    "ERP_WORKER_PURGE_SECONDS": ("purge_interval_seconds", float),
}


@attrs.frozen
class WorkerSettings:
    """How the worker delivers (each an environment variable, see ``from_env``).

    ``batch_size`` events are claimed at a time under a lease of ``lease_seconds``: a
    worker that dies holding them loses nothing, another takes them once the lease ran
    out; a live worker renews it every third of the lease while the batch's deliveries
    run, however slow. An idle worker looks again every ``poll_seconds``. A failed
    delivery is tried again after ``backoff_seconds`` doubled per attempt (at most
    ``backoff_max_seconds``, with random jitter of up to half), and dead-lettered after
    ``max_attempts``. A webhook
    that answers nothing but failures for ``disable_after_seconds`` is switched off.
    Delivered events are kept ``retention_seconds``; purging runs every
    ``purge_interval_seconds``.
    """

    batch_size: int = 500
    lease_seconds: float = 60.0
    poll_seconds: float = 0.2
    max_attempts: int = 10
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 3600.0
    webhook_timeout_seconds: float = 10.0
    disable_after_seconds: float = 24 * 3600.0
    retention_seconds: float = 7 * 24 * 3600.0
    purge_interval_seconds: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 **overrides: object) -> WorkerSettings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for variable, (key, kind) in _VARIABLES.items():
            if env.get(variable):
                try:
                    values[key] = kind(env[variable])
                except ValueError:
                    raise ConfigurationError(f"{variable}={env[variable]!r} is not a number"
                                             ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.batch_size < 1 or settings.max_attempts < 1 or settings.lease_seconds <= 0:
            raise ConfigurationError("the worker's batch size, attempts and lease must be"
                                     " positive")
        return settings

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt: exponential, capped,
        with jitter so that many failed deliveries do not all come back at once."""
        delay = min(self.backoff_max_seconds, self.backoff_seconds * 2 ** (attempts - 1))
        return delay * random.uniform(0.5, 1.0)
