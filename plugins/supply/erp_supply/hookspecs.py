"""Hooks the supply plugin offers to other plugins."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from erp_sdk import hookspec


@hookspec
def erp_supply_sales_channels(session: Session, origins: Sequence[str]) -> Mapping[str, str]:
    """Name the sales channel of shipments, so replenishment can tell sales velocity per
    channel. Supply knows shipments only as the inventory plugin's moves to customers; the
    plugin that shipped them (orders) knows which channel sold them.

    :param session: the replenishment run's session (read only).
    :param origins: the ``origin`` of outgoing stock moves (``orders.order:12``), distinct.

    Return value: a mapping from each origin the plugin recognises to a channel code; an
    origin nobody names counts as channel ``unknown``. A plugin that does not depend on
    supply implements it with ``@hookimpl(optionalhook=True)``.
    """
