"""``erp promotions ...``: list promotions, generate a batch of codes, explain an order."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from erp_core.cli import main

pytestmark = pytest.mark.erp_plugins("promotions")


def test_the_commands_list_generate_codes_and_explain(erp_database_url, promote, place,
                                                      shop):
    promotion = promote(name="Two off", action="amount_off", target="order", amount="2")
    order = place(("mug", "1"))

    def run(*args):
        result = CliRunner().invoke(main, ["--database-url", erp_database_url, "promotions",
                                           *args], env={"ERP_DATABASE_URL": None})
        assert result.exit_code == 0, result.output
        return result.output

    assert re.search(rf"{promotion['id']}\s+active\s+automatic.*amount_off\s+Two off",
                     run("list", "--status", "active"))
    codes = run("generate-codes", str(promotion["id"]), "--pattern", "CLI-####",
                "--count", "3", "--usage-limit", "1").split()
    assert len(set(codes)) == 3 and all(re.fullmatch(r"CLI-[2-9]{4}", c) for c in codes)
    explained = json.loads(run("explain", str(order["id"])))
    [line] = explained["lines"]
    assert [(p["promotion_id"], p["amount"]) for p in line["promotions"]] == [
        (promotion["id"], "2.00")]
