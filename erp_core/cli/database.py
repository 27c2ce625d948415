"""``erp init`` and ``erp migrate``."""

from __future__ import annotations

import click

from erp_core.cli.context import CliContext


@click.command()
@click.pass_obj
def init(state: CliContext) -> None:
    """Create the database, or upgrade it: the kernel's schema and every enabled plugin's."""
    kernel = state.kernel()
    kernel.initialise()
    enabled = kernel.enabled_names() or []
    click.echo(f"database ready: {kernel.engine.url.render_as_string(hide_password=True)}"
               f" ({len(enabled)} plugin{'s' if len(enabled) != 1 else ''} enabled)")


@click.command()
@click.pass_obj
def migrate(state: CliContext) -> None:
    """Bring the kernel and every enabled plugin to its latest migration."""
    branches = state.kernel().migrate()
    click.echo(f"up to date: {', '.join(branches)}")
