"""The plugin author's kit: the only package a plugin imports.

Everything listed in ``__all__`` is public and follows semantic versioning with
``erp-sdk``: removal or an incompatible change happens only in a new major version,
after at least one minor release in which the old form emits a ``DeprecationWarning``.
"""

from erp_core.context import Context, KernelServices
from erp_core.db import NON_NEGATIVE, POSITIVE, Base, Money, Quantity, Rate, UtcDateTime, utcnow
from erp_core.db.batch import insert_rows
from erp_core.db.committed import cached
from erp_core.db.loaded import attach_loaded, keep_loaded
from erp_core.db.types import AwareDateTime, ExactNumeric
from erp_core.db.upsert import Upsert
from erp_core.dispatch import hookimpl, on_transition, on_write
from erp_core.entities import Entity, EntityExtension, RecordMixin
from erp_core.entities.field_types import (
    FIELD_TYPES,
    DecimalNumber,
    FieldType,
    FieldValueError,
    Integer,
    Text,
    register_field_type,
)
from erp_core.entities.records import Records
from erp_core.entities.typed import (
    ListOf,
    Nested,
    body_operation,
    boolean,
    check_value,
    identifier,
    money,
    quantity,
    rate,
    read_body,
    text,
    timestamp,
    typed_field,
)
from erp_core.entities.units import UNIT_OF_MEASURE, UNITS, UnitOfMeasure, check_quantity
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
from erp_core.exchange_rates import (
    CURRENCY_CODE,
    ExchangeRate,
    currency_code,
    exchange_rate,
    exchange_rates,
    set_exchange_rate,
)
from erp_core.hook_events import TransitionEvent, TransitionVetoed, WriteEvent
from erp_core.hookspecs import hookspec
from erp_core.inbound import InboundWebhook, VerifiedWebhook, WebhookReceiver
from erp_core.jobs import Job
from erp_core.kernel import Kernel
from erp_core.manifest import PluginManifest
from erp_core.metric_definitions import (
    Dimension,
    Join,
    Measure,
    Metric,
    MetricSource,
    RegisteredMetric,
    Rollup,
    Unit,
    day_as_time,
    exact_product,
    registered_metrics,
)
from erp_core.security import Permission, Principal, RecordRule, Role
from erp_core.security.web_sessions import WebSessions
from erp_core.workflow import Transition, Workflow

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


__all__ = [  # noqa: RUF022  (plain sorted order, as tests/test_sdk_surface.py checks)
    "AuthenticationRequired",
    "AwareDateTime",
    "Base",
    "CURRENCY_CODE",
    "ConflictError",
    "Context",
    "DecimalNumber",
    "Dimension",
    "DomainEvent",
    "Entity",
    "EntityExtension",
    "ErpError",
    "ExactNumeric",
    "ExchangeRate",
    "FIELD_TYPES",
    "FieldType",
    "FieldValueError",
    "InboundWebhook",
    "Integer",
    "Job",
    "Join",
    "Kernel",
    "KernelDependency",
    "KernelServices",
    "ListOf",
    "Measure",
    "Metric",
    "MetricSource",
    "Money",
    "NON_NEGATIVE",
    "Nested",
    "NotFoundError",
    "POSITIVE",
    "Permission",
    "PermissionDenied",
    "PluginError",
    "PluginManifest",
    "PreconditionFailed",
    "Principal",
    "PrincipalDependency",
    "Quantity",
    "Rate",
    "RecordMixin",
    "RecordRule",
    "Records",
    "RegisteredMetric",
    "Role",
    "Rollup",
    "Text",
    "TransientConflict",
    "Transition",
    "TransitionEvent",
    "TransitionVetoed",
    "UNITS",
    "UNIT_OF_MEASURE",
    "Unit",
    "UnitOfMeasure",
    "Upsert",
    "UtcDateTime",
    "ValidationError",
    "VerifiedWebhook",
    "WebSessions",
    "WebhookReceiver",
    "Workflow",
    "WriteEvent",
    "attach_loaded",
    "body_operation",
    "boolean",
    "cached",
    "check_quantity",
    "check_value",
    "currency_code",
    "day_as_time",
    "exact_product",
    "exchange_rate",
    "exchange_rates",
    "hookimpl",
    "hookspec",
    "identifier",
    "insert_rows",
    "keep_loaded",
    "money",
    "on_transition",
    "on_write",
    "quantity",
    "rate",
    "read_body",
    "register_field_type",
    "registered_metrics",
    "set_exchange_rate",
    "text",
    "timestamp",
    "typed_field",
    "utcnow",
]
