"""The ``Kernel``: one per app, CLI command or test; it owns a plugin manager and an engine.

Nothing here is module-level state, so two kernels on two databases can live in one
process. Boot order: discover -> validate -> read the enabled set -> register in
dependency order -> ``erp_boot``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any, TypeVar

import attrs
import pluggy
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from erp_core import __version__, hookspecs
from erp_core import idempotency as _idempotency  # noqa: F401  (kernel tables on the metadata)
from erp_core.context import Context
from erp_core.db.committed import SESSION_CACHE, CommittedCache
from erp_core.db.deferred import inside
from erp_core.db.engine import create_engine
from erp_core.db.transient import committed_writes, pause_before
from erp_core.dispatch import Dispatcher, HookRelay, PluginHooks, registered_modules
from erp_core.drivers.registry import Drivers
from erp_core.entities.declaration import Entity
from erp_core.entities.records import Records
from erp_core.entities.registry import EntityRegistry
from erp_core.entities.service import EntityService
from erp_core.errors import ConfigurationError, PluginError, TransientConflict
from erp_core.events.outbox import PENDING_EVENTS
from erp_core.inbound import receiving as _inbound  # noqa: F401  (kernel tables on the metadata)
from erp_core.jobs import runs as _jobs  # noqa: F401  (kernel tables on the metadata)
from erp_core.kernel_entities import KERNEL, kernel_declarations
from erp_core.migrations.runner import Branch, Migrator, schema_transaction
from erp_core.plugins.discovery import DiscoveredPlugin, describe, discover_plugins
from erp_core.plugins.resolution import PluginSet, resolve_plugins
from erp_core.plugins.state import enabled_plugin_names, record_enabled
from erp_core.security import accounts as _accounts  # noqa: F401
from erp_core.security.permissions import PermissionRegistry
from erp_core.security.principal import Principal
from erp_core.settings import Settings
from erp_core.workflow.engine import WorkflowEngine

log = logging.getLogger("erp.kernel")

KERNEL_BRANCH = "kernel"
T = TypeVar("T")


@attrs.frozen
class _Boot:
    """Everything built from one set of registered plugins, before it goes live."""

    pm: pluggy.PluginManager
    names: tuple[str, ...]
    dispatcher: Dispatcher
    entities: EntityRegistry
    permissions: PermissionRegistry
    workflows: WorkflowEngine


class Kernel:
    """The running kernel of one database.

    Construction is cheap (no import of any plugin, no connection); ``plugins`` discovers
    lazily and ``boot()`` registers the enabled plugins.
    """

    version = __version__

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self.settings = settings or Settings.from_env(**overrides)
        self.engine = create_engine(self.settings.database_url,
                                    pool_size=self.settings.pool_size,
                                    max_overflow=self.settings.pool_size)
        self.committed = CommittedCache(self.engine, self.settings.cache_seconds)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False,
                                     info={SESSION_CACHE: self.committed})
        self.migrator = Migrator()
        self.pm: pluggy.PluginManager | None = None
        self.enabled: tuple[str, ...] = ()
        self.skipped: tuple[DiscoveredPlugin, ...] = ()
        self.entities = EntityRegistry()
        self.permissions = PermissionRegistry()
        self.dispatcher = Dispatcher()
        self.workflows = WorkflowEngine(self.entities)
        self.drivers = Drivers()
        sa.event.listen(self.sessions, "after_commit", self._after_commit)
        sa.event.listen(self.sessions, "after_soft_rollback", self._after_rollback)
        sa.event.listen(self.sessions, "after_transaction_end", self._after_transaction)

    # -- discovery and state ---------------------------------------------------------

    @cached_property
    def plugins(self) -> PluginSet:
        """Every installed plugin, validated; broken ones carry their error."""
        found = resolve_plugins(discover_plugins(), self.version)
        for plugin in found.broken:
            log.warning("%s", plugin.error)
        return found

    def enabled_names(self) -> list[str] | None:
        """What this database has enabled, or ``None`` if it was never initialised."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            from pathlib import Path

            if not Path(url.database).exists():  # reading must not create the file
                return None
        with self.engine.connect() as connection:
            return enabled_plugin_names(connection)

    def is_initialised(self) -> bool:
        return self.enabled_names() is not None

    def branch(self, name: str) -> Branch:
        """The migration branch of the kernel or of an installed plugin."""
        if name == KERNEL_BRANCH:  # plugin names cannot start with "kernel"
            return Branch(KERNEL_BRANCH, "erp_core")
        others = frozenset(self.plugins.plugins) - {name}
        return Branch(name, self.plugins.get(name).package, others)

    # -- boot ------------------------------------------------------------------------

    def boot(self) -> Kernel:
        """Register the plugins enabled in this database and call ``erp_boot``.

        Raises ``PluginError`` when an enabled plugin is broken or missing, unless
        ``skip_broken_plugins`` is set, in which case it (and what depends on it) is left
        out with a warning naming it.
        """
        enabled = self.enabled_names() or []
        wanted = self._bootable(enabled)
        self._register(wanted)
        return self

    def _bootable(self, enabled: Sequence[str]) -> list[str]:
        if not enabled:  # nothing to discover: keep a fresh database free of plugin imports
            return []
        problems: list[tuple[str, PluginError]] = []
        for name in enabled:
            if name not in self.plugins.plugins:
                problems.append((name, PluginError(
                    f"plugin {name!r} is enabled in this database but not installed;"
                    f" pip install the distribution that provides it, or run"
                    f" `erp plugins disable {name}`",
                    plugin=name,
                )))
            elif self.plugins.plugins[name].error is not None:
                problems.append((name, self.plugins.plugins[name].error))  # type: ignore[arg-type]
        if problems and not self.settings.skip_broken_plugins:
            raise problems[0][1]
        bad = {name for name, _ in problems}
        for name, error in problems:
            log.warning("booting without %s: %s", name, error)
        self.skipped = tuple(self.plugins.plugins[n] for n in bad if n in self.plugins.plugins)
        usable = [n for n in enabled if n not in bad]
        for name in usable:
            missing = [d for d in self.plugins.plugins[name].depends if d not in usable]
            if missing:
                raise PluginError(
                    f"{describe(name, self.plugins.plugins[name].distribution)} is enabled"
                    f" but its dependency {missing[0]!r} is not; run"
                    f" `erp plugins enable {name}` to enable its dependencies",
                    plugin=name, distribution=self.plugins.plugins[name].distribution,
                )
        return [n for n in self.plugins.order if n in usable]

    def _register(self, names: Sequence[str]) -> None:
        """Build and check the registries of ``names``, then make them the live ones."""
        self._activate(self._build(names))

    def _build(self, names: Sequence[str]) -> _Boot:
        """Register ``names`` into a new plugin manager and build every registry from their
        contributions, without touching the live kernel: any mistake raises here."""
        pm = pluggy.PluginManager(hookspecs.PROJECT)  # the hookspecs: what may be implemented
        pm.add_hookspecs(hookspecs)
        plugins = []
        for rank, name in enumerate(names):
            plugin = self.plugins.plugins[name]
            try:
                holders = registered_modules(plugin.package, plugin.target,
                                             plugin.manifest.modules if plugin.manifest else ())
            except PluginError as exc:
                raise PluginError(f"{describe(name, plugin.distribution)}: {exc.message}",
                                  plugin=name, distribution=plugin.distribution) from None
            plugins.append(PluginHooks(name, rank, holders, plugin.distribution, plugin.package))
        dispatcher = Dispatcher.build(pm, plugins)
        names = tuple(names)
        kernel_items = kernel_declarations()
        try:
            entities = EntityRegistry.build(
                [(KERNEL, [i for i in kernel_items if isinstance(i, Entity)]),
                 *dispatcher.call("erp_register_entities")])
            permissions = PermissionRegistry()
            for entity in entities:
                for name, description in entity.permissions.items():
                    permissions.add_permission(name, description)
            permissions.add_contributions(
                [(KERNEL, [i for i in kernel_items if not isinstance(i, Entity)]),
                 *dispatcher.call("erp_register_permissions")], entities)
            self._check_write_subscriptions(dispatcher, entities)
            workflows = WorkflowEngine(entities, dispatcher)
        except PluginError as exc:
            raise self._naming_distribution(exc) from None
        return _Boot(pm, names, dispatcher, entities, permissions, workflows)

    @staticmethod
    def _check_write_subscriptions(dispatcher: Dispatcher, entities: EntityRegistry) -> None:
        """A write subscription names an entity that exists, unless the plugin owning it
        is not enabled (an optional subscription)."""
        for hook in ("erp_before_write", "erp_after_write"):
            for subscriber in dispatcher.subscribers(hook):
                entity = subscriber.subscription.entity
                if entity is None or entity in entities:
                    continue
                owner = entity.partition(".")[0]
                if any(e.plugin == owner for e in entities):
                    raise PluginError(f"{subscriber.describe()} subscribes to writes of"
                                      f" unknown entity {entity!r}", plugin=subscriber.plugin)

    def _naming_distribution(self, error: PluginError) -> PluginError:
        """The same error, its message also naming the plugin's distribution."""
        plugin = self.plugins.plugins.get(error.plugin or "")
        if plugin is None or error.distribution or not plugin.distribution:
            return error
        return PluginError(f"{error.message} (distribution {plugin.distribution})",
                           plugin=error.plugin, distribution=plugin.distribution)

    def _activate(self, boot: _Boot) -> None:
        """Swap in new registries: ``erp_shutdown`` for the old set, ``erp_boot`` for the new."""
        if self.pm is not None:
            self.contribute("erp_shutdown", kernel=self)
        self.pm, self.enabled, self.dispatcher = boot.pm, boot.names, boot.dispatcher
        self.entities, self.permissions, self.workflows = (
            boot.entities, boot.permissions, boot.workflows)
        self.contribute("erp_boot", kernel=self)

    def contribute(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call one hook on every enabled plugin, in the dispatcher's order (``priority``,
        then dependency order, then module and function name).

        Returns ``(plugin name, result)`` pairs, so contributions (routes, entities,
        commands) are attributed to the plugin that made them. An exception raised by an
        implementation becomes a ``PluginError`` naming that plugin and function unless
        it is already an ``ErpError`` meant for the caller.
        """
        if self.pm is None:
            raise ConfigurationError("the kernel is not booted: call Kernel.boot() first")
        return self.dispatcher.call(hook_name, **kwargs)

    @property
    def hook(self) -> HookRelay:
        """``kernel.hook.<name>(**kwargs)``: call a plugin's own hook through the dispatcher."""
        if self.pm is None:
            raise ConfigurationError("the kernel is not booted: call Kernel.boot() first")
        return self.dispatcher.relay()

    def records(self, entity: str, ctx: Context) -> Records:
        """The generic service of a registered entity, bound to ``ctx`` (``ctx.records``)."""
        return EntityService(self.entities.get(entity)).bind(ctx)

    # -- database ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one database transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """A connection for reads outside any transaction (autocommit): each statement is
        one round trip, without the BEGIN and COMMIT of a transaction. For a lookup that
        needs no consistent snapshot across statements, such as checking a token."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection

    @contextmanager
    def reading_session(self) -> Iterator[Session]:
        """A session on a ``reading()`` connection: every statement reads committed data
        on its own, with no BEGIN or COMMIT around them. For a request that only reads,
        where a transaction would add two round trips and buy nothing (under READ
        COMMITTED each statement sees its own snapshot anyway); writing through it is a
        programming error."""
        with self.reading() as connection, self.sessions(bind=connection) as session:
            yield session

    @contextmanager
    def context(self, principal: Principal | None = None) -> Iterator[Context]:
        """A ``Context`` in one transaction, acting as ``principal`` (default: the system)."""
        with self.transaction() as session:
            yield Context(self, session, principal or Principal.system())

    def principal_of_user(self, user_id: int) -> Principal:
        """The principal of an active user as it stands now (its roles, scope and so
        permissions), for work done later on its behalf, such as a queued export;
        ``AuthenticationRequired`` when the user is gone or deactivated."""
        from erp_core.security.accounts import principal_of_user

        with self.reading() as connection:
            return principal_of_user(connection, user_id, self.permissions)

    def run(self, work: Callable[[Context], T], principal: Principal | None = None) -> T:
        """``work(ctx)`` in a transaction of its own, acting as ``principal``; run again
        from the start, in a new transaction, when the database aborted it for a
        transient conflict (``TransientConflict``: a deadlock, a serialization failure),
        up to ``ERP_TRANSACTION_ATTEMPTS`` times in all, unless a transaction of its own
        that wrote was committed before the conflict. ``work`` must therefore do nothing
        outside the database that it would regret doing twice."""
        attempts = self.settings.transaction_attempts
        for attempt in range(1, attempts + 1):
            with committed_writes() as commits:
                try:
                    with self.context(principal) as ctx:
                        return work(ctx)
                except TransientConflict as exc:
                    if attempt == attempts or commits:
                        raise  # nothing left to try, or work committed part of itself
                    log.warning("%s: running the work again (attempt %d of %d)",
                                exc.message, attempt + 1, attempts)
                time.sleep(pause_before(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _after_commit(self, session: Session) -> None:
        """React to the events of a committed transaction; a released savepoint (which
        SQLAlchemy also reports as a commit) commits nothing, so its events wait for
        the transaction around it."""
        if session.in_nested_transaction():
            return
        events = [event for _transaction, event in session.info.pop(PENDING_EVENTS, [])]
        if events and self.pm is not None:
            try:
                self.contribute("erp_on_commit", kernel=self, events=tuple(events))
            except Exception:  # the commit stands; a reaction's failure is only logged
                log.exception("erp_on_commit failed")

    @staticmethod
    def _after_rollback(session: Session, previous: Any) -> None:
        """Forget the events written inside the transaction (or savepoint) rolled back;
        those of an enclosing transaction that goes on are kept."""
        pending = session.info.get(PENDING_EVENTS)
        if pending:
            pending[:] = [(t, event) for t, event in pending if not inside(t, previous)]

    @staticmethod
    def _after_transaction(session: Session, transaction: Any) -> None:
        """A session closed without a rollback keeps no events for its next transaction."""
        if transaction.parent is None:
            session.info.pop(PENDING_EVENTS, None)

    def initialise(self) -> None:
        """Create or upgrade the kernel's schema and every enabled plugin's schema."""
        with schema_transaction(self.engine) as connection:
            self.migrator.upgrade(self.branch(KERNEL_BRANCH), connection)
            for name in self._bootable(enabled_plugin_names(connection) or []):
                self.migrator.upgrade(self.branch(name), connection)

    def migrate(self) -> list[str]:
        """Bring every enabled plugin (and the kernel) to its head; return the branches run."""
        if not self.is_initialised():
            raise ConfigurationError(
                f"the database {self.engine.url.render_as_string(hide_password=True)} is not"
                " initialised; run `erp init` first")
        self.initialise()
        return [KERNEL_BRANCH, *self._bootable(self.enabled_names() or [])]

    def pending_migrations(self) -> list[str]:
        """Branches (kernel or enabled plugins) whose schema is behind their head."""
        names = [KERNEL_BRANCH, *self._bootable(self.enabled_names() or [])]
        with self.engine.connect() as connection:
            return [n for n in names
                    if not self.migrator.is_current(self.branch(n), connection)]

    # -- enablement ----------------------------------------------------------------------

    def enable(self, names: Iterable[str]) -> list[str]:
        """Enable plugins and their dependencies, migrating them first; all or nothing.

        Returns the names that were newly enabled, in dependency order. A registered
        kernel is re-registered so the new plugins take effect at once.
        """
        order = self.plugins.with_dependencies(list(names))
        with schema_transaction(self.engine) as connection:
            self.migrator.upgrade(self.branch(KERNEL_BRANCH), connection)
            already = set(enabled_plugin_names(connection) or [])
            for name in order:
                self.migrator.upgrade(self.branch(name), connection)
                record_enabled(connection, name, self.plugins.plugins[name].version, True)
            # Check hooks and declarations before committing: a plugin that would stop
            # the next boot is never left enabled.
            boot = self._build(self._bootable(enabled_plugin_names(connection) or []))
        if self.pm is not None:
            self._activate(boot)
        return [n for n in order if n not in already]

    def disable(self, names: Iterable[str]) -> list[str]:
        """Disable plugins, keeping their tables and data; refused while a dependent is enabled."""
        names = list(names)
        with self.engine.begin() as connection:
            enabled = set(enabled_plugin_names(connection) or [])
            for name in names:
                if name not in enabled:
                    raise PluginError(f"plugin {name!r} is not enabled in this database",
                                      plugin=name)
                blockers = sorted(
                    other for other in enabled - set(names)
                    if other in self.plugins.plugins and name in self.plugins.plugins[other].depends
                )
                if blockers:
                    raise PluginError(
                        f"cannot disable {name!r}: enabled plugin {blockers[0]!r} depends on"
                        f" it; disable {', '.join(map(repr, blockers))} first", plugin=name)
            for name in names:
                plugin = self.plugins.plugins.get(name)
                version = plugin.version if plugin else None
                record_enabled(connection, name, version, False)
        if self.pm is not None:
            self._register(self._bootable(self.enabled_names() or []))
        return names

    # -- shutdown ------------------------------------------------------------------------

    def close(self) -> None:
        """Call ``erp_shutdown`` and release the database connections."""
        if self.pm is not None:
            self.contribute("erp_shutdown", kernel=self)
            self.pm = None
        self.engine.dispose()

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_database(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
