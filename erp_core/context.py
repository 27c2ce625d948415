"""The context of one unit of work: which kernel, which database session, which principal.

Services, workflow hooks and plugin code receive it, so that everything done on behalf
of a request runs in that request's transaction and under that principal's rules.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs
from sqlalchemy.orm import Session

from erp_core.audit import diff, record_change
from erp_core.events.outbox import EmittedEvent, emit
from erp_core.security.principal import Principal

if TYPE_CHECKING:
    import sqlalchemy as sa

    from erp_core.db.committed import CommittedCache
    from erp_core.dispatch import Dispatcher, HookRelay
    from erp_core.drivers.registry import Drivers
    from erp_core.entities.records import Records
    from erp_core.entities.registry import EntityRegistry
    from erp_core.security.permissions import PermissionRegistry
    from erp_core.settings import Settings

T = TypeVar("T")


class TransitionFiring(Protocol):
    """The workflow engine as a unit of work uses it (``erp_core.workflow.engine``)."""

    def fire(self, ctx: Context, entity_name: str, record_id: int, name: str,
             data: Mapping[str, Any] | None = None, *, read_back: bool = True
             ) -> dict[str, Any]: ...


class KernelServices(Protocol):
    """The booted kernel as its hooks, its own parts and a unit of work see it.

    ``erp_core.kernel.Kernel`` is its one implementation. The kernel's parts (contexts,
    hook specifications, jobs, inbound webhooks, metrics) name this protocol rather than
    the class, since the kernel module imports them: no two kernel modules import each
    other, even for typing.
    """

    settings: Settings
    engine: sa.Engine
    dispatcher: Dispatcher
    entities: EntityRegistry
    permissions: PermissionRegistry
    drivers: Drivers
    committed: CommittedCache

    @property
    def workflows(self) -> TransitionFiring: ...

    @property
    def hook(self) -> HookRelay: ...

    def contribute(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]: ...

    def records(self, entity: str, ctx: Context) -> Records: ...

    def transaction(self) -> AbstractContextManager[Session]: ...

    def reading(self) -> AbstractContextManager[sa.Connection]: ...

    def reading_session(self) -> AbstractContextManager[Session]: ...

    def context(self, principal: Principal | None = None
                ) -> AbstractContextManager[Context]: ...

    def run(self, work: Callable[[Context], T], principal: Principal | None = None) -> T: ...


@attrs.frozen
class Context:
    """One unit of work: ``kernel``, the ``session`` of its database transaction, and the
    ``principal`` acting. Hooks and services receive it; ``Kernel.context()`` makes one."""

    kernel: KernelServices
    session: Session
    principal: Principal

    def records(self, entity: str) -> Records:
        """The generic service of a registered entity, bound to this context."""
        return self.kernel.records(entity, self)

    def fire(self, entity: str, record_id: int, transition: str,
             data: Mapping[str, Any] | None = None, *, read_back: bool = True
             ) -> dict[str, Any]:
        """Fire a workflow transition on a record (see ``erp_core.workflow.engine``);
        ``data`` reaches the subscribers (e.g. a rejection's reason) and the audit log.
        Returns the record after the reactions; ``read_back=False`` returns it as the
        transition itself left it, one read fewer, for a caller that ignores the result."""
        return self.kernel.workflows.fire(self, entity, record_id, transition, data,
                                          read_back=read_back)

    def emit(self, name: str, entity: str, record_id: int | None,
             payload: Mapping[str, Any]) -> EmittedEvent:
        """Write a domain event (``<plugin>.<thing>.<what happened>``) to the outbox in this
        transaction: it exists exactly when the change it reports is committed. The payload
        must be JSON; it is checked and copied here, so a later change to it is not
        written. The row goes in at commit; the returned event's ``id`` inserts it now."""
        return emit(self.session, name, entity, record_id, payload)

    def audit(self, entity: str, record_id: int, action: str,
              before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> None:
        """Leave an audit row for a change made outside the entity service (a merge, a bulk
        move), in this transaction: this principal, now, and every field whose JSON value
        differs between ``before`` and ``after`` (``None`` for a record that did not or no
        longer exists)."""
        record_change(self, entity, record_id, action, diff(before, after))

    def cached(self, key: Hashable, tables: Sequence[str], load: Callable[[], T]) -> T:
        """A value computed by ``load`` from seldom-changing ``tables``, kept by the process
        until one of them is written (by another process: for at most
        ``ERP_CACHE_SECONDS``); this transaction's own writes to them are always seen. For
        settings-like data (policies, channels), never for stock or money; ``load`` reads
        with this context's session and must return something no one mutates. Code that
        holds only a session uses ``erp_sdk.cached(session, ...)``, the same cache."""
        return self.kernel.committed.get(key, tables, load, self.session)

    def as_principal(self, principal: Principal) -> Context:
        """The same transaction acting as someone else (e.g. the system, in a reaction)."""
        return attrs.evolve(self, principal=principal)
