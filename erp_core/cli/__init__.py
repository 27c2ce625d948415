"""The ``erp`` command.

Sub-commands import their heavy dependencies lazily so ``erp plugins list`` stays as fast
as importing the plugins themselves. Every ``ErpError`` ends the command with its message
on stderr and exit status 1, never with a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from erp_core.cli.context import ErpGroup, cli_context
from erp_core.logs import configure_logging


@click.group(cls=ErpGroup, context_settings={"help_option_names": ["-h", "--help"]})
# eager, so that `erp --database-url URL --help` lists the plugin commands of that database
@click.option("--database-url", envvar="ERP_DATABASE_URL", metavar="URL", is_eager=True,
              help="Database to use (env ERP_DATABASE_URL; default sqlite:///erp.db).")
@click.option("-v", "--verbose", is_flag=True, help="Log what the kernel does.")
@click.version_option(package_name="erp-core", prog_name="erp")
@click.pass_context
def main(ctx: click.Context, database_url: str | None, verbose: bool) -> None:
    """Plugin-based ERP for e-commerce sellers."""
    configure_logging(verbose)
    cli_context(ctx)


ErpGroup.builtin_commands = {
    "init": "erp_core.cli.database:init",
    "migrate": "erp_core.cli.database:migrate",
    "plugins": "erp_core.cli.plugins:plugins",
    "serve": "erp_core.cli.serve:serve",
    "demo": "erp_core.cli.serve:demo",
    "users": "erp_core.cli.accounts:users",
    "tokens": "erp_core.cli.accounts:tokens",
    "roles": "erp_core.cli.accounts:roles",
    "drivers": "erp_core.cli.drivers:drivers",
    "jobs": "erp_core.cli.jobs:jobs",
    "worker": "erp_core.cli.worker:worker",
    "webhooks": "erp_core.cli.webhooks:webhooks",
    "sinks": "erp_core.cli.sinks:sinks",
    "rates": "erp_core.cli.rates:rates",
}


def run(*args: Any) -> None:  # pragma: no cover - convenience for `python -m`
    main(*args)
