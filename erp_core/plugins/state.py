"""Which plugins are enabled in this database: the kernel table ``kernel_plugin``."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.db.base import Base
from erp_core.db.types import UtcDateTime, utcnow


class PluginState(Base):
    """One row per plugin ever enabled here; disabling keeps the row (and the plugin's data)."""

    __tablename__ = "kernel_plugin"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    enabled: Mapped[bool]
    version: Mapped[str | None] = mapped_column(sa.String(64))
    changed_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)


def enabled_plugin_names(connection: sa.Connection) -> list[str] | None:
    """Names enabled in this database, or ``None`` when the database was never initialised."""
    if not sa.inspect(connection).has_table(PluginState.__tablename__):
        return None
    rows = connection.execute(
        sa.select(PluginState.name).where(PluginState.enabled).order_by(PluginState.name))
    return [name for (name,) in rows]


def record_enabled(connection: sa.Connection, name: str, version: str | None,
                   enabled: bool, when: dt.datetime | None = None) -> None:
    """Insert or update one plugin's row."""
    values = {"enabled": enabled, "version": version, "changed_at": when or utcnow()}
    updated = connection.execute(
        sa.update(PluginState).where(PluginState.name == name).values(**values))
    if updated.rowcount == 0:
        connection.execute(sa.insert(PluginState).values(name=name, **values))
