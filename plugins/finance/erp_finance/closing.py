"""Year-end closing: income and expenses go to retained earnings, then the year closes.

The closing entry (general journal, on the year's last day) clears every income and
expense account's balance for the year into retained earnings; then every period of the
year is closed, and the year with them. Reopening a period afterwards needs a manager
(and a new closing once the year is done again). The year's periods are locked first:
postings under way in them hold their period shared until they commit (``ledger``), so
the closing waits for them, reads balances that include them, and no posting waits on
the closing while holding what it needs.
"""

from __future__ import annotations

import sqlalchemy as sa

from erp_finance.accounts import PROFIT_AND_LOSS, Account, AccountRole, role_account
from erp_finance.ledger import EntryDraft, LineDraft, PeriodBalance, PostedEntry, post_entry
from erp_finance.money import ZERO
from erp_finance.periods import FiscalYear, Period, PeriodState
from erp_sdk import ConflictError, Context, NotFoundError

GENERAL_JOURNAL = "GEN"


def close_fiscal_year(ctx: Context, fiscal_year_id: int) -> PostedEntry | None:
    ctx.principal.require("finance.period.close")
    session = ctx.session
    year = session.get(FiscalYear, fiscal_year_id, with_for_update={"key_share": True})
    if year is None:
        raise NotFoundError(f"fiscal year {fiscal_year_id} does not exist")
    if year.state != PeriodState.OPEN:
        raise ConflictError(f"fiscal year {year.name} is already {year.state}")
    session.execute(sa.select(Period.id).where(Period.fiscal_year_id == year.id)
                    .order_by(Period.id).with_for_update(key_share=True))
    totals = session.execute(
        sa.select(PeriodBalance.account_id, sa.func.sum(PeriodBalance.debit),
                  sa.func.sum(PeriodBalance.credit))
        .join(Period, Period.id == PeriodBalance.period_id)
        .join(Account, Account.id == PeriodBalance.account_id)
        .where(Period.fiscal_year_id == year.id, Account.type.in_(list(PROFIT_AND_LOSS)))
        .group_by(PeriodBalance.account_id).order_by(PeriodBalance.account_id)).all()
    lines, result = [], ZERO
    for account_id, debit, credit in totals:
        balance = debit - credit
        if balance:
            lines.append(LineDraft(account_id, debit=-balance if balance < 0 else ZERO,
                                   credit=balance if balance > 0 else ZERO,
                                   label=f"closing {year.name}"))
            result += balance
    posted = None
    if lines:
        retained = role_account(session, AccountRole.RETAINED_EARNINGS)
        lines.append(LineDraft(retained, debit=result if result > 0 else ZERO,
                               credit=-result if result < 0 else ZERO,
                               label=f"result of {year.name}"))
        posted = post_entry(session, EntryDraft(GENERAL_JOURNAL, year.end_date, lines,
                                                ref=f"closing {year.name}",
                                                origin=f"finance.fiscal_year:{year.id}"))
        year.closing_entry_id = posted.id
    session.execute(sa.update(Period).where(Period.fiscal_year_id == year.id,
                                            Period.state == PeriodState.OPEN)
                    .values(state=PeriodState.CLOSED))
    year.state = PeriodState.CLOSED
    year.version += 1
    session.flush()
    ctx.audit("finance.fiscal_year", year.id, "close", {"state": "open"}, {"state": "closed"})
    return posted
