"""What every ``erp`` sub-command shares: a lazily built kernel and the error policy."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import click

from erp_core.errors import ErpError


class CliContext:
    """Builds the kernel once per command invocation, on first use."""

    def __init__(self, database_url: str | None = None) -> None:
        self.database_url = database_url
        self._kernel: Any = None

    def kernel(self, *, boot: bool = False) -> Any:
        from erp_core.kernel import Kernel
        from erp_core.settings import Settings

        if self._kernel is None:
            self._kernel = Kernel(Settings.from_env(database_url=self.database_url))
        if boot and self._kernel.pm is None:
            self._kernel.boot()
        return self._kernel

    def close(self) -> None:
        if self._kernel is not None:
            self._kernel.close()
            self._kernel = None


def cli_context(ctx: click.Context) -> CliContext:
    """The invocation's ``CliContext``, created on first use from the root's options.

    Click resolves a sub-command before it runs the root group's callback, so the plugin
    command groups need the context (and the ``--database-url`` already parsed) earlier.
    """
    state = ctx.find_object(CliContext)
    if state is None:
        root = ctx.find_root()
        state = root.obj = CliContext(database_url=root.params.get("database_url"))
        root.call_on_close(state.close)
    return state


def key_values(values: tuple[str, ...], what: str) -> dict[str, str]:
    """Repeated ``--WHAT KEY=VALUE`` options (a driver's settings or secrets) as a dict."""
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise click.ClickException(f"--{what} {value!r} is not KEY=VALUE")
        pairs[key] = item
    return pairs


def echo_records(ctx: click.Context, entity: str, *, as_json: bool, none: str,
                 line: Callable[[Mapping[str, Any]], str]) -> None:
    """Print the records of ``entity`` (up to 500, by id): as JSON, or one ``line`` each
    (``none`` when there are none)."""
    kernel = cli_context(ctx).kernel(boot=True)
    with kernel.context() as erp:
        records = erp.records(entity).list([("limit", "500")])["items"]
    if as_json:
        click.echo(json.dumps(records, indent=2, default=str))
        return
    if not records:
        click.echo(none)
    for record in records:
        click.echo(line(record))


def delete_record(ctx: click.Context, entity: str, record_id: int) -> None:
    """Delete one record of ``entity`` through the entity service (audited, announced)."""
    kernel = cli_context(ctx).kernel(boot=True)
    with kernel.context() as erp:
        erp.records(entity).delete(record_id)


class PluginCommands(click.Group):
    """``erp <plugin> ...``: the commands one plugin contributes, loaded (the kernel
    booted) the first time the group is looked into, so that ``erp --help`` and the
    kernel's own commands never import a plugin's commands, models or routes."""

    def __init__(self, plugin: str) -> None:
        super().__init__(plugin, help=f"Commands of the {plugin} plugin.")
        self._loaded = False

    def _load(self, ctx: click.Context) -> None:
        if self._loaded:
            return
        self._loaded = True
        kernel = cli_context(ctx).kernel(boot=True)
        for plugin, commands in kernel.contribute("erp_register_cli_commands"):
            if plugin == self.name:
                for command in commands or ():
                    self.add_command(command)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._load(ctx)
        return super().get_command(ctx, name)


class ErpGroup(click.Group):
    """A group whose built-in commands load lazily and whose plugins add command groups.

    ``ErpError`` raised anywhere below becomes a one-line message and exit status 1.
    """

    builtin_commands: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.builtin_commands, *super().list_commands(ctx),
                       *self._plugin_groups(ctx, quiet=True)})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.builtin_commands:
            module, _, attr = self.builtin_commands[name].partition(":")
            return getattr(importlib.import_module(module), attr)
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        return self._plugin_groups(ctx, quiet=False).get(name)

    def _plugin_groups(self, ctx: click.Context, *, quiet: bool) -> dict[str, click.Group]:
        """A group per enabled plugin that contributes commands, found from the manifests
        and the database's plugin state alone: the kernel boots only when a group's
        commands are looked into."""
        try:
            kernel = cli_context(ctx).kernel()
            enabled = kernel.enabled_names() or []
            plugins = kernel.plugins.plugins
        except Exception:
            if quiet:  # a help screen lists what it can, even when the database is down
                return {}
            raise
        names = [name for name in enabled if name in plugins and (
            plugins[name].broken  # its commands' group reports why it cannot load
            or hasattr(plugins[name].target, "erp_register_cli_commands"))]
        if quiet:
            names = [name for name in names if not plugins[name].broken]
        return {name: PluginCommands(name) for name in names}

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import DBAPIError

        try:
            return super().invoke(ctx)
        except ErpError as exc:
            raise click.ClickException(exc.message) from None
        except DBAPIError as exc:  # unreachable or refusing database: say so, no traceback
            first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise click.ClickException(f"database error: {first}") from None

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except ErpError as exc:
            raise click.ClickException(exc.message) from None
