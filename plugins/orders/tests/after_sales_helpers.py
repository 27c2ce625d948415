"""Helpers shared by the returns and tickets tests (a uniquely named module, not a
conftest, so it cannot shadow another test directory's helpers)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from litestar.testing import TestClient

from erp_core.security.accounts import create_token, create_user
from erp_orders.placing import LineRequest, OrderRequest, place_order


def shipped_order(kernel, shop, *lines, ship=None):
    """Place, confirm and ship an order of ``(product key, quantity[, unit price, discount,
    tax rate])`` lines; ``ship`` maps product keys to the quantity to ship (default all).
    Returns the order id and its line ids by product key."""
    with kernel.context() as ctx:
        order_id, _ = place_order(ctx, OrderRequest(
            channel_id=shop["channel"], customer_id=shop["customer"],
            lines=[LineRequest(shop[key], Decimal(quantity),
                               *(Decimal(value) for value in rest))
                   for key, quantity, *rest in lines]))
        ctx.fire("orders.order", order_id, "confirm")
    ids = line_ids(kernel, shop, order_id)
    with kernel.context() as ctx:
        if ship is None:
            ctx.fire("orders.order", order_id, "ship")
        else:
            ctx.fire("orders.order", order_id, "ship", {"lines": [
                {"line_id": ids[key], "quantity": str(quantity)}
                for key, quantity in ship.items()]})
    return order_id, ids


def line_ids(kernel, shop, order_id):
    keys = {shop[key]: key for key in ("tea", "mug")}
    with kernel.context() as ctx:
        lines = ctx.records("orders.order_line").list([("order_id", str(order_id))])["items"]
    return {keys[line["product_id"]]: line["id"] for line in lines}


def order_line(kernel, line_id):
    with kernel.context() as ctx:
        return ctx.records("orders.order_line").get(line_id)


def client_for(kernel, app, stack, *roles, name):
    """A test client of ``app`` sending the token of a new user ``name`` with ``roles``."""
    with kernel.transaction() as session:
        create_user(session, name, roles, known_roles=kernel.permissions.roles)
        _token, secret = create_token(session, name)
    client = stack.enter_context(TestClient(app=app))
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def outbox_events(kernel, name):
    from erp_core.events.outbox import OutboxEvent

    with kernel.transaction() as session:
        return [event.payload for event in session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.id))]
