"""RFM segments: each customer scored on recency, frequency and monetary value against the
other customers buying in the same currency, named by segment, and every move between
segments recorded, so reports can show how customers move (CRM-4's RFM movement).

Scores are terciles, counted in SQL from the behaviour summaries: among the customers of a
currency, a customer whose last purchase is among the most recent third has recency 3,
the middle third 2, the rest 1; the same for the number of purchases (frequency) and the
total spent (monetary). Ties share a score (a customer is in the third that holds every
customer at least as good), so scoring is the same whatever order rows come in. Value is
frequency and monetary together (their mean, rounded up); the segment follows from
recency and value:

| recency \\ value | 3 | 2 | 1 |
|---|---|---|---|
| 3 | champions | loyal | promising |
| 2 | loyal | loyal | needs_attention |
| 1 | at_risk | at_risk | lost |

Scores are relative, so they move when other customers buy: ``score_rfm`` (the daily job
``crm.score_rfm``) rescores everyone and records a ``RfmChange`` for each customer whose
segment changed (from none: first scored; to none: no purchase left).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_crm.behaviour import Behaviour
from erp_sdk import Base, Job, Kernel, UtcDateTime, utcnow

SEGMENTS = {(3, 3): "champions", (3, 2): "loyal", (3, 1): "promising",
            (2, 3): "loyal", (2, 2): "loyal", (2, 1): "needs_attention",
            (1, 3): "at_risk", (1, 2): "at_risk", (1, 1): "lost"}


class RfmScore(Base):
    """A customer's current RFM scores and segment in one currency."""

    __tablename__ = "crm_rfm_score"

    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_customer.id", ondelete="CASCADE"), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    recency: Mapped[int] = mapped_column(sa.SmallInteger)
    frequency: Mapped[int] = mapped_column(sa.SmallInteger)
    monetary: Mapped[int] = mapped_column(sa.SmallInteger)
    segment: Mapped[str] = mapped_column(sa.String(20), index=True)
    scored_at: Mapped[UtcDateTime]


class RfmChange(Base):
    """A customer's move from one RFM segment to another (none: not scored)."""

    __tablename__ = "crm_rfm_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_customer.id", ondelete="CASCADE"), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    old_segment: Mapped[str | None] = mapped_column(sa.String(20))
    new_segment: Mapped[str | None] = mapped_column(sa.String(20))
    changed_at: Mapped[UtcDateTime] = mapped_column(index=True)


def _tercile(column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    """1, 2 or 3: the third of the currency's customers ``column`` ranks this one in
    (counting every customer at least as good, so ties share a score)."""
    behaviour = Behaviour.__table__
    partition = behaviour.c.currency
    at_most = sa.func.count().over(partition_by=partition, order_by=column)
    everyone = sa.func.count().over(partition_by=partition)
    return sa.case((at_most * 3 <= everyone, 1), (at_most * 3 <= everyone * 2, 2), else_=3)


def current_scores(session: Session) -> dict[tuple[int, str], tuple[int, int, int]]:
    """Every summarised customer's ``(recency, frequency, monetary)`` per currency now."""
    behaviour = Behaviour.__table__
    rows = session.execute(sa.select(
        behaviour.c.customer_id, behaviour.c.currency,
        _tercile(behaviour.c.last_purchase_at), _tercile(behaviour.c.purchase_count),
        _tercile(behaviour.c.total_spend)).where(behaviour.c.purchase_count > 0))
    return {(customer, currency): (r, f, m) for customer, currency, r, f, m in rows}


def segment_of(recency: int, frequency: int, monetary: int) -> str:
    return SEGMENTS[(recency, (frequency + monetary + 1) // 2)]


def score_rfm(session: Session, as_of: dt.datetime | None = None) -> int:
    """Rescore every customer, recording each change of segment at ``as_of``; the number
    of changes."""
    as_of = as_of or utcnow()
    scores = current_scores(session)
    stored = {(row.customer_id, row.currency): row
              for row in session.scalars(sa.select(RfmScore))}
    changes = 0
    for key in scores.keys() | stored.keys():
        previous = stored.get(key)
        figures = scores.get(key)
        segment = segment_of(*figures) if figures else None
        old = previous.segment if previous else None
        if segment != old:
            session.add(RfmChange(customer_id=key[0], currency=key[1], old_segment=old,
                                  new_segment=segment, changed_at=as_of))
            changes += 1
        if figures is None:
            session.delete(previous)
        elif previous is None:
            session.add(RfmScore(customer_id=key[0], currency=key[1], recency=figures[0],
                                 frequency=figures[1], monetary=figures[2],
                                 segment=segment, scored_at=as_of))
        else:
            previous.recency, previous.frequency, previous.monetary = figures
            previous.segment, previous.scored_at = segment, as_of  # type: ignore[assignment]
    session.flush()
    return changes


def score_rfm_job(kernel: Kernel) -> str:
    with kernel.transaction() as session:
        return f"{score_rfm(session)} RFM segment changes"


RFM_JOBS = [Job("score_rfm", score_rfm_job, cron="45 2 * * *",
                description="Rescore customers' RFM segments and record who moved")]
