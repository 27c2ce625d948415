"""Where an order's goods go: a confirmed order has a shipping address, unless its channel's
customers collect the goods in store (``orders.channel.collected_in_store``).

An address is usable when it names a street line, a city and a country. The rule is
checked when an order is confirmed and whenever the address of an order past its draft
changes, so a confirmed order never loses the address its shipment needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from erp_orders.channel import Channel
from erp_orders.order import OrderState
from erp_sdk import ConflictError, Context, WriteEvent, on_write

REQUIRED_ADDRESS_FIELDS = ("ship_line1", "ship_city", "ship_country")
"""What a carrier needs at the least; name, postal code and region are optional."""

ADDRESS_FREE_STATES = frozenset({OrderState.DRAFT, OrderState.CANCELLED, OrderState.MERGED})
"""States in which an order may lack a shipping address: nothing will be shipped from them."""

_COLLECTED_IN_STORE = sa.select(Channel.collected_in_store).where(
    Channel.id == sa.bindparam("channel"))


def missing_address_fields(order: Mapping[str, Any]) -> list[str]:
    """The required shipping address fields that ``order`` (a record) leaves blank."""
    return [name for name in REQUIRED_ADDRESS_FIELDS if not str(order.get(name) or "").strip()]


def require_shipping_address(ctx: Context, order: Mapping[str, Any], refusal: str,
                             error: type[ConflictError] = ConflictError) -> None:
    """Raise ``error(refusal + why)`` (409) when ``order`` (a record) has no usable
    shipping address and its channel's goods are not collected in store; costs no query
    when the address is there."""
    missing = missing_address_fields(order)
    if not missing:
        return
    if ctx.session.scalar(_COLLECTED_IN_STORE, {"channel": order["channel_id"]}):
        return
    raise error(f"{refusal} ({', '.join(missing)} missing): give it one, or sell it through"
                " a channel whose goods are collected in store (collected_in_store)")


@on_write("orders.order", actions=("update",))
def confirmed_orders_keep_an_address(ctx: Context, event: WriteEvent) -> None:
    """An order past its draft may change its address, never lose it."""
    before = event.before or {}
    if before.get("state") in ADDRESS_FREE_STATES:
        return
    touched = {name: value for name, value in event.changes.items()
               if name in REQUIRED_ADDRESS_FIELDS or name == "channel_id"}
    if touched:
        require_shipping_address(
            ctx, {**before, **touched},
            f"order {before.get('number')} is {before.get('state')}: it needs a shipping"
            " address")
