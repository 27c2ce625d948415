"""The kernel's settings, read from the environment once per ``Kernel``."""

from __future__ import annotations

import os
from collections.abc import Mapping

import attrs

from erp_core.errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///erp.db"
_TRUE = {"1", "true", "yes", "on"}


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


@attrs.frozen
class Settings:
    """``ERP_DATABASE_URL`` picks the database (default: ``erp.db`` in the working
    directory); ``ERP_SKIP_BROKEN_PLUGINS=1`` boots without enabled plugins that are broken
    instead of refusing to start; ``ERP_IDEMPOTENCY_TTL`` is how many seconds an
    ``Idempotency-Key`` is remembered (default one day); ``ERP_DATABASE_POOL_SIZE`` how
    many connections each process keeps to PostgreSQL (default 10, plus as many again on
    bursts); ``ERP_CACHE_SECONDS`` how long a process may keep using seldom-changing data
    that another process changed (review policies, channels; default 2, 0 reads them on
    every use; see ``erp_core.db.committed``); ``ERP_TRANSACTION_ATTEMPTS`` how many
    times a unit of work (an HTTP request, ``Kernel.run``) is run when the database
    aborts it for a transient conflict such as a deadlock (default 5; 1 never runs it
    again; see ``erp_core.db.transient``). Inbound webhooks (``/api/v1/hooks/...``):
    ``ERP_WEBHOOK_MAX_BYTES`` the largest body taken (default 1 MiB, larger is 413),
    ``ERP_WEBHOOK_RATE`` and ``ERP_WEBHOOK_BURST`` the requests per second one account may
    send on average and at once, per server process (default 10 and 50, past them 429),
    ``ERP_WEBHOOK_RETENTION_DAYS`` how long a provider's event id is remembered to
    refuse a replay (default 30)."""

    database_url: str = DEFAULT_DATABASE_URL
    skip_broken_plugins: bool = False
    idempotency_ttl_seconds: int = 24 * 3600
    pool_size: int = 10
    cache_seconds: float = 2.0
    transaction_attempts: int = attrs.field(default=5)
    webhook_max_bytes: int = 1024 * 1024
    webhook_rate: float = 10.0
    webhook_burst: int = 50
    webhook_retention_days: int = 30

    @transaction_attempts.validator
    def _at_least_one(self, _attribute: object, value: int) -> None:
        if value < 1:
            raise ConfigurationError(f"ERP_TRANSACTION_ATTEMPTS={value} must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "database_url": env.get("ERP_DATABASE_URL") or DEFAULT_DATABASE_URL,
            "skip_broken_plugins": _flag(env.get("ERP_SKIP_BROKEN_PLUGINS")),
        }
        for name, key, kind in (("ERP_IDEMPOTENCY_TTL", "idempotency_ttl_seconds", int),
                                ("ERP_DATABASE_POOL_SIZE", "pool_size", int),
                                ("ERP_CACHE_SECONDS", "cache_seconds", float),
                                ("ERP_TRANSACTION_ATTEMPTS", "transaction_attempts", int),
                                ("ERP_WEBHOOK_MAX_BYTES", "webhook_max_bytes", int),
                                ("ERP_WEBHOOK_RATE", "webhook_rate", float),
                                ("ERP_WEBHOOK_BURST", "webhook_burst", int),
                                ("ERP_WEBHOOK_RETENTION_DAYS", "webhook_retention_days", int)):
            if env.get(name):
                try:
                    values[key] = kind(env[name])
                except ValueError:
                    raise ConfigurationError(
                        f"{name}={env[name]!r} is not a"
                        f" {'whole number' if kind is int else 'number'}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
