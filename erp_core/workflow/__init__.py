"""Workflows: states and transitions declared as data, fired through one engine."""

from erp_core.workflow.declaration import Transition, Workflow
from erp_core.workflow.engine import TransitionEvent, TransitionVetoed, WorkflowEngine
from erp_core.workflow.subscriptions import on_transition, on_write

__all__ = ["Transition", "TransitionEvent", "TransitionVetoed", "Workflow", "WorkflowEngine",
           "on_transition", "on_write"]
