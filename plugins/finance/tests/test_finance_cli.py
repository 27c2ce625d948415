"""``erp finance setup``, ``verify`` and ``statement`` from the shell."""

from __future__ import annotations

import json
from decimal import Decimal

import sqlalchemy as sa
from click.testing import CliRunner
from finance_helpers import TODAY

from erp_core.cli import main
from erp_finance.accounts import account_by_code
from erp_finance.ledger import EntryDraft, EntryLine, LineDraft, post_entry


def test_setup_verify_and_a_statement_from_the_shell(kernel, erp_database_url):
    runner = CliRunner()

    def erp(*args: str):
        return runner.invoke(main, ["--database-url", erp_database_url, "finance", *args],
                             env={"ERP_DATABASE_URL": None})

    set_up = erp("setup", "--template", "cn-small", "--currency", "CNY")
    assert set_up.exit_code == 0, set_up.output
    assert "chart cn-small, currency CNY" in set_up.output
    with kernel.transaction() as session:
        cash, capital = account_by_code(session, "1002").id, account_by_code(session, "3001").id
        posted = [post_entry(session, EntryDraft("GEN", TODAY, [
            LineDraft(cash, debit=Decimal("8.00")), LineDraft(capital, credit=Decimal("8.00"))]))
            for _ in range(2)]
    intact = erp("verify")
    assert intact.exit_code == 0 and "2 entries verified" in intact.output

    with kernel.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        else:
            session.execute(sa.text("DROP TRIGGER finance_entry_line_final_update"))
        session.execute(sa.update(EntryLine).where(EntryLine.entry_id == posted[0].id)
                        .values(label="changed afterwards", partner_id=99))
    broken = erp("verify")
    assert broken.exit_code == 1
    assert f"entry {posted[0].name} its content does not match its hash" in broken.output

    trial = erp("statement", "trial-balance")
    assert trial.exit_code == 0, trial.output
    assert Decimal(json.loads(trial.output)["totals"]["closing"]) == 0
