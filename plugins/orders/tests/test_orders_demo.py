"""The orders demo data that ``erp demo`` loads after the CRM's and the inventory's."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from erp_inventory.ledger import StockLevel
from erp_inventory.reservations import Reservation
from erp_orders.channel import Channel
from erp_orders.demo import ORDERS
from erp_orders.fulfilment import line_origin
from erp_orders.order import Order, OrderLine


def load_demo(kernel) -> None:
    with kernel.transaction() as session:
        kernel.contribute("erp_load_demo_data", session=session, kernel=kernel)


def fingerprint(kernel) -> list[tuple]:
    with kernel.transaction() as session:
        return [tuple(row) for row in session.execute(
            sa.select(Order.number, Channel.code, Order.external_reference, Order.customer_id,
                      Order.state, Order.total).join(Channel).order_by(Order.id))]


def test_demo_orders_span_every_channel_and_state(kernel):
    load_demo(kernel)
    with kernel.transaction() as session:
        states = dict(session.execute(sa.select(Order.state, sa.func.count())
                                      .group_by(Order.state)).all())
        channels = set(session.scalars(sa.select(Channel.kind)))
    assert set(states) == {"draft", "confirmed", "shipped", "completed", "cancelled"}
    assert sum(states.values()) == ORDERS
    assert channels == {"own_site", "marketplace", "store"}


def test_the_demo_store_hands_goods_over_and_every_confirmed_order_has_an_address(kernel):
    load_demo(kernel)
    with kernel.transaction() as session:
        collected = dict(session.execute(sa.select(Channel.code,
                                                        Channel.collected_in_store)).all())
        unaddressed = session.scalar(sa.select(sa.func.count()).select_from(Order).where(
            Order.state == "confirmed", Order.ship_line1.is_(None)))
    assert collected == {"web": False, "marketplace": False, "store": True}
    assert unaddressed == 0


def test_confirmed_demo_orders_hold_reservations_for_every_line(kernel):
    load_demo(kernel)
    with kernel.transaction() as session:
        lines = session.execute(sa.select(OrderLine.id, OrderLine.quantity).join(Order)
                                .where(Order.state == "confirmed")).all()
        reserved = dict(session.execute(sa.select(Reservation.origin, Reservation.remaining)
                                        .where(Reservation.state == "active")).all())
        held = session.scalar(sa.select(sa.func.sum(StockLevel.reserved)))
    assert lines
    assert {line_origin(line_id): quantity for line_id, quantity in lines} == reserved
    assert Decimal(held) == sum(reserved.values())


def test_demo_order_totals_are_the_sums_of_their_lines(kernel):
    load_demo(kernel)
    with kernel.transaction() as session:
        mismatched = session.execute(
            sa.select(Order.number).join(OrderLine).group_by(Order.id, Order.number)
            .having(sa.func.sum(OrderLine.line_total) + sa.func.max(Order.shipping_amount)
                    != sa.func.max(Order.total))).all()
    assert mismatched == []


def test_demo_orders_are_the_same_on_every_run(kernel, tmp_path):
    from erp_core.kernel import Kernel
    from erp_core.settings import Settings

    load_demo(kernel)
    with Kernel(Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'again.db'}")) \
            as other:
        other.initialise()
        other.enable(["orders"])
        other.boot()
        load_demo(other)
        assert fingerprint(kernel) == fingerprint(other)
