"""Who may do what: principals, permissions and roles, record rules, users and API tokens."""

from erp_core.security.permissions import Permission, PermissionRegistry, RecordRule, Role
from erp_core.security.principal import Principal

__all__ = ["Permission", "PermissionRegistry", "Principal", "RecordRule", "Role"]
