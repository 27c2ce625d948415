"""Every hook the kernel calls, grouped by lifecycle phase.

A plugin implements a hook by defining a function of the same name decorated with
``erp_sdk.hookimpl`` in its entry-point module or a module its manifest names in
``modules``; it may accept any subset of the documented arguments. Every hook runs
through one dispatcher (``erp_core.dispatch``) in one order: ``priority`` (lower first,
default 500), then dependencies before dependents, then module and function name.
Contribution hooks (``erp_register_*``) return plain value objects, collected with the
contributing plugin's name attached by the kernel. A test fails when a hook here lacks a
docstring naming each argument and the return contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Sequence

    import click
    from sqlalchemy.orm import Session

    from erp_core.context import Context, KernelServices
    from erp_core.entities.declaration import Entity, EntityExtension
    from erp_core.events.outbox import DomainEvent
    from erp_core.hook_events import TransitionEvent, WriteEvent
    from erp_core.inbound.declaration import WebhookReceiver
    from erp_core.jobs.declaration import Job
    from erp_core.metric_definitions import Metric
    from erp_core.security.permissions import Permission, RecordRule, Role

PROJECT = "erp"

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marks a function as a hookspec; a plugin's own hookspecs use it (see ``erp_add_hookspecs``)."""


# -- set-up --------------------------------------------------------------------------


@hookspec
def erp_add_hookspecs(pluginmanager: pluggy.PluginManager) -> None:
    """Add a plugin's own hookspecs, so that its dependents can implement them.

    :param pluginmanager: the kernel's ``pluggy.PluginManager``; call
        ``pluginmanager.add_hookspecs(module_or_class)`` with a namespace whose functions
        are decorated with ``erp_sdk.hookspec``.

    Return value: ignored. Called for every enabled plugin before any other hook is
    checked, so a plugin's dependents may implement the hooks it adds.
    """


# -- registration: what plugins contribute ----------------------------------------------


@hookspec
def erp_register_entities() -> Sequence[Entity | EntityExtension]:
    """Declare the plugin's entities and its extensions of other plugins' entities.

    Takes no argument.

    Return value: a sequence of ``erp_sdk.Entity`` (registered as ``<plugin>.<name>``,
    with list, get, create, update and delete routes under
    ``/api/v1/<plugin>/<collection>``) and ``erp_sdk.EntityExtension`` (extra fields on
    another plugin's entity, stored in this plugin's side table). Mistakes (duplicate
    names, a table without the plugin prefix, an unknown filter field) stop the boot
    with a ``PluginError`` naming the plugin.
    """


@hookspec
def erp_register_permissions() -> Sequence[Permission | Role | RecordRule]:
    """Declare permissions beyond the derived ones, default roles, and record rules.

    Takes no argument.

    Return value: a sequence of ``erp_sdk.Permission`` (named ``<plugin>.<...>``),
    ``erp_sdk.Role`` (named ``<plugin>.<role>``, bundling permission names or ``fnmatch``
    patterns) and ``erp_sdk.RecordRule`` (narrowing the rows of an entity a role sees and
    changes). Permissions ``<entity>.read|create|update|delete|<transition>`` are derived
    for every entity and need no declaration. A role naming no known permission stops
    the boot.
    """


@hookspec
def erp_register_routes() -> Sequence[Any]:
    """Contribute HTTP route handlers (Litestar handlers, controllers or routers).

    Takes no argument.

    Return value: a sequence of Litestar route handlers; the kernel mounts them under
    ``/api/v1/<plugin>``, where ``<plugin>`` is the name of the plugin that returned them.
    Handlers receive the kernel through the ``kernel`` dependency.
    """


@hookspec
def erp_register_pages() -> Sequence[Any]:
    """Contribute web pages for people (a dashboard), served outside the API.

    Takes no argument.

    Return value: a sequence of Litestar route handlers or routers, mounted at the paths
    they declare (``/dashboard``, not under ``/api/v1``) and left out of the OpenAPI
    document. Like routes, each declares what it needs in its ``opt``; a page that signs
    its users in itself (``erp_sdk.WebSessions``) says ``{"public": True}`` and checks
    the session in its handler. Handlers receive the kernel through the ``kernel``
    dependency.
    """


@hookspec
def erp_register_cli_commands() -> Sequence[click.Command]:
    """Contribute command-line commands.

    Takes no argument.

    Return value: a sequence of ``click.Command`` objects; the kernel adds them to a
    group named after the plugin, so ``erp <plugin> <command>`` runs them.
    """


@hookspec
def erp_register_jobs() -> Sequence[Job]:
    """Declare the plugin's periodic jobs, which ``erp worker`` (and ``erp jobs run-due``)
    runs.

    Takes no argument.

    Return value: a sequence of ``erp_sdk.Job``: a name (registered as
    ``<plugin>.<name>``), ``run`` (called with the booted ``Kernel``; it opens its own
    transactions), and a schedule, ``every=timedelta`` or ``cron="*/5 * * * *"`` (UTC).
    Each due time runs at most once across every process sharing the database; a run
    that raises is recorded as failed with its message and runs again at the next due
    time. ``erp jobs list`` shows the jobs, ``erp jobs run NAME`` runs one now.
    """


@hookspec
def erp_register_webhook_receivers() -> Sequence[WebhookReceiver]:
    """Take the webhooks outside services push to the driver accounts the plugin owns
    (``POST /api/v1/hooks/{driver}/{account}``).

    Takes no argument.

    Return value: a sequence of ``erp_sdk.WebhookReceiver``: ``verify(kernel, webhook)``
    returns ``None`` for an account the plugin does not own, otherwise has the account's
    driver check the signature on the raw body (raising ``WebhookRejected``, a 401) and
    returns a ``VerifiedWebhook`` (what it read, and the provider's event id);
    ``handle(ctx, verified)`` acts on it in the transaction that records the event id, so
    a replay of the event is answered as a duplicate without being handled again. The
    kernel asks the receivers in dependency order; the first that owns the account wins.
    """


@hookspec
def erp_register_metrics() -> Sequence[Metric]:
    """Define, once, the metrics of the data the plugin owns, for reporting plugins.

    Takes no argument.

    Return value: a sequence of ``erp_sdk.Metric``, registered as ``<plugin>.<name>``:
    a ``Measure`` (``sum``, ``count``, ``count_distinct``, ``average``, or ``ratio`` of two
    of those) over a ``MetricSource`` (a table, the joins every row needs, a condition,
    the aware UTC time column, the entities whose record rules narrow its rows, the
    currency column of money), cut by the source's ``Dimension``s, and visible to a
    principal holding ``permission``. Metrics of several plugins share a dimension by
    name. A source may declare ``rollups`` (``erp_sdk.Rollup``: keys, the distinct counts that
    add up across them, an hourly or daily grain) and the ``changed`` columns saying when its
    rows last changed, for a reporting plugin to pre-aggregate it. A duplicate name, an
    unknown permission, a money metric without a currency column or rollups without a time
    and ``changed`` columns is refused with a ``PluginError`` naming the plugin when the metrics
    are collected (``erp_sdk.registered_metrics(kernel)``).
    """


# -- workflow ------------------------------------------------------------------------


@hookspec
def erp_before_transition(ctx: Context, event: TransitionEvent) -> None:
    """Called before a workflow transition changes a record's state.

    :param ctx: the ``Context`` of the transition (session in its transaction, principal).
    :param event: the ``TransitionEvent``: entity, record id, transition, source and target
        states, and the record as it is before the change.

    Return value: ignored. Raise ``erp_sdk.TransitionVetoed(reason)`` to refuse the
    transition (the caller gets 409 with the reason). Subscribe with
    ``@erp_sdk.on_transition(entity, transition, when="before")``.
    """


@hookspec
def erp_after_transition(ctx: Context, event: TransitionEvent) -> None:
    """Called after a transition changed the state, in the same database transaction.

    :param ctx: the ``Context`` of the transition; write through ``ctx.session``.
    :param event: the ``TransitionEvent``, with the record as it is after the change.

    Return value: ignored. Raising undoes the whole transition: the state, every other
    subscriber's reactions, the audit row and the outbox event. Subscribe with
    ``@erp_sdk.on_transition(entity, transition)`` (``when="after"`` is the default).
    """


@hookspec
def erp_before_write(ctx: Context, event: WriteEvent) -> None:
    """Called before the entity service creates, updates or deletes a record.

    :param ctx: the ``Context`` of the write.
    :param event: the ``WriteEvent``: entity, action, record id, the record before, and
        the checked values about to be written.

    Return value: ignored. Raise an ``ErpError`` (e.g. ``ConflictError`` "lines of a
    confirmed order cannot change") to refuse the write; nothing is written. Subscribe
    with ``@erp_sdk.on_write(entity, when="before")``.
    """


@hookspec
def erp_after_write(ctx: Context, event: WriteEvent) -> None:
    """Called after the entity service wrote a record, in the same transaction.

    :param ctx: the ``Context`` of the write.
    :param event: the ``WriteEvent`` with the record before and after.

    Return value: ignored. Raising undoes the write. Subscribe with
    ``@erp_sdk.on_write(entity)`` (``when="after"`` is the default).
    """


# -- events --------------------------------------------------------------------------


@hookspec
def erp_on_commit(kernel: KernelServices, events: Sequence[DomainEvent]) -> None:
    """Called after a transaction that wrote domain events committed.

    :param kernel: the booted ``Kernel``.
    :param events: the ``DomainEvent`` objects written to the outbox by that transaction,
        in order.

    Return value: ignored. The commit has happened: an exception here is logged, not
    raised. For reliable delivery read the outbox instead.
    """


# -- lifecycle ------------------------------------------------------------------------


@hookspec
def erp_boot(kernel: KernelServices) -> None:
    """Called once the enabled plugins are registered, in dependency order.

    Enabling or disabling a plugin on a running kernel re-registers the plugins:
    ``erp_shutdown`` is then called for the old set and ``erp_boot`` again for the new.

    :param kernel: the booted ``Kernel``; its registries are complete at this point.

    Return value: ignored. An exception here stops the boot with a ``PluginError``
    naming the plugin.
    """


@hookspec
def erp_shutdown(kernel: KernelServices) -> None:
    """Called when the kernel is closed (server shutdown, end of a CLI command).

    :param kernel: the ``Kernel`` being closed; its database is still reachable.

    Return value: ignored.
    """


@hookspec
def erp_load_demo_data(session: Session, kernel: KernelServices) -> None:
    """Write a plugin's demo data into a fresh database (``erp demo``).

    :param session: an open SQLAlchemy session inside the demo transaction; add rows to
        it and do not commit (the kernel commits once every plugin has run).
    :param kernel: the booted ``Kernel``.

    Return value: ignored. Called in dependency order, so a plugin finds the demo data
    of the plugins it depends on.
    """
