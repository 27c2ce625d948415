"""Rate shopping: every eligible carrier account is asked at once, each within its own
timeout; one that is slow or fails is skipped and reported, never waited for beyond its
timeout. The rules then choose, and the choice is kept on the shipment with every rate
seen and the rule that decided ("why this carrier")."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa

from erp_logistics.accounts import (
    AccountConfig,
    active_accounts,
    carrier_pool,
    open_carrier,
)
from erp_logistics.parcels import ShipmentFacts, shipment_facts
from erp_logistics.rules import CarrierRule, RuleAction
from erp_logistics.shipment import Shipment, ShipmentState
from erp_sdk import ConflictError, ErpError, Kernel, NotFoundError, Principal, utcnow
from erp_sdk.drivers import RateQuote


@attrs.frozen
class Rate:
    account_id: int
    account: str
    service: str
    amount: Decimal
    currency: str
    transit_days: int | None

    def as_json(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "account": self.account,
                "service": self.service, "amount": str(self.amount),
                "currency": self.currency, "transit_days": self.transit_days}


@attrs.frozen
class Skipped:
    account_id: int
    account: str
    reason: str
    elapsed_ms: int

    def as_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class RuleView:
    id: int
    name: str
    action: str
    carrier_account_id: int | None
    max_price: Decimal | None


def _quote(kernel: Kernel, account: AccountConfig, facts: ShipmentFacts) -> list[Rate]:
    quotes: Sequence[RateQuote] = open_carrier(kernel, account).quote(facts.request(account))
    rates = []
    for quote in quotes:
        if account.services and quote.service not in account.services:
            continue
        promised = account.services.get(quote.service) if account.services else None
        rates.append(Rate(account.id, account.name, quote.service, quote.amount.value,
                          quote.amount.currency, promised if promised is not None
                          else quote.transit_days))
    return rates


def ask_carriers(kernel: Kernel, accounts: Sequence[AccountConfig], facts: ShipmentFacts
                 ) -> tuple[list[Rate], list[Skipped]]:
    """Every account's rates, asked in parallel; an account that does not answer within
    its ``rate_timeout_ms`` (or fails) is skipped with the reason. Returns as soon as
    every account answered or ran out of time; a hanging driver's call is left to finish
    on its own in the kernel's carrier threads (``carrier_pool``)."""
    rates: list[Rate] = []
    skipped: list[Skipped] = []
    if not accounts:
        return rates, skipped
    pool = carrier_pool(kernel)
    started = time.monotonic()
    futures = []
    try:
        futures = [(account, pool.submit(_quote, kernel, account, facts))
                   for account in accounts]
        for account, future in sorted(futures, key=lambda pair: pair[0].rate_timeout_ms):
            remaining = started + account.rate_timeout_ms / 1000 - time.monotonic()
            try:
                rates.extend(future.result(timeout=max(remaining, 0)))
            except concurrent.futures.TimeoutError:
                skipped.append(Skipped(account.id, account.name,
                                       f"no answer within {account.rate_timeout_ms} ms",
                                       account.rate_timeout_ms))
            except Exception as exc:
                reason = exc.message if isinstance(exc, ErpError) else \
                    f"{type(exc).__name__}: {exc}"
                skipped.append(Skipped(account.id, account.name, reason[:300],
                                       int((time.monotonic() - started) * 1000)))
    finally:
        for _, future in futures:
            future.cancel()  # one that has not started yet (the pool was full) never runs
    return rates, skipped


def choose(rates: Sequence[Rate], rules: Sequence[RuleView]) -> tuple[Rate | None,
                                                                      dict[str, Any]]:
    """The rate the matching rules choose (already filtered to the shipment), and why."""
    excluded = {rule.carrier_account_id: rule for rule in rules
                if rule.action == RuleAction.EXCLUDE and rule.carrier_account_id is not None}
    caps = [rule for rule in rules if rule.max_price is not None]
    cap = min(caps, key=lambda rule: rule.max_price) if caps else None  # type: ignore[arg-type,return-value]
    eligible, refused = [], []
    for rate in rates:
        if rate.account_id in excluded:
            refused.append({**rate.as_json(), "refused_by": excluded[rate.account_id].name})
        elif cap is not None and rate.amount > cap.max_price:  # type: ignore[operator]
            refused.append({**rate.as_json(),
                            "refused_by": f"{cap.name} (max price {cap.max_price})"})
        else:
            eligible.append(rate)
    why: dict[str, Any] = {"refused": refused}
    if not eligible:
        return None, {**why, "rule": None, "reason": "no eligible rate"}
    cheapest = min(eligible, key=lambda r: (r.amount, r.transit_days or 999, r.account))
    fastest = min(eligible, key=lambda r: (r.transit_days if r.transit_days is not None
                                           else 999, r.amount, r.account))
    for rule in rules:
        if rule.action == RuleAction.PREFER:
            preferred = [r for r in eligible if r.account_id == rule.carrier_account_id]
            if preferred:
                chosen = min(preferred, key=lambda r: (r.amount, r.service))
                return chosen, {**why, "rule": rule.name, "action": rule.action,
                                "reason": f"{rule.name}: prefer {chosen.account}"}
        elif rule.action == RuleAction.CHEAPEST:
            return cheapest, {**why, "rule": rule.name, "action": rule.action,
                              "reason": f"{rule.name}: the cheapest eligible rate"}
        elif rule.action == RuleAction.FASTEST:
            return fastest, {**why, "rule": rule.name, "action": rule.action,
                             "reason": f"{rule.name}: the fastest eligible rate"}
    return cheapest, {**why, "rule": None, "action": RuleAction.CHEAPEST,
                      "reason": "no rule decided: the cheapest eligible rate"}


def _matching_rules(session: Any, facts: ShipmentFacts) -> list[RuleView]:
    rules = session.scalars(sa.select(CarrierRule).where(CarrierRule.active.is_(True))
                            .order_by(CarrierRule.sequence, CarrierRule.id))
    return [RuleView(rule.id, rule.name, rule.action, rule.carrier_account_id, rule.max_price)
            for rule in rules if rule.matches(facts.country, facts.channel_id, facts.weight_kg)]


def shop_rates(kernel: Kernel, principal: Principal, shipment_id: int) -> dict[str, Any]:
    """Ask every active carrier account for rates, choose one by the rules and keep the
    decision on the draft shipment; returns the shipment."""
    accounts = list(active_accounts(kernel))
    with kernel.context(principal) as ctx:
        ctx.principal.require("logistics.shipment.rate")
        shipment = ctx.session.get(Shipment, shipment_id)
        if shipment is None:
            raise NotFoundError(f"logistics.shipment {shipment_id} does not exist")
        if shipment.state != ShipmentState.DRAFT:
            raise ConflictError(f"shipment {shipment.number} is {shipment.state}: only a"
                                " draft shipment is rated (void its labels first)")
        facts = shipment_facts(ctx.session, shipment)
        if facts.kind == "return" and shipment.carrier_account_id is not None:
            accounts = [a for a in accounts if a.id == shipment.carrier_account_id] or accounts
        rules = _matching_rules(ctx.session, facts)
    started = time.monotonic()
    rates, skipped = ask_carriers(kernel, accounts, facts)
    elapsed_ms = int((time.monotonic() - started) * 1000)
    chosen, why = choose(rates, rules)
    decision = {**why, "chosen": chosen.as_json() if chosen else None,
                "rates": [rate.as_json() for rate in sorted(
                    rates, key=lambda r: (r.amount, r.account, r.service))],
                "skipped": [skip.as_json() for skip in skipped],
                "elapsed_ms": elapsed_ms, "shopped_at": utcnow().isoformat()}
    with kernel.context(principal) as ctx:
        shipment = ctx.session.get(Shipment, shipment_id, with_for_update={"key_share": True})
        if shipment is None or shipment.state != ShipmentState.DRAFT:
            raise ConflictError(f"shipment {shipment_id} changed while it was rated")
        shipment.rate_decision = decision
        if chosen is not None:
            shipment.carrier_account_id = chosen.account_id
            shipment.service = chosen.service
            shipment.quoted_amount = chosen.amount
            shipment.currency = chosen.currency
            shipment.promised_transit_days = chosen.transit_days
        shipment.version += 1
        shipment.updated_at = utcnow()
        ctx.audit("logistics.shipment", shipment_id, "rate", None,
                  {"chosen": decision["chosen"], "rule": decision.get("rule")})
        ctx.session.flush()
        return ctx.records("logistics.shipment").get(shipment_id)
