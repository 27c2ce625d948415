"""Permissions, roles and record rules: declared by plugins, checked at boot.

Permission names are ``<plugin>.<entity>.<action>``. The kernel derives ``read``,
``create``, ``update``, ``delete`` and one per workflow transition for every entity;
plugins declare more with ``Permission``. A ``Role`` bundles permissions (``fnmatch``
patterns such as ``orders.order.*`` are allowed); the role ``admin`` always has every
permission. A ``RecordRule`` narrows the rows a role sees and changes.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import sqlalchemy as sa

from erp_core.errors import PluginError

ADMIN_ROLE = "admin"


@attrs.frozen
class Permission:
    """A permission a plugin declares beyond the derived ones."""

    name: str
    description: str = ""


def _names(value: object) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]


@attrs.frozen
class Role:
    """A named bundle of permissions, e.g. ``orders.clerk``; names start with the plugin's."""

    name: str
    permissions: tuple[str, ...] = attrs.field(converter=_names)
    description: str = ""


RuleCondition = Callable[[sa.Table, Any], sa.ColumnElement[bool]]


@attrs.frozen
class RecordRule:
    """Rows of ``entity`` that principals holding ``role`` may see and change.

    ``condition(table, principal)`` returns a SQL condition. ``RecordRule.in_scope``
    builds the common case: a column whose value must be in the principal's scope.
    A principal with several roles granting read on the entity sees the union of what
    each role allows; a role without a rule on the entity sees every row.
    """

    entity: str
    role: str
    condition: RuleCondition = attrs.field(eq=False)
    description: str = ""

    @classmethod
    def in_scope(cls, entity: str, role: str, field: str, scope_key: str | None = None
                 ) -> RecordRule:
        key = scope_key or field

        def condition(table: sa.Table, principal: Any) -> sa.ColumnElement[bool]:
            allowed = sorted(principal.scope.get(key, ()))
            return table.c[field].in_(allowed) if allowed else sa.false()

        return cls(entity=entity, role=role, condition=condition,
                   description=f"{field} in the principal's {key!r} scope")


class PermissionRegistry:
    """Every known permission and role, and the rules per entity, for one boot."""

    def __init__(self) -> None:
        self.permissions: dict[str, str] = {}
        self.roles: dict[str, Role] = {ADMIN_ROLE: Role(ADMIN_ROLE, ("*",), "Everything")}
        self.rules: dict[str, list[RecordRule]] = {}
        self._expanded: dict[str, frozenset[str]] = {}

    def add_permission(self, name: str, description: str = "") -> None:
        self.permissions.setdefault(name, description)

    def add_contributions(self, contributions: Iterable[tuple[str, Iterable[object]]],
                          known_entities: Mapping[str, object]) -> None:
        for plugin, items in contributions:
            for item in items or ():
                if isinstance(item, Permission):
                    if not item.name.startswith(f"{plugin}."):
                        raise _error(plugin, f"permission {item.name!r} must start with"
                                     f" {plugin + '.'!r}")
                    self.add_permission(item.name, item.description)
                elif isinstance(item, Role):
                    if not item.name.startswith(f"{plugin}."):
                        raise _error(plugin, f"role {item.name!r} must start with {plugin + '.'!r}")
                    if item.name in self.roles:
                        raise _error(plugin, f"role {item.name!r} is declared twice")
                    self.roles[item.name] = item
                elif isinstance(item, RecordRule):
                    if item.entity not in known_entities:
                        raise _error(plugin, f"record rule on unknown entity {item.entity!r}")
                    self.rules.setdefault(item.entity, []).append(item)
                else:
                    raise _error(plugin, f"erp_register_permissions returned {item!r}; return"
                                 " Permission, Role or RecordRule objects")
        for role in self.roles.values():
            for pattern in role.permissions:
                if not fnmatch.filter(self.permissions, pattern) and pattern != "*":
                    owner = role.name.partition(".")[0]
                    raise _error(owner, f"role {role.name!r} names {pattern!r}, which matches"
                                 " no known permission")
        for entity, rules in self.rules.items():
            for rule in rules:
                if rule.role not in self.roles:
                    raise _error(entity.partition(".")[0], f"record rule on {entity!r} names"
                                 f" unknown role {rule.role!r}")

    def expand(self, role: str) -> frozenset[str]:
        """The permissions of a role; unknown roles (of a disabled plugin) grant nothing."""
        if role not in self._expanded:
            definition = self.roles.get(role)
            granted: set[str] = set()
            for pattern in definition.permissions if definition else ():
                granted.update(fnmatch.filter(self.permissions, pattern))
            self._expanded[role] = frozenset(granted)
        return self._expanded[role]

    def permissions_of(self, roles: Iterable[str]) -> frozenset[str]:
        result: set[str] = set()
        for role in roles:
            result |= self.expand(role)
        return frozenset(result)

    def row_filter(self, entity: str, table: sa.Table, principal: Any
                   ) -> sa.ColumnElement[bool] | None:
        """The condition narrowing ``entity`` for ``principal``, or ``None`` for every row."""
        if principal.is_system or ADMIN_ROLE in principal.roles:
            return None
        rules = self.rules.get(entity)
        if not rules:
            return None
        read = f"{entity}.read"
        conditions = []
        for role in principal.roles:
            if read not in self.expand(role):
                continue
            own = [rule.condition(table, principal) for rule in rules if rule.role == role]
            if not own:
                return None
            conditions.extend(own)
        return sa.or_(*conditions) if conditions else sa.false()


def _error(plugin: str, message: str) -> PluginError:
    return PluginError(f"plugin {plugin!r}: {message}", plugin=plugin)
