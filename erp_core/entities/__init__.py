"""Entities: declared by plugins, registered at boot, served by the generic API."""

from erp_core.entities.declaration import Entity, EntityExtension, RecordMixin
from erp_core.entities.registry import EntityRegistry, RegisteredEntity
from erp_core.entities.service import EntityService

__all__ = ["Entity", "EntityExtension", "EntityRegistry", "EntityService", "RecordMixin",
           "RegisteredEntity"]
