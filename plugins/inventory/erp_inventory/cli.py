"""``erp inventory warehouses ...`` and ``erp inventory locations ...``: list, create and
update warehouses and their locations from the shell.

Writes go through the same entity service as the API (``inventory.warehouse`` and
``inventory.location``), so the same rules hold: a new warehouse gets its storage, input
and output locations, a location's kind fits its warehouse, and a location with stock
history keeps its kind, warehouse and (virtual) code. Records are named by their codes.
"""

from __future__ import annotations

import json
from typing import Any

import click

_json = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def _context(state: Any) -> Any:
    from erp_sdk import Principal

    return state.kernel(boot=True).context(Principal.system("cli"))


def _id_by_code(ctx: Any, entity: str, code: str) -> int:
    from erp_sdk import NotFoundError

    found = ctx.records(entity).list([("code", code), ("limit", "1")])["items"]
    if not found:
        raise NotFoundError(f"no {entity.split('.')[1]} has the code {code!r}")
    return int(found[0]["id"])


def _all(ctx: Any, entity: str, filters: list[tuple[str, str]]) -> list[dict[str, Any]]:
    records = ctx.records(entity)
    items: list[dict[str, Any]] = []
    params = [*filters, ("sort", "code"), ("limit", "500")]
    while True:
        page = records.list(params)
        items += page["items"]
        if not page["next_cursor"]:
            return items
        params = [*filters, ("sort", "code"), ("limit", "500"), ("cursor", page["next_cursor"])]


def _print(items: list[dict[str, Any]], as_json: bool, line: Any) -> None:
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    for item in items:
        click.echo(line(item))


def _changes(**values: Any) -> dict[str, Any]:
    changes = {name: value for name, value in values.items() if value is not None}
    if not changes:
        raise click.UsageError("say what to change (see --help)")
    return changes


@click.group("warehouses")
def warehouses() -> None:
    """Warehouses: where stock is kept and orders ship from."""


@warehouses.command("list")
@_json
@click.pass_obj
def list_warehouses(state: Any, as_json: bool) -> None:
    """Every warehouse, by code."""
    with _context(state) as ctx:
        items = _all(ctx, "inventory.warehouse", [])
    _print(items, as_json, lambda w: f"{w['code']}  {w['name']}  (id {w['id']})"
                                     f"{'' if w['active'] else '  inactive'}")


@warehouses.command("create")
@click.argument("code")
@click.argument("name")
@click.pass_obj
def create_warehouse_command(state: Any, code: str, name: str) -> None:
    """Create warehouse CODE called NAME, with its storage, input and output locations."""
    with _context(state) as ctx:
        warehouse = ctx.records("inventory.warehouse").create({"code": code, "name": name})
    click.echo(f"warehouse {code} created (id {warehouse['id']}) with locations"
               f" {code}/storage, {code}/input, {code}/output")


@warehouses.command("update")
@click.argument("code")
@click.option("--code", "new_code", help="A new code (its locations keep theirs).")
@click.option("--name", help="A new name.")
@click.option("--active/--inactive", default=None, help="Open or close the warehouse.")
@click.pass_obj
def update_warehouse_command(state: Any, code: str, new_code: str | None, name: str | None,
                             active: bool | None) -> None:
    """Change warehouse CODE."""
    changes = _changes(code=new_code, name=name, active=active)
    with _context(state) as ctx:
        warehouse = ctx.records("inventory.warehouse").update(
            _id_by_code(ctx, "inventory.warehouse", code), changes)
    click.echo(f"warehouse {warehouse['code']} updated (version {warehouse['version']})")


@click.group("locations")
def locations() -> None:
    """Locations: a warehouse's storage, input and output places, and virtual ones."""


@locations.command("list")
@click.option("--warehouse", "warehouse_code", metavar="CODE",
              help="Only the locations of this warehouse.")
@_json
@click.pass_obj
def list_locations(state: Any, warehouse_code: str | None, as_json: bool) -> None:
    """Every location, by code."""
    with _context(state) as ctx:
        filters = [] if warehouse_code is None else [
            ("warehouse_id", str(_id_by_code(ctx, "inventory.warehouse", warehouse_code)))]
        items = _all(ctx, "inventory.location", filters)
        codes = {w["id"]: w["code"] for w in _all(ctx, "inventory.warehouse", [])}
    _print(items, as_json, lambda loc: f"{loc['code']}  {loc['kind']}  {loc['name']}"
                                       f"  (id {loc['id']}, warehouse"
                                       f" {codes.get(loc['warehouse_id'], '-')})")


_kind = click.Choice(["storage", "input", "output", "supplier", "customer", "adjustment",
                      "transit", "damaged"])


@locations.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=_kind, required=True,
              help="storage, input, output (in a warehouse) or a virtual kind.")
@click.option("--warehouse", "warehouse_code", metavar="CODE",
              help="The warehouse (required for storage, input and output).")
@click.pass_obj
def create_location_command(state: Any, code: str, name: str, kind: str,
                            warehouse_code: str | None) -> None:
    """Create location CODE called NAME."""
    with _context(state) as ctx:
        warehouse_id = None if warehouse_code is None else _id_by_code(
            ctx, "inventory.warehouse", warehouse_code)
        location = ctx.records("inventory.location").create(
            {"code": code, "name": name, "kind": kind, "warehouse_id": warehouse_id})
    click.echo(f"location {code} created (id {location['id']})")


@locations.command("update")
@click.argument("code")
@click.option("--code", "new_code", help="A new code.")
@click.option("--name", help="A new name.")
@click.option("--kind", type=_kind, help="A new kind (not once stock moved through it).")
@click.option("--warehouse", "warehouse_code", metavar="CODE",
              help="Another warehouse (not once stock moved through it).")
@click.pass_obj
def update_location_command(state: Any, code: str, new_code: str | None, name: str | None,
                            kind: str | None, warehouse_code: str | None) -> None:
    """Change location CODE."""
    with _context(state) as ctx:
        warehouse_id = None if warehouse_code is None else _id_by_code(
            ctx, "inventory.warehouse", warehouse_code)
        location = ctx.records("inventory.location").update(
            _id_by_code(ctx, "inventory.location", code),
            _changes(code=new_code, name=name, kind=kind, warehouse_id=warehouse_id))
    click.echo(f"location {location['code']} updated (version {location['version']})")


COMMANDS = [warehouses, locations]
