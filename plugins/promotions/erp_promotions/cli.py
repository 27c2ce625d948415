"""``erp promotions ...`` commands."""

from __future__ import annotations

import json
from typing import Any

import click
import sqlalchemy as sa


@click.command("list")
@click.option("--status", default=None, help="Only promotions in this status (active, draft...).")
@click.pass_obj
def list_command(state: Any, status: str | None) -> None:
    """List promotions: id, status, automatic or by code, priority, action and name."""
    from erp_promotions.promotion import Promotion

    kernel = state.kernel(boot=True)
    with kernel.transaction() as session:
        statement = sa.select(Promotion).order_by(Promotion.id)
        if status:
            statement = statement.where(Promotion.status == status)
        for promotion in session.scalars(statement):
            kind = "automatic" if promotion.automatic else "coupon"
            click.echo(f"{promotion.id:>6}  {promotion.status:<7} {kind:<9}"
                       f" p{promotion.priority:<4} {promotion.action:<15} {promotion.name}")


@click.command("generate-codes")
@click.argument("promotion_id", type=click.IntRange(1))
@click.option("--pattern", required=True, help="# is a digit, ? a letter: SPRING-####-??")
@click.option("--count", required=True, type=click.IntRange(1, 100_000))
@click.option("--usage-limit", type=click.IntRange(1), default=None,
              help="Uses per code (default: unlimited).")
@click.pass_obj
def generate_codes_command(state: Any, promotion_id: int, pattern: str, count: int,
                           usage_limit: int | None) -> None:
    """Generate a batch of coupon codes for a promotion and print them, one a line."""
    from erp_promotions.coupon import Coupon, create_batch

    kernel = state.kernel(boot=True)
    with kernel.context() as ctx:
        batch = create_batch(ctx, promotion_id, pattern, count, usage_limit)
        codes = ctx.session.scalars(sa.select(Coupon.code).where(
            Coupon.batch_id == batch["id"]).order_by(Coupon.code)).all()
    for code in codes:
        click.echo(code)


@click.command("explain")
@click.argument("order_id", type=click.IntRange(1))
@click.pass_obj
def explain_command(state: Any, order_id: int) -> None:
    """Print, as JSON, which promotions discounted each line of an order."""
    from erp_promotions.explain import order_explanation

    kernel = state.kernel(boot=True)
    with kernel.context() as ctx:
        click.echo(json.dumps(order_explanation(ctx, order_id), indent=2))


COMMANDS = [list_command, generate_codes_command, explain_command]
