"""``erp finance ...``: set up the books, verify the journals, print statements, book stock."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click


def _context(state: Any) -> Any:
    from erp_sdk import Principal

    return state.kernel(boot=True).context(Principal.system("cli"))


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else f"{value:f}" \
        if hasattr(value, "is_finite") else str(value)


@click.command("setup")
@click.option("--template", type=click.Choice(["generic", "cn-small"]), default="generic",
              show_default=True, help="The chart of accounts to load.")
@click.option("--currency", default="EUR", show_default=True, help="The functional currency.")
@click.option("--year", type=int, default=None, help="The first fiscal year (default: this one).")
@click.option("--company", "company_name", default="My company", show_default=True)
@click.option("--tax-rounding", type=click.Choice(["per_line", "per_document"]),
              default="per_line", show_default=True)
@click.pass_obj
def setup_command(state: Any, template: str, currency: str, year: int | None,
                  company_name: str, tax_rounding: str) -> None:
    """Load a chart template, the six journals and a fiscal year of twelve months."""
    from erp_finance.accounts import TaxRounding
    from erp_finance.charts import setup_books
    from erp_finance.requests import currency_code
    from erp_sdk import utcnow

    with _context(state) as ctx:
        ctx.principal.require("finance.books.setup")
        books = setup_books(ctx.session, template, currency=currency_code(currency),
                            year=year or utcnow().date().year, company_name=company_name,
                            tax_rounding=TaxRounding(tax_rounding))
        click.echo(f"books set up: chart {books.template}, currency {books.currency}")


@click.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def verify_command(state: Any, as_json: bool) -> None:
    """Recompute every journal's hash chain; exit 1 naming the first entry that breaks it."""
    from erp_finance.integrity import verify_chains

    with _context(state) as ctx:
        result = verify_chains(ctx.session)
    if as_json:
        click.echo(json.dumps({"ok": result.ok, "entries": result.entries, "breaks": [
            {"journal": b.journal, "fiscal_year": b.fiscal_year, "entry": b.entry,
             "reason": b.reason} for b in result.breaks]}))
    elif result.ok:
        click.echo(f"{result.entries} entries verified: every chain is intact")
    else:
        for item in result.breaks:
            click.echo(f"journal {item.journal} {item.fiscal_year}: entry {item.entry or '-'}"
                       f" {item.reason}")
    if not result.ok:
        raise SystemExit(1)


@click.command("statement")
@click.argument("name", type=click.Choice(["trial-balance", "profit-and-loss",
                                           "balance-sheet", "aging"]))
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.pass_obj
def statement_command(state: Any, name: str, date_from: dt.datetime | None,
                      date_to: dt.datetime | None) -> None:
    """Print a statement as JSON (the year to date unless --from/--to say otherwise)."""
    from erp_finance import statements
    from erp_sdk import utcnow

    last = date_to.date() if date_to else utcnow().date()
    first = date_from.date() if date_from else last.replace(month=1, day=1)
    with _context(state) as ctx:
        session = ctx.session
        result = {"trial-balance": lambda: statements.trial_balance(session, first, last),
                  "profit-and-loss": lambda: statements.profit_and_loss(session, first, last),
                  "balance-sheet": lambda: statements.balance_sheet(session, last),
                  "aging": lambda: statements.receivable_aging(session, last)}[name]()
    click.echo(json.dumps(result, default=_json_default, indent=2, ensure_ascii=False))


@click.command("book-stock")
@click.pass_obj
def book_stock_command(state: Any) -> None:
    """Book the stock moves no document booked yet (receipts, adjustments)."""
    from erp_finance.stock import book_pending_moves

    with _context(state) as ctx:
        click.echo(f"{book_pending_moves(ctx.session)} stock moves booked")


COMMANDS = [setup_command, verify_command, statement_command, book_stock_command]
