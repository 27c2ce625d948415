"""Firing transitions: permission -> state -> before-hooks -> change -> audit and outbox
-> after-hooks, all in the caller's transaction.

The record's row is locked (``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL; SQLite's write
transaction serialises writers) before its state is read, and the state change is a
conditional ``UPDATE`` on the state it was read in, so two concurrent transitions of
one record cannot both pass the state check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from erp_core.audit import record_change
from erp_core.db.types import utcnow
from erp_core.dispatch import Dispatcher
from erp_core.entities.held import remember
from erp_core.entities.service import EntityService
from erp_core.errors import ConflictError, NotFoundError, PluginError
from erp_core.events.outbox import emit
from erp_core.hook_events import TransitionEvent

if TYPE_CHECKING:
    from erp_core.context import Context
    from erp_core.entities.registry import EntityRegistry
    from erp_core.workflow.declaration import Transition


_SOURCE = "erp_source"
"""The state a one-statement change moved the record from, returned with the record."""
_BEFORE, _AFTER = "erp_before_transition", "erp_after_transition"
_FIRING = "erp_firing_transitions"
"""The session's transitions whose subscribers are running, innermost last: a transition
fired meanwhile was fired by the innermost (its ``cause``)."""


def _notify(dispatcher: Dispatcher, hook: str, ctx: Context, event: TransitionEvent) -> bool:
    """Run ``hook``'s subscribers with ``event`` as the cause of what they fire."""
    firing = ctx.session.info.setdefault(_FIRING, [])
    firing.append(event)
    try:
        return dispatcher.notify(hook, ctx, event)
    finally:
        firing.pop()


class WorkflowEngine:
    """Transitions of every entity that declares a workflow, for one booted kernel."""

    def __init__(self, entities: EntityRegistry, dispatcher: Dispatcher | None = None) -> None:
        self.entities = entities
        self.dispatcher = dispatcher or Dispatcher()
        self._updates: dict[str, Any] = {}
        for hook in (_BEFORE, _AFTER):
            for subscriber in self.dispatcher.subscribers(hook):
                entity = subscriber.subscription.entity
                if entity is not None:
                    self._check_subscription(subscriber.describe(), subscriber.plugin, entity,
                                             subscriber.subscription.transition)

    def _check_subscription(self, who: str, plugin: str, entity: str,
                            transition: str | None) -> None:
        owner = entity.partition(".")[0]
        if entity not in self.entities:
            if any(e.plugin == owner for e in self.entities):
                raise PluginError(f"{who} subscribes to unknown entity {entity!r}",
                                  plugin=plugin)
            return  # an optional subscription to a plugin that is not enabled
        workflow = self.entities.get(entity).declaration.workflow
        if workflow is None or (transition is not None
                                and workflow.transition(transition) is None):
            raise PluginError(f"{who} subscribes to {entity!r} transition"
                              f" {transition!r}, which does not exist", plugin=plugin)

    def subscribers(self, when: str, entity: str, transition: str) -> list[str]:
        """Qualified names of the subscribers that would run, in order (for docs and tests)."""
        probe = TransitionEvent(entity, 0, transition, "", "", {})
        return [f"{s.plugin}:{s.function.__qualname__}"
                for s in self.dispatcher.for_entity(f"erp_{when}_transition", entity)
                if s.wants(probe)]

    def _state_update(self, entity: Any) -> Any:
        """The conditional state change of an entity, built once per entity: moving from
        the state the record was read in, so a concurrent transition makes it match nothing."""
        statement = self._updates.get(entity.name)
        if statement is None:
            table = entity.table
            field = entity.declaration.workflow.field
            values: dict[str, Any] = {field: sa.bindparam("wf_target"),
                                      "version": entity.version_column + 1}
            if "updated_at" in table.c:
                values["updated_at"] = sa.bindparam("wf_now", type_=table.c.updated_at.type)
            statement = (sa.update(table)
                         .where(entity.id_column == sa.bindparam("wf_record_id"),
                                table.c[field] == sa.bindparam("wf_source"))
                         .values(values).returning(*entity.returned))
            self._updates[entity.name] = statement
        return statement

    def _locking_state_update(self, entity: Any) -> Any:
        """PostgreSQL: the state change that also locks the row and tells the state it
        changed from (``_SOURCE``), built once per entity. The lock is taken first, in a
        materialised CTE, which reads the row's latest version after any wait for a
        concurrent transition; the state is checked on what it read."""
        key = f"{entity.name} locking"
        statement = self._updates.get(key)
        if statement is None:
            table = entity.table
            field = entity.declaration.workflow.field
            locked = (sa.select(entity.id_column, table.c[field].label(_SOURCE))
                      .where(entity.id_column == sa.bindparam("wf_record_id"))
                      .with_for_update(key_share=True).cte("erp_locked")
                      .prefix_with("MATERIALIZED"))
            values: dict[str, Any] = {field: sa.bindparam("wf_target"),
                                      "version": entity.version_column + 1}
            if "updated_at" in table.c:
                values["updated_at"] = sa.bindparam("wf_now", type_=table.c.updated_at.type)
            # The state is checked on the locked row (the CTE's, the latest), not on the
            # table's: the UPDATE filters the table's rows as its snapshot saw them, so a
            # row moved into a source state while this waited for the lock would be missed.
            statement = (sa.update(table)
                         .where(entity.id_column == locked.c.id,
                                locked.c[_SOURCE].in_(sa.bindparam("wf_sources",
                                                                   expanding=True)))
                         .values(values).returning(locked.c[_SOURCE], *entity.returned))
            self._updates[key] = statement
        return statement

    @staticmethod
    def _refuse(workflow: Any, transition: Transition, entity_name: str, record_id: int,
                current: str) -> None:
        allowed = workflow.allowed_from(current)
        raise ConflictError(
            f"{entity_name} {record_id} is {current!r}; {transition.name!r} needs"
            f" {' or '.join(map(repr, transition.sources))}. Allowed now:"
            f" {', '.join(allowed) if allowed else 'none'}")

    def fire(self, ctx: Context, entity_name: str, record_id: int, name: str,
             data: Mapping[str, Any] | None = None, *, read_back: bool = True
             ) -> dict[str, Any]:
        """Fire transition ``name`` on a record; returns the record after the change and
        its reactions (which may have fired further transitions). With ``read_back=False``
        it returns the record as the change itself left it, saving a read when reactions
        ran: for a caller that does not use the result (a reaction firing a follow-up)."""
        entity = self.entities.get(entity_name)
        workflow = entity.declaration.workflow
        transition = workflow.transition(name) if workflow else None
        if workflow is None or transition is None:
            raise NotFoundError(f"{entity_name} has no transition {name!r}")
        ctx.principal.require(permission_of(entity_name, transition))
        service = EntityService(entity).bind(ctx)
        firing = ctx.session.info.get(_FIRING)
        event = TransitionEvent(entity_name, record_id, name, "", transition.target, {},
                                dict(data or {}), firing[-1] if firing else None)
        if not self.dispatcher.wanted(_BEFORE, event) \
                and service.changes_unread(record_id):
            # Nothing runs before the change and nothing of the record is held: locking
            # it, checking its state and changing it is one statement.
            row = ctx.session.execute(self._locking_state_update(entity), {
                "wf_record_id": record_id, "wf_sources": list(transition.sources),
                "wf_target": transition.target, "wf_now": utcnow()}).mappings().first()
            if row is None:
                self._refuse(workflow, transition, entity_name, record_id,
                             service.get(record_id)[workflow.field])
            current = row[_SOURCE]
            after = service.to_json(row)
        else:
            before = service.get(record_id, lock=True)
            current = before[workflow.field]
            if current not in transition.sources:
                self._refuse(workflow, transition, entity_name, record_id, current)
            event = attrs.evolve(event, source=current, record=before)
            _notify(self.dispatcher, _BEFORE, ctx, event)
            row = ctx.session.execute(self._state_update(entity), {
                "wf_record_id": record_id, "wf_source": current,
                "wf_target": transition.target, "wf_now": utcnow()}).mappings().first()
            if row is None:
                raise ConflictError(f"{entity_name} {record_id} changed state meanwhile; retry")
            # The row as the change left it (before-hooks may have written it too); the
            # extension fields, which the change does not touch, as they were read.
            after = {**before, **{name: entity.fields[name].to_json(value)
                                  for name, value in row.items()}}
        remember(ctx.session, entity, after)
        # The audit row and the event are written before the reactions, in the same
        # transaction, so a reaction that fires another transition is recorded after it;
        # if a reaction fails, all of it rolls back together.
        record_change(ctx, entity_name, record_id, name,
                      {workflow.field: (current, transition.target),
                       **{key: (None, value) for key, value in event.data.items()}})
        emit(ctx.session, f"{entity_name}.{transition.event or name}", entity_name, record_id,
             {"id": record_id, "transition": name, "from": current, "to": transition.target,
              "data": event.data, "record": after})
        if _notify(self.dispatcher, _AFTER, ctx,
                   attrs.evolve(event, source=current, record=after)) and read_back:
            # Reactions may have changed it further; a read only if they wrote its tables.
            return service.get(record_id)
        return after


def permission_of(entity: str, transition: Transition) -> str:
    return transition.permission or f"{entity}.{transition.name}"
