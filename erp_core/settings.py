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
    again; see ``erp_core.db.transient``)."""

    database_url: str = DEFAULT_DATABASE_URL
    skip_broken_plugins: bool = False
    idempotency_ttl_seconds: int = 24 * 3600
    pool_size: int = 10
    cache_seconds: float = 2.0
    transaction_attempts: int = attrs.field(default=5)

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
                                ("ERP_TRANSACTION_ATTEMPTS", "transaction_attempts", int)):
            if env.get(name):
                try:
                    values[key] = kind(env[name])
                except ValueError:
                    raise ConfigurationError(
                        f"{name}={env[name]!r} is not a"
                        f" {'whole number' if kind is int else 'number'}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
