"""Taxes: which rate applies (by product category and destination) and how it rounds.

A company rounds taxes one of two ways (``Books.tax_rounding``):

- ``per_line``: each line's net is rounded to the cent, then its tax; the document's tax
  is the sum of the lines' taxes. Ten lines of one unit can total differently from one
  line of ten units (odoo#155833: 10 x 3.60 at 5.5 % is 38.00 on ten lines, 37.98 on one).
- ``per_document``: the lines' nets are rounded to the cent, then the tax of each rate is
  computed once on the sum of those nets and shared out over the lines to the cent
  (largest remainder first). The tax always equals the rounded rate times the untaxed
  amount shown, so splitting lines never changes the total (odoo#37896: 16 x 348.35
  less 4 % at 22 % is 6527.81 either way, where Odoo's global rounding gave 6527.80).

Tax-included prices: a line's gross is rounded first and never changes; the tax is taken
out of it (``gross * rate / (1 + rate)``) and the net is what remains, so the document
totals exactly what the customer was shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_finance.accounts import TaxRounding
from erp_finance.money import CENT, ZERO, cents
from erp_sdk import Base, Rate, RecordMixin


class TaxRule(RecordMixin, Base):
    """A rate for a product category (or every category) shipped to a country (or
    anywhere); the most specific matching rule wins."""

    __tablename__ = "finance_tax_rule"

    name: Mapped[str] = mapped_column(sa.String(80))
    rate: Mapped[Rate]
    price_included: Mapped[bool] = mapped_column(default=False)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_category.id"))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finance_account.id"))
    active: Mapped[bool] = mapped_column(default=True)


@attrs.frozen
class ApplicableTax:
    rate: Decimal
    price_included: bool
    account_id: int | None
    rule_id: int | None
    category_id: int | None = None
    country: str | None = None


def most_specific(rules: Iterable[ApplicableTax]) -> ApplicableTax | None:
    """Of the rules that match a line, the one that applies: a category's before any
    category's, a country's before anywhere's, then the oldest."""
    return max(rules, default=None, key=lambda rule: (rule.category_id is not None,
                                                      rule.country is not None, -rule.rule_id))


def applicable_tax(session: Session, category_id: int | None, country: str | None
                   ) -> ApplicableTax | None:
    """The most specific active rule for the category and destination, or None."""
    rules = session.execute(sa.select(TaxRule).where(
        TaxRule.active.is_(True),
        sa.or_(TaxRule.category_id.is_(None), TaxRule.category_id == category_id),
        sa.or_(TaxRule.country.is_(None), TaxRule.country == (country or "").upper()))).scalars()
    return most_specific(ApplicableTax(rule.rate, rule.price_included, rule.account_id, rule.id,
                                       rule.category_id, rule.country) for rule in rules)


@attrs.frozen
class TaxableLine:
    """``quantity x unit_price``, less ``discount_rate`` (a fraction) and then ``discount``
    (an amount), taxed at ``rate``; ``price_included``: the price includes the tax."""

    quantity: Decimal
    unit_price: Decimal
    rate: Decimal
    discount: Decimal = ZERO
    discount_rate: Decimal = ZERO
    price_included: bool = False


@attrs.frozen
class TaxedLine:
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


@attrs.frozen
class TaxedDocument:
    lines: tuple[TaxedLine, ...]

    @property
    def untaxed(self) -> Decimal:
        return sum((line.net for line in self.lines), ZERO)

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return self.untaxed + self.tax


def _amount(line: TaxableLine) -> Decimal:
    return cents(line.quantity * line.unit_price * (1 - line.discount_rate) - line.discount)


def _tax_part(amount: Decimal, line: TaxableLine) -> Decimal:
    """Unrounded tax of a rounded amount (net, or gross when the price includes tax)."""
    if line.price_included:
        return amount * line.rate / (1 + line.rate)
    return amount * line.rate


def _share_out(total: Decimal, raw: Sequence[Decimal]) -> list[Decimal]:
    """Round ``raw`` to cents so that they add up to ``total`` (largest remainder)."""
    rounded = [value.quantize(CENT, rounding=ROUND_HALF_UP) for value in raw]
    left = total - sum(rounded, ZERO)
    step = CENT if left > 0 else -CENT
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - rounded[i]) * (1 if step > 0
                                                                              else -1), i))
    for index in order:
        if not left:
            break
        rounded[index] += step
        left -= step
    return rounded


def compute_taxes(lines: Sequence[TaxableLine], rounding: TaxRounding | str) -> TaxedDocument:
    """Net and tax of every line, to the cent, by the company's rounding mode."""
    amounts = [_amount(line) for line in lines]
    if TaxRounding(rounding) == TaxRounding.PER_LINE:
        taxes = [cents(_tax_part(amount, line)) for amount, line in zip(amounts, lines,
                                                                        strict=True)]
    else:
        taxes = [ZERO] * len(lines)
        groups: dict[tuple[Decimal, bool], list[int]] = {}
        for index, line in enumerate(lines):
            groups.setdefault((line.rate, line.price_included), []).append(index)
        for indexes in groups.values():
            raw = [_tax_part(amounts[i], lines[i]) for i in indexes]
            group_total = cents(_tax_part(sum((amounts[i] for i in indexes), ZERO),
                                          lines[indexes[0]]))
            for index, tax in zip(indexes, _share_out(group_total, raw), strict=True):
                taxes[index] = tax
    return TaxedDocument(tuple(
        TaxedLine(amount - tax if line.price_included else amount, tax)
        for amount, tax, line in zip(amounts, taxes, lines, strict=True)))
