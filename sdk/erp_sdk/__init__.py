"""The plugin author's kit: the only package a plugin imports.

Everything listed in ``__all__`` is public and follows semantic versioning with
``erp-sdk``: removal or an incompatible change happens only in a new major version,
after at least one minor release in which the old form emits a ``DeprecationWarning``.
"""

from erp_core.context import Context
from erp_core.db import Base, Money, Quantity, UtcDateTime, utcnow
from erp_core.db.batch import insert_rows
from erp_core.db.loaded import attach_loaded, keep_loaded
from erp_core.db.types import AwareDateTime, ExactNumeric
from erp_core.db.upsert import Upsert
from erp_core.entities import Entity, EntityExtension, RecordMixin
from erp_core.entities.records import Records
from erp_core.entities.service import WriteEvent
from erp_core.errors import (
    AuthenticationRequired,
    ConflictError,
    ErpError,
    NotFoundError,
    PermissionDenied,
    PluginError,
    PreconditionFailed,
    TransientConflict,
    ValidationError,
)
from erp_core.events import DomainEvent
from erp_core.hookspecs import hookimpl, hookspec
from erp_core.inbound import InboundWebhook, VerifiedWebhook, WebhookReceiver
from erp_core.jobs import Job
from erp_core.kernel import Kernel
from erp_core.manifest import PluginManifest
from erp_core.security import Permission, Principal, RecordRule, Role
from erp_core.workflow import (
    Transition,
    TransitionEvent,
    TransitionVetoed,
    Workflow,
    on_transition,
    on_write,
)

_LAZY = {"KernelDependency": "erp_core.api.dependencies",
         "PrincipalDependency": "erp_core.api.dependencies"}
"""Names imported on first use: they need the web framework, which a command that only
reads plugins' manifests (``erp plugins list``) should not pay for."""


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'erp_sdk' has no attribute {name!r}")


__all__ = [
    "AuthenticationRequired",
    "AwareDateTime",
    "Base",
    "ConflictError",
    "Context",
    "DomainEvent",
    "Entity",
    "EntityExtension",
    "ErpError",
    "ExactNumeric",
    "InboundWebhook",
    "Job",
    "Kernel",
    "KernelDependency",
    "Money",
    "NotFoundError",
    "Permission",
    "PermissionDenied",
    "PluginError",
    "PluginManifest",
    "PreconditionFailed",
    "Principal",
    "PrincipalDependency",
    "Quantity",
    "RecordMixin",
    "RecordRule",
    "Records",
    "Role",
    "TransientConflict",
    "Transition",
    "TransitionEvent",
    "TransitionVetoed",
    "Upsert",
    "UtcDateTime",
    "ValidationError",
    "VerifiedWebhook",
    "WebhookReceiver",
    "Workflow",
    "WriteEvent",
    "attach_loaded",
    "hookimpl",
    "hookspec",
    "insert_rows",
    "keep_loaded",
    "on_transition",
    "on_write",
    "utcnow",
]
