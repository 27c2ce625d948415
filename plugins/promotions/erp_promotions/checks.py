"""What a promotion must say to be applied: each action's own values, valid id lists and
a time zone that exists. Checked on every write, so the engine never meets a rule it
cannot apply."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from erp_promotions.promotion import Action, Target
from erp_sdk import Context, ValidationError, WriteEvent, on_write

ID_LISTS = ("channel_ids", "segment_ids", "product_ids", "category_ids")
CURRENCY = re.compile(r"[A-Z]{3}")


def promotion_problems(promotion: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    action = promotion.get("action")
    needs = {
        Action.PERCENTAGE_OFF: ("percentage",),
        Action.AMOUNT_OFF: ("amount",),
        Action.FIXED_PRICE: ("amount",),
        Action.BUY_X_GET_Y: ("buy_quantity", "get_quantity"),
        Action.GIFT: ("gift_product_id", "gift_quantity"),
    }.get(action, ())
    for field in needs:
        if promotion.get(field) is None:
            errors[field] = f"is required for the action {action}"
    if action == Action.FIXED_PRICE and not (promotion.get("product_ids")
                                             or promotion.get("category_ids")):
        errors["product_ids"] = "a fixed price needs the products or categories it prices"
    if promotion.get("target") == Target.ORDER and action not in (Action.PERCENTAGE_OFF,
                                                                  Action.AMOUNT_OFF):
        errors["target"] = "only a percentage or an amount can be taken off the order"
    for field in ID_LISTS:
        values = promotion.get(field)
        if values is not None and not (isinstance(values, list) and all(
                isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31
                for v in values)):
            errors[field] = "must be a list of ids (positive whole numbers)"
    tiers = promotion.get("customer_tiers")
    if tiers is not None and not (isinstance(tiers, list) and all(
            isinstance(v, str) and 0 < len(v) <= 40 for v in tiers)):
        errors["customer_tiers"] = "must be a list of tier names"
    zone = promotion.get("timezone") or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"{zone!r} is not a known time zone (such as Europe/Paris)"
    starts, ends = promotion.get("starts_on"), promotion.get("ends_on")
    if starts and ends and str(ends) < str(starts):
        errors["ends_on"] = "is before starts_on"
    return errors


@on_write("promotions.promotion", actions=("create", "update"), when="before")
def check_promotion(ctx: Context, event: WriteEvent) -> None:
    merged = {**(event.before or {}), **event.changes}
    errors = promotion_problems(merged)
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationError(f"invalid promotion: {summary}", errors)


@on_write("promotions.coupon", actions=("create", "update"), when="before")
def check_coupon(ctx: Context, event: WriteEvent) -> None:
    """Codes are matched upper-case: one stored otherwise could never be found."""
    code = event.changes.get("code")
    if code is not None and (code != code.strip().upper() or not code.strip()):
        raise ValidationError(f"invalid coupon code {code!r}: write it in upper case,"
                              " without surrounding spaces", {"code": "not upper case"})


@on_write("promotions.campaign", actions=("create", "update"), when="before")
def check_campaign(ctx: Context, event: WriteEvent) -> None:
    """A campaign's budget is spent in its currency, and its promotions apply only to
    orders in it: the currency is an ISO 4217 code and stays what it was created with."""
    currency = event.changes.get("currency")
    if currency is None:
        return
    if not CURRENCY.fullmatch(currency):
        raise ValidationError(f"invalid campaign currency {currency!r}",
                              {"currency": "must be an ISO 4217 code such as EUR"})
    if event.before is not None and currency != event.before["currency"]:
        raise ValidationError("a campaign's currency cannot change: its budget is spent in"
                              " it; start a new campaign", {"currency": "cannot change"})
