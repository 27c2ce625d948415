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


@click.group(invoke_without_command=True)
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the kernel and every enabled plugin to its latest migration."""
    if ctx.invoked_subcommand is None:
        branches = ctx.find_object(CliContext).kernel().migrate()  # type: ignore[union-attr]
        click.echo(f"up to date: {', '.join(branches)}")


@migrate.command()
@click.option("--plugin", "plugin_name", required=True, metavar="NAME",
              help="The installed plugin whose next revision to write.")
@click.option("-m", "--message", required=True, help="What the revision does, in a few words.")
@click.option("--autogenerate", is_flag=True,
              help="Fill it with what makes the migrated schema match the models.")
@click.option("--against", metavar="URL",
              help="An empty database to run the existing migrations in (default: a"
                   " temporary SQLite database).")
def revision(plugin_name: str, message: str, autogenerate: bool, against: str | None) -> None:
    """Write the next migration of plugin NAME into its own branch.

    The plugin's migrations (and its dependencies') run in an empty database; with
    --autogenerate, the operations that make that schema match the plugin's models are
    written to <package>/migrations/versions/<revision>_<message>.py. The configured
    database is never touched.
    """
    import tempfile

    from erp_core.kernel import Kernel
    from erp_core.migrations.revision import write_revision
    from erp_core.settings import Settings

    with tempfile.TemporaryDirectory(prefix="erp-revision-") as scratch:
        url = against or f"sqlite:///{scratch}/scratch.db"
        kernel = Kernel(Settings.from_env(database_url=url))
        try:
            path = write_revision(kernel, plugin_name, message, autogenerate=autogenerate)
        finally:
            kernel.close()
    click.echo(f"wrote {path}")
