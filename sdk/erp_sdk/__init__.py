"""The plugin author's kit: the only package a plugin imports.

Everything listed in ``__all__`` is public and follows semantic versioning with
``erp-sdk``: removal or an incompatible change happens only in a new major version,
after at least one minor release in which the old form emits a ``DeprecationWarning``.
"""

from erp_core.db import Base, Money, Quantity, UtcDateTime, utcnow
from erp_core.entities import Entity, EntityExtension, RecordMixin
from erp_core.errors import (
    AuthenticationRequired,
    ConflictError,
    ErpError,
    NotFoundError,
    PermissionDenied,
    PluginError,
    PreconditionFailed,
    ValidationError,
)
from erp_core.hookspecs import hookimpl, hookspec
from erp_core.manifest import PluginManifest

__all__ = [
    "AuthenticationRequired",
    "Base",
    "ConflictError",
    "Entity",
    "EntityExtension",
    "ErpError",
    "Money",
    "NotFoundError",
    "PermissionDenied",
    "PluginError",
    "PluginManifest",
    "PreconditionFailed",
    "Quantity",
    "RecordMixin",
    "UtcDateTime",
    "ValidationError",
    "hookimpl",
    "hookspec",
    "utcnow",
]
