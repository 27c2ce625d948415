"""Hooks the orders plugin offers to the plugins that depend on it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from erp_sdk import hookspec

if TYPE_CHECKING:
    from erp_orders.review import ReviewRule


@hookspec
def erp_orders_review_rules() -> Sequence[ReviewRule]:
    """Add order review rules.

    Takes no argument.

    Return value: a sequence of ``erp_orders.review.ReviewRule``; each rule's check runs
    when an order is confirmed, and any reason it returns sends the order to review.
    """
