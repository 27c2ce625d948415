"""Alembic, one branch per plugin: see ``runner`` for how, ``check`` for the model check."""

from erp_core.migrations.runner import Branch, Migrator

__all__ = ["Branch", "Migrator"]
