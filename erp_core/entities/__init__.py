"""Entities: declared by plugins, registered at boot, served by the generic API."""

from erp_core.entities.declaration import Entity, EntityExtension, RecordMixin
from erp_core.entities.registry import EntityRegistry, RegisteredEntity

__all__ = ["Entity", "EntityExtension", "EntityRegistry", "RecordMixin", "RegisteredEntity"]
