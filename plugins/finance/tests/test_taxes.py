"""Tax rounding, to the cent, on Odoo's two reported invoices (odoo#37896, odoo#155833)."""

from __future__ import annotations

from decimal import Decimal

from erp_finance.taxes import TaxableLine, compute_taxes

D = Decimal


def test_odoo_37896_gives_the_same_total_per_line_and_per_document():
    """16 x 348.35 less 4 % at 22 %: Odoo's global rounding gave 6527.80 and per line
    6527.81; here the tax is always the rate times the untaxed amount shown."""
    line = TaxableLine(D(16), D("348.35"), D("0.22"), discount_rate=D("0.04"))
    per_line = compute_taxes([line], "per_line")
    per_document = compute_taxes([line], "per_document")
    assert (per_line.untaxed, per_line.tax, per_line.total) == (
        D("5350.66"), D("1177.15"), D("6527.81"))
    assert (per_document.untaxed, per_document.tax, per_document.total) == (
        D("5350.66"), D("1177.15"), D("6527.81"))


def test_odoo_155833_per_line_rounding_depends_on_how_lines_are_split():
    """3.60 at 5.5 %: ten lines of one unit are 38.00 per line (0.20 tax each), one line
    of ten units 37.98 (1.98 tax)."""
    ten_lines = [TaxableLine(D(1), D("3.60"), D("0.055"))] * 10
    one_line = [TaxableLine(D(10), D("3.60"), D("0.055"))]
    assert compute_taxes(ten_lines, "per_line").total == D("38.00")
    assert compute_taxes(one_line, "per_line").total == D("37.98")


def test_odoo_155833_per_document_rounding_does_not_depend_on_the_split():
    ten_lines = compute_taxes([TaxableLine(D(1), D("3.60"), D("0.055"))] * 10, "per_document")
    one_line = compute_taxes([TaxableLine(D(10), D("3.60"), D("0.055"))], "per_document")
    assert (ten_lines.untaxed, ten_lines.tax, ten_lines.total) == (D("36.00"), D("1.98"),
                                                                   D("37.98"))
    assert one_line.total == D("37.98")
    # the document's tax is shared out over its lines to the cent
    assert sorted({line.tax for line in ten_lines.lines}) == [D("0.19"), D("0.20")]
    assert sum(line.tax for line in ten_lines.lines) == D("1.98")


def test_tax_included_prices_keep_the_gross_the_customer_saw():
    """Two lines of 21.53 with 21 % included (odoo PR#169960): the total is 43.06."""
    lines = [TaxableLine(D(1), D("21.53"), D("0.21"), price_included=True)] * 2
    per_line = compute_taxes(lines, "per_line")
    per_document = compute_taxes(lines, "per_document")
    assert per_line.total == per_document.total == D("43.06")
    assert (per_line.untaxed, per_line.tax) == (D("35.58"), D("7.48"))
    assert (per_document.untaxed, per_document.tax) == (D("35.59"), D("7.47"))


def test_rates_round_separately_per_document():
    lines = [TaxableLine(D(1), D("10.01"), D("0.19")), TaxableLine(D(1), D("10.01"), D("0.07")),
             TaxableLine(D(1), D("10.01"), D("0.19"))]
    taxed = compute_taxes(lines, "per_document")
    assert taxed.tax == D("3.80") + D("0.70")  # 20.02 x 19 %, 10.01 x 7 %
