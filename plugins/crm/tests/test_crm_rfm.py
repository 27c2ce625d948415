"""RFM segments: terciles of recency, frequency and monetary value among the customers of
a currency, named by segment, rescored by the daily job, with every move recorded."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from crm_helpers import NOW, buy, customer

from erp_crm.rfm import RfmChange, RfmScore, score_rfm, score_rfm_job, segment_of

pytestmark = pytest.mark.erp_plugins("crm")

DAY = dt.timedelta(days=1)


def purchases(kernel, customer_id: int, name: str, count: int, total: int,
              last: dt.datetime, currency: str = "EUR") -> None:
    """``count`` purchases adding up to ``total``, the last one at ``last``."""
    for index in range(count):
        amount = total // count + (total % count if index == 0 else 0)
        buy(kernel, customer_id, f"{name}-{last:%j%H%M}-{index}", f"{amount}.00", currency,
            occurred_at=last - dt.timedelta(hours=count - index))


def segments(kernel) -> dict[tuple[int, str], tuple[int, int, int, str]]:
    with kernel.transaction() as session:
        return {(r.customer_id, r.currency): (r.recency, r.frequency, r.monetary, r.segment)
                for r in session.scalars(sa.select(RfmScore))}


def moves(kernel) -> list[tuple[int, str | None, str | None]]:
    with kernel.transaction() as session:
        return [(c.customer_id, c.old_segment, c.new_segment) for c in session.scalars(
            sa.select(RfmChange).order_by(RfmChange.id))]


def test_the_segment_follows_recency_and_value():
    assert segment_of(3, 3, 3) == "champions"
    assert segment_of(3, 1, 2) == "loyal"  # value is frequency and monetary, rounded up
    assert segment_of(3, 1, 1) == "promising"
    assert segment_of(1, 3, 2) == "at_risk"
    assert segment_of(1, 1, 1) == "lost"


def test_customers_are_scored_in_terciles_of_their_currency(erp_kernel):
    ada, bo, cy, di = (customer(erp_kernel, name)["id"] for name in ("Ada", "Bo", "Cy", "Di"))
    purchases(erp_kernel, ada, "ada", 5, 500, NOW - DAY)
    purchases(erp_kernel, bo, "bo", 2, 100, NOW - 10 * DAY)
    purchases(erp_kernel, cy, "cy", 1, 10, NOW - 100 * DAY)
    purchases(erp_kernel, di, "di", 1, 10, NOW - 100 * DAY, currency="USD")  # alone in USD
    with erp_kernel.transaction() as session:
        assert score_rfm(session, NOW) == 4
    assert segments(erp_kernel) == {
        (ada, "EUR"): (3, 3, 3, "champions"), (bo, "EUR"): (2, 2, 2, "loyal"),
        (cy, "EUR"): (1, 1, 1, "lost"), (di, "USD"): (3, 3, 3, "champions")}
    assert sorted(moves(erp_kernel)) == sorted([(ada, None, "champions"), (bo, None, "loyal"),
                                                (cy, None, "lost"), (di, None, "champions")])


def test_ties_share_a_score(erp_kernel):
    ada, bo, cy = (customer(erp_kernel, name)["id"] for name in ("Ada", "Bo", "Cy"))
    for person, name in ((ada, "ada"), (bo, "bo")):
        purchases(erp_kernel, person, name, 2, 50, NOW - DAY)
    purchases(erp_kernel, cy, "cy", 1, 10, NOW - 50 * DAY)
    with erp_kernel.transaction() as session:
        score_rfm(session, NOW)
    scored = segments(erp_kernel)
    assert scored[(ada, "EUR")] == scored[(bo, "EUR")] == (3, 3, 3, "champions")


def test_a_rescore_records_who_moved_from_where_to_where(erp_kernel):
    ada, bo, cy = (customer(erp_kernel, name)["id"] for name in ("Ada", "Bo", "Cy"))
    purchases(erp_kernel, ada, "ada", 5, 500, NOW - DAY)
    purchases(erp_kernel, bo, "bo", 2, 100, NOW - 10 * DAY)
    purchases(erp_kernel, cy, "cy", 1, 10, NOW - 100 * DAY)
    with erp_kernel.transaction() as session:
        score_rfm(session, NOW)
        assert score_rfm(session, NOW + DAY) == 0  # nothing changed, nothing recorded
    purchases(erp_kernel, cy, "cy", 6, 1000, NOW + 2 * DAY)
    with erp_kernel.transaction() as session:
        assert score_rfm(session, NOW + 3 * DAY) == 3
    assert sorted(moves(erp_kernel)[3:]) == sorted([
        (ada, "champions", "loyal"), (bo, "loyal", "lost"), (cy, "lost", "champions")])
    assert {segment for *_scores, segment in segments(erp_kernel).values()} == {
        "champions", "loyal", "lost"}


def test_the_daily_job_rescores(erp_kernel):
    ada = customer(erp_kernel, "Ada")["id"]
    purchases(erp_kernel, ada, "ada", 1, 10, NOW)
    assert score_rfm_job(erp_kernel) == "1 RFM segment changes"
    assert moves(erp_kernel) == [(ada, None, "champions")]
