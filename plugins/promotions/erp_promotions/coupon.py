"""Coupon codes, the batches that generate them, and what each customer has used.

A code is stored upper-case and matched without regard to case. A batch generates
``count`` codes from a pattern in which ``#`` stands for a digit and ``?`` for a letter
(``SPRING-####-??``), drawn from a secure random source and retried on a collision.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import NON_NEGATIVE, POSITIVE, Base, RecordMixin, utcnow

# Letters that cannot be read as digits, so codes survive being read aloud.
LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IO")
DIGITS = "23456789"


class CouponBatch(RecordMixin, Base):
    __tablename__ = "promotions_coupon_batch"

    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions_promotion.id"),
                                              index=True)
    pattern: Mapped[str] = mapped_column(sa.String(64))
    count: Mapped[int] = mapped_column(info=POSITIVE)
    usage_limit: Mapped[int | None] = mapped_column(info=POSITIVE)


class Coupon(RecordMixin, Base):
    __tablename__ = "promotions_coupon"

    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions_promotion.id"),
                                              index=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("promotions_coupon_batch.id"),
                                                 index=True)
    usage_limit: Mapped[int | None] = mapped_column(info=POSITIVE)
    used: Mapped[int] = mapped_column(default=0, info=NON_NEGATIVE)
    active: Mapped[bool] = mapped_column(default=True)


class CustomerUse(Base):
    """How many orders of a customer use a promotion (for its per-customer limit)."""

    __tablename__ = "promotions_customer_use"

    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions_promotion.id"),
                                              primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("crm_customer.id"),
                                             primary_key=True)
    uses: Mapped[int] = mapped_column(default=0)


def normalise_code(code: str) -> str:
    return code.strip().upper()


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot generate codes, or ``None``."""
    placeholders = pattern.count("#") + pattern.count("?")
    if placeholders < 4:
        return "needs at least four # (digit) or ? (letter) placeholders"
    if any(not (c.isascii() and (c.isalnum() or c in "#?-_")) for c in pattern):
        return "may hold only letters, digits, '-', '_', '#' and '?'"
    return None


def code_from_pattern(pattern: str) -> str:
    return "".join(secrets.choice(DIGITS) if c == "#" else secrets.choice(LETTERS)
                   if c == "?" else c.upper() for c in pattern)


def generate_codes(session: sa.orm.Session, pattern: str, count: int) -> list[str]:
    """``count`` new codes that no coupon has yet."""
    codes: set[str] = set()
    for _ in range(20):
        wanted = count - len(codes)
        if wanted == 0:
            break
        drawn = {code_from_pattern(pattern) for _ in range(wanted * 2)} - codes
        taken = set(session.scalars(sa.select(Coupon.code).where(
            Coupon.code.in_(sorted(drawn)))))
        codes |= set(sorted(drawn - taken)[:wanted])
    if len(codes) < count:
        raise ValueError(f"pattern {pattern!r} has too few free codes left for {count}")
    return sorted(codes)


MAX_BATCH = 100_000


def create_batch(ctx: Any, promotion_id: int, pattern: str, count: int,
                 usage_limit: int | None) -> dict[str, Any]:
    """A batch of ``count`` codes for a promotion, written in one transaction."""
    from erp_sdk import ValidationError

    problem = pattern_problem(pattern)
    if problem:
        raise ValidationError(f"invalid pattern: {problem}", {"pattern": problem})
    if not 0 < count <= MAX_BATCH:
        raise ValidationError(f"count must be from 1 to {MAX_BATCH}", {"count": "out of range"})
    ctx.records("promotions.promotion").get(promotion_id)
    ctx.principal.require("promotions.coupon.create")
    row = CouponBatch(promotion_id=promotion_id, pattern=pattern.upper(), count=count,
                      usage_limit=usage_limit, version=1)
    ctx.session.add(row)
    ctx.session.flush()
    batch = ctx.records("promotions.coupon_batch").get(row.id)
    try:
        codes = generate_codes(ctx.session, pattern, count)
    except ValueError as exc:
        raise ValidationError(str(exc), {"pattern": "too few free codes"}) from None
    now = utcnow()
    ctx.session.execute(sa.insert(Coupon), [
        {"code": code, "promotion_id": promotion_id, "batch_id": batch["id"],
         "usage_limit": usage_limit, "used": 0, "active": True, "version": 1,
         "created_at": now, "updated_at": now} for code in codes])
    return {**batch, "codes": codes[:20], "generated": len(codes)}
