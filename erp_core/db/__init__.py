"""Persistence: one declarative base and metadata for every plugin, engines, column types."""

from erp_core.db.base import Base, metadata
from erp_core.db.engine import create_engine, normalise_url
from erp_core.db.types import NON_NEGATIVE, POSITIVE, Money, Quantity, Rate, UtcDateTime, utcnow

__all__ = ["NON_NEGATIVE", "POSITIVE", "Base", "Money", "Quantity", "Rate", "UtcDateTime",
           "create_engine", "metadata", "normalise_url", "utcnow"]
