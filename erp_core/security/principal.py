"""The principal: who is acting, with which permissions, within which scope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from erp_core.errors import PermissionDenied


def _freeze_scope(value: Mapping[str, Any]) -> Mapping[str, frozenset[Any]]:
    return {key: frozenset(v if isinstance(v, list | tuple | set | frozenset) else [v])
            for key, v in dict(value).items()}


@attrs.frozen
class Principal:
    """A user (through an API token or the CLI) or the system itself.

    ``permissions`` is already expanded from the roles; ``scope`` holds the values record
    rules compare with (``{"supplier_id": {3}}``); ``is_system`` bypasses every check and
    is used by the kernel's own jobs and by the CLI.
    """

    name: str
    user_id: int | None = None
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    permissions: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    scope: Mapping[str, frozenset[Any]] = attrs.field(factory=dict, converter=_freeze_scope)
    is_system: bool = False

    @classmethod
    def system(cls, name: str = "system") -> Principal:
        return cls(name=name, is_system=True)

    def can(self, permission: str) -> bool:
        return self.is_system or permission in self.permissions

    def require(self, permission: str) -> None:
        """Raise ``PermissionDenied`` naming the missing permission."""
        if not self.can(permission):
            raise PermissionDenied(f"{self.name} lacks the permission {permission!r}")
