"""``erp plugins``: list, inspect, enable and disable plugins in this database."""

from __future__ import annotations

import json

import click

from erp_core.cli.context import CliContext


@click.group()
def plugins() -> None:
    """Installed plugins and which of them this database enables."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_(state: CliContext, as_json: bool) -> None:
    """Every installed plugin: version, distribution, dependencies, enabled or broken."""
    from erp_core.plugins.report import plugin_report

    kernel = state.kernel()
    report = plugin_report(kernel.plugins, kernel.enabled_names())
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    if not report:
        click.echo("no plugins installed")
        return
    rows = [("NAME", "VERSION", "DISTRIBUTION", "STATUS", "DEPENDS")]
    for item in report:
        status = "broken" if item["broken"] else "enabled" if item["enabled"] else "available"
        rows.append((item["name"], item["version"] or "-", item["distribution"] or "-", status,
                     ", ".join(item["depends"]) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())
    for item in report:
        if item["broken"]:
            click.echo(f"\n{item['name']}: {item['error']}", err=True)


@plugins.command()
@click.argument("name")
@click.pass_obj
def info(state: CliContext, name: str) -> None:
    """Everything known about one plugin."""
    from erp_core.plugins.report import plugin_report

    kernel = state.kernel()
    kernel.plugins.get(name)
    item = next(i for i in plugin_report(kernel.plugins, kernel.enabled_names())
                if i["name"] == name)
    for key in ("name", "version", "distribution", "description", "requires_kernel"):
        click.echo(f"{key + ':':<17} {item[key] or '-'}")
    click.echo(f"{'depends:':<17} {', '.join(item['depends']) or '-'}")
    click.echo(f"{'dependents:':<17} {', '.join(kernel.plugins.dependents(name)) or '-'}")
    click.echo(f"{'enabled:':<17} {'yes' if item['enabled'] else 'no'}")
    if item["broken"]:
        click.echo(f"{'error:':<17} {item['error']}")


@plugins.command()
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def enable(state: CliContext, names: tuple[str, ...]) -> None:
    """Enable plugins (and their dependencies), running their migrations."""
    newly = state.kernel().enable(names)
    click.echo(f"enabled: {', '.join(newly)}" if newly else "already enabled")


@plugins.command()
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def disable(state: CliContext, names: tuple[str, ...]) -> None:
    """Disable plugins; their tables and data are kept for when they are enabled again."""
    state.kernel().disable(names)
    click.echo(f"disabled: {', '.join(names)} (data kept)")
