"""Buying, resolving and voiding labels: each package's label is bought exactly once.

1. In a transaction, each package to label becomes ``purchasing`` with a new idempotency
   key (``<shipment>-<package>-<attempt>``), and that is committed before any carrier is
   called: a second click, a retry or another worker finds the purchase recorded.
2. The carrier is called outside any transaction, with the key (a carrier that takes
   one deduplicates by it).
3. The answer is recorded: ``labelled``; back to ``to_label`` when the carrier refused
   outright; ``unknown`` when the answer was lost (``OutcomeUnknown``: a timeout, a 5xx,
   a broken connection, or anything unexpected).

An ``unknown`` package (or one ``purchasing`` for longer than ``STALE_PURCHASE``, whose
buyer died) is resolved by asking the carrier for the label bought with its key
(``find_shipment``), never by buying again. A package still ``purchasing`` is left
alone: a request that finds only those is answered 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import sqlalchemy as sa

from erp_logistics.accounts import AccountConfig, load_account, open_carrier
from erp_logistics.parcels import ShipmentFacts, shipment_facts
from erp_logistics.shipment import LabelState, Package, Shipment, ShipmentState
from erp_sdk import ConflictError, ErpError, Kernel, NotFoundError, Principal, utcnow
from erp_sdk.drivers import DriverFailure, OutcomeUnknown, Parcel, ShipmentLabel

STALE_PURCHASE = dt.timedelta(minutes=5)


@attrs.frozen
class Purchase:
    package_id: int
    key: str
    parcel: Parcel
    resolve_only: bool


@attrs.frozen
class Outcome:
    package_id: int
    key: str
    state: LabelState
    label: ShipmentLabel | None = None
    error: str | None = None


def _shipment(ctx: Any, shipment_id: int) -> Shipment:
    shipment = ctx.session.scalar(sa.select(Shipment).where(Shipment.id == shipment_id)
                                  .with_for_update(key_share=True))
    if shipment is None:
        raise NotFoundError(f"logistics.shipment {shipment_id} does not exist")
    return shipment


def _claim(kernel: Kernel, principal: Principal, shipment_id: int
           ) -> tuple[AccountConfig, ShipmentFacts, str | None, list[Purchase], list[int]] | None:
    """Step 1: record the purchases (and the resolutions) to make, and commit them;
    ``None`` when the shipment is labelled already."""
    with kernel.context(principal) as ctx:
        ctx.principal.require("logistics.shipment.buy_labels")
        shipment = _shipment(ctx, shipment_id)
        if shipment.state == ShipmentState.LABELLED:  # a retry: the labels are there
            return None
        if shipment.state != ShipmentState.DRAFT:
            raise ConflictError(f"shipment {shipment.number} is {shipment.state}: its labels"
                                " are bought")
        if shipment.carrier_account_id is None:
            raise ConflictError(f"shipment {shipment.number} has no carrier yet: shop its"
                                " rates (POST .../rates) or set carrier_account_id")
        account = load_account(ctx.session, shipment.carrier_account_id)
        facts = shipment_facts(ctx.session, shipment)
        now = utcnow()
        purchases, in_flight = [], []
        for package in ctx.session.scalars(sa.select(Package).where(
                Package.shipment_id == shipment_id).order_by(Package.id)):
            parcel = Parcel(package.weight_kg, package.length_cm, package.width_cm,
                            package.height_cm)
            if package.label_state == LabelState.TO_LABEL:
                package.purchase_attempt += 1
                package.idempotency_key = \
                    f"{shipment.number}-{package.id}-{package.purchase_attempt}"
                package.label_state = LabelState.PURCHASING
                package.purchase_started_at = now
                package.last_error = None
                purchases.append(Purchase(package.id, package.idempotency_key, parcel, False))
            elif package.label_state == LabelState.UNKNOWN or (
                    package.label_state == LabelState.PURCHASING
                    and package.purchase_started_at is not None
                    and now - package.purchase_started_at > STALE_PURCHASE):
                purchases.append(Purchase(package.id, package.idempotency_key or "", parcel,
                                          True))
            elif package.label_state == LabelState.PURCHASING:
                in_flight.append(package.id)
        ctx.session.flush()
        return account, facts, shipment.service, purchases, in_flight


def _call_carrier(kernel: Kernel, account: AccountConfig, facts: ShipmentFacts,
                  service: str | None, purchase: Purchase) -> Outcome:
    """Step 2: buy (or, for ``resolve_only``, look up) one label, outside any transaction."""
    carrier = open_carrier(kernel, account)
    try:
        if purchase.resolve_only:
            if not hasattr(carrier, "find_shipment"):  # a driver older than the method
                return Outcome(purchase.package_id, purchase.key, LabelState.UNKNOWN,
                               error=f"the {account.driver} driver cannot look a label up"
                                     " (find_shipment): ask the carrier, then void or"
                                     " keep the package by hand")
            label = carrier.find_shipment(purchase.key)
            if label is None:
                return Outcome(purchase.package_id, purchase.key, LabelState.TO_LABEL,
                               error=f"{account.name} has no label bought with key"
                                     f" {purchase.key}: nothing was charged; buy again")
            return Outcome(purchase.package_id, purchase.key, LabelState.LABELLED, label)
        request = facts.request(account, parcels=(purchase.parcel,), service=service,
                                idempotency_key=purchase.key, reference=purchase.key)
        return Outcome(purchase.package_id, purchase.key, LabelState.LABELLED,
                       carrier.create_shipment(request))
    except OutcomeUnknown as exc:
        return Outcome(purchase.package_id, purchase.key, LabelState.UNKNOWN,
                       error=exc.message[:500])
    except DriverFailure as exc:
        if purchase.resolve_only:  # the carrier could not say: still unknown
            return Outcome(purchase.package_id, purchase.key, LabelState.UNKNOWN,
                           error=exc.message[:500])
        return Outcome(purchase.package_id, purchase.key, LabelState.TO_LABEL,
                       error=exc.message[:500])
    except ErpError as exc:  # the driver refused the request itself: nothing was sent
        if purchase.resolve_only:
            return Outcome(purchase.package_id, purchase.key, LabelState.UNKNOWN,
                           error=exc.message[:500])
        return Outcome(purchase.package_id, purchase.key, LabelState.TO_LABEL,
                       error=exc.message[:500])
    except Exception as exc:
        return Outcome(purchase.package_id, purchase.key, LabelState.UNKNOWN,
                       error=f"{type(exc).__name__}: {exc}"[:500])


_RECORD = sa.update(Package).where(
    Package.id == sa.bindparam("package"), Package.idempotency_key == sa.bindparam("key"),
    Package.label_state.in_([LabelState.PURCHASING, LabelState.UNKNOWN]))


def _record(kernel: Kernel, principal: Principal, shipment_id: int,
            outcomes: list[Outcome]) -> dict[str, Any]:
    """Step 3: keep what the carrier answered; the shipment is labelled when every
    package is."""
    with kernel.context(principal) as ctx:
        _shipment(ctx, shipment_id)
        now = utcnow()
        for outcome in outcomes:
            values: dict[str, Any] = {"label_state": outcome.state, "last_error": outcome.error,
                                      "updated_at": now, "version": Package.version + 1}
            label = outcome.label
            if label is not None:
                values.update(tracking_number=label.tracking_number,
                              label_data=label.label, label_format=label.label_format,
                              label_amount=label.amount.value if label.amount else None,
                              label_currency=label.amount.currency if label.amount else None,
                              tracking_status="pending")
            ctx.session.execute(_RECORD.values(**values),
                                {"package": outcome.package_id, "key": outcome.key})
        ctx.session.expire_all()
        states = list(ctx.session.scalars(sa.select(Package.label_state).where(
            Package.shipment_id == shipment_id)))
        if states and all(state == LabelState.LABELLED for state in states):
            system = ctx.as_principal(Principal.system(f"labels for {principal.name}"))
            system.fire("logistics.shipment", shipment_id, "mark_labelled", read_back=False)
        return ctx.records("logistics.shipment").get(shipment_id)


def buy_labels(kernel: Kernel, principal: Principal, shipment_id: int) -> dict[str, Any]:
    """Buy the label of every package that has none, resolve those whose purchase has an
    unknown outcome, and return the shipment with its packages."""
    claimed = _claim(kernel, principal, shipment_id)
    if claimed is None:
        with kernel.context(principal) as ctx:
            return ctx.records("logistics.shipment").get(shipment_id)
    account, facts, service, purchases, in_flight = claimed
    if not purchases and in_flight:
        raise ConflictError(f"the label purchase of package(s) {in_flight} is in"
                            " progress: ask again in a moment")
    outcomes = [_call_carrier(kernel, account, facts, service, purchase)
                for purchase in purchases]
    return _record(kernel, principal, shipment_id, outcomes)


def void_labels(kernel: Kernel, principal: Principal, shipment_id: int) -> dict[str, Any]:
    """Cancel every label of a shipment not yet handed over: the carrier voids each, and
    the packages go back to ``to_label`` (the shipment back to draft)."""
    with kernel.context(principal) as ctx:
        ctx.principal.require("logistics.shipment.void_labels")
        shipment = _shipment(ctx, shipment_id)
        if shipment.state not in (ShipmentState.DRAFT, ShipmentState.LABELLED):
            raise ConflictError(f"shipment {shipment.number} is {shipment.state}: its labels"
                                " can no longer be voided")
        labelled = [(p.id, p.tracking_number) for p in ctx.session.scalars(
            sa.select(Package).where(Package.shipment_id == shipment_id,
                                     Package.label_state == LabelState.LABELLED))]
        if not labelled:
            raise ConflictError(f"shipment {shipment.number} has no label to void")
        account = load_account(ctx.session, shipment.carrier_account_id)  # type: ignore[arg-type]
    carrier = open_carrier(kernel, account)
    if not hasattr(carrier, "void_shipment"):  # a driver older than the method
        raise ConflictError(f"the {account.driver} driver cannot void labels"
                            " (void_shipment): void them with the carrier")
    voided, failures = [], []
    for package_id, tracking_number in labelled:
        try:
            carrier.void_shipment(tracking_number or "")
            voided.append(package_id)
        except ErpError as exc:
            failures.append(f"{tracking_number}: {exc.message}")
    with kernel.context(principal) as ctx:
        shipment = _shipment(ctx, shipment_id)
        now = utcnow()
        for package in ctx.session.scalars(sa.select(Package).where(Package.id.in_(voided))):
            package.label_state = LabelState.TO_LABEL
            package.tracking_number = None
            package.label_data = None
            package.label_format = None
            package.label_amount = None
            package.label_currency = None
            package.tracking_status = None
            package.updated_at = now
            package.version += 1
        ctx.session.flush()
        if voided and shipment.state == ShipmentState.LABELLED:
            system = ctx.as_principal(Principal.system(f"void for {principal.name}"))
            system.fire("logistics.shipment", shipment_id, "unlabel", read_back=False)
    if failures:
        raise ConflictError(f"{account.name} refused to void: " + "; ".join(failures))
    with kernel.context(principal) as ctx:
        return ctx.records("logistics.shipment").get(shipment_id)


def label_document(kernel: Kernel, principal: Principal, package_id: int
                   ) -> tuple[bytes, str, str]:
    """A stored label: its bytes, format and tracking number."""
    with kernel.context(principal) as ctx:
        ctx.principal.require("logistics.shipment.read")
        package = ctx.session.get(Package, package_id)
        if package is None or package.label_data is None:
            raise NotFoundError(f"package {package_id} has no stored label")
        return package.label_data, package.label_format or "pdf", package.tracking_number or ""
