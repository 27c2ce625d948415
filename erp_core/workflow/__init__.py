"""Workflows: states and transitions declared as data, fired through one engine
(``erp_core.workflow.engine``, which entities' declarations never need)."""

from erp_core.workflow.declaration import Transition, Workflow

__all__ = ["Transition", "Workflow"]
