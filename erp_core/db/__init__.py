"""Persistence: one declarative base and metadata for every plugin, engines, column types."""

from erp_core.db.base import Base, metadata
from erp_core.db.engine import create_engine, normalise_url
from erp_core.db.types import Money, Quantity, UtcDateTime, utcnow

__all__ = ["Base", "Money", "Quantity", "UtcDateTime", "create_engine", "metadata",
           "normalise_url", "utcnow"]
