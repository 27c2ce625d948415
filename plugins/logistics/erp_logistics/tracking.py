"""Tracking events, pushed by carriers' webhooks or pulled by a periodic job.

Events are kept once per carrier account and event id (a webhook resent, or an event
both pushed and pulled, counts once), each with the carrier's raw event. A package's
status follows the event with the latest timestamp of its own: a late event is kept but
does not change the status, and a delivered package stays delivered. A shipment whose
packages are all delivered is delivered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from erp_logistics.accounts import AccountConfig, account_config, active_accounts, open_carrier
from erp_logistics.carriers import CarrierAccount
from erp_logistics.shipment import LabelState, Package, Shipment, ShipmentState
from erp_logistics.tracking_event import TrackingRecord
from erp_sdk import (
    Context,
    ErpError,
    InboundWebhook,
    Job,
    Kernel,
    Principal,
    TransientConflict,
    Upsert,
    VerifiedWebhook,
    WebhookReceiver,
    utcnow,
)
from erp_sdk.drivers import TrackingEvent, TrackingStatus, WebhookRequest

log = logging.getLogger("erp.logistics.tracking")

FINAL = frozenset({TrackingStatus.DELIVERED})
"""Statuses a package never leaves, whatever comes after."""


def event_key(event: TrackingEvent) -> str:
    """The carrier's event id, or a digest of what the event says when it has none."""
    if event.event_id:
        return event.event_id[:120]
    text = "|".join((event.tracking_number, event.status, event.at.isoformat(),
                     event.location, event.description))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:64]


@attrs.frozen
class Applied:
    received: int = 0
    duplicates: int = 0
    applied: int = 0
    unknown_parcels: int = 0

    def as_json(self) -> dict[str, int]:
        return attrs.asdict(self)


def _json_safe(raw: Any) -> Any:
    return json.loads(json.dumps(raw, default=str)) if raw else None


_KEEP_NEW = Upsert(lambda insert: insert(TrackingRecord.__table__).on_conflict_do_nothing(
    index_elements=["carrier_account_id", "event_key"])
    .returning(TrackingRecord.__table__.c.event_key))
"""Keep the events no transaction kept first, returning their keys."""


def record_events(ctx: Context, account_id: int, events: Sequence[TrackingEvent],
                  source: str = "webhook") -> Applied:
    """Keep each new event and apply it to its package, in ``ctx``'s transaction: the
    packages are read and locked in one statement, the events already kept found in
    another, and the new ones inserted together."""
    counts = {"received": len(events), "duplicates": 0, "applied": 0, "unknown_parcels": 0}
    numbers = sorted({event.tracking_number for event in events})
    packages = {package.tracking_number: package for package in ctx.session.scalars(
        sa.select(Package).join(Shipment, Shipment.id == Package.shipment_id)
        .where(Package.tracking_number.in_(numbers), Shipment.carrier_account_id == account_id,
               Package.label_state == LabelState.LABELLED)
        .order_by(Package.id).with_for_update(key_share=True, of=Package))}
    keyed = [(event_key(event), event) for event in sorted(events, key=lambda e: e.at)]
    kept = set(ctx.session.scalars(sa.select(TrackingRecord.event_key).where(
        TrackingRecord.carrier_account_id == account_id,
        TrackingRecord.event_key.in_({key for key, _ in keyed}))))
    records: list[dict[str, Any]] = []
    touched: set[int] = set()
    for key, event in keyed:
        if key in kept:
            counts["duplicates"] += 1
            continue
        kept.add(key)
        package = packages.get(event.tracking_number)
        applies = package is not None and package.tracking_status not in FINAL and (
            package.tracking_at is None or event.at >= package.tracking_at)
        records.append({
            "carrier_account_id": account_id,
            "shipment_id": package.shipment_id if package else None,
            "package_id": package.id if package else None,
            "tracking_number": event.tracking_number, "event_key": key,
            "status": event.status, "occurred_at": event.at,
            "location": event.location[:200] or None,
            "description": event.description[:500] or None,
            "raw": _json_safe(dict(event.raw)), "applied": applies, "source": source,
            "version": 1})
        if package is None:
            counts["unknown_parcels"] += 1
        elif applies:
            package.tracking_status = event.status
            package.tracking_at = event.at
            package.version += 1
            counts["applied"] += 1
            touched.add(package.shipment_id)
    if records:
        inserted = ctx.session.execute(_KEEP_NEW.on(ctx.session), records).scalars().all()
        if len(inserted) < len(records):
            # A concurrent transaction kept one of these events first: it applied it, so
            # this one must not; ask again for what it left to do.
            raise TransientConflict("the same tracking events arrived twice at once")
    ctx.session.flush()
    if touched:
        _follow_packages(ctx, sorted(touched))
    return Applied(**counts)


def _follow_packages(ctx: Context, shipment_ids: Sequence[int]) -> None:
    """Bring the shipments' tracking status in line with their packages' (all delivered:
    delivered; else the latest package status), in a fixed number of statements; a
    shipment whose packages are all delivered is delivered."""
    shipments = list(ctx.session.scalars(
        sa.select(Shipment).where(Shipment.id.in_(shipment_ids)).order_by(Shipment.id)
        .with_for_update(key_share=True)))
    packages: dict[int, list[tuple[str | None, dt.datetime | None]]] = {}
    for shipment_id, status, tracked_at in ctx.session.execute(
            sa.select(Package.shipment_id, Package.tracking_status, Package.tracking_at)
            .where(Package.shipment_id.in_(shipment_ids))):
        packages.setdefault(shipment_id, []).append((status, tracked_at))
    delivered = []
    for shipment in shipments:
        if shipment.tracking_status == TrackingStatus.DELIVERED:
            continue
        own = packages.get(shipment.id, [])
        if own and all(status == TrackingStatus.DELIVERED for status, _ in own):
            status = TrackingStatus.DELIVERED
            delivered.append(shipment.id)
        else:
            latest = max((p for p in own if p[1] is not None), key=lambda p: p[1],
                         default=None)
            status = latest[0] if latest else shipment.tracking_status
        if status != shipment.tracking_status:
            shipment.tracking_status = status
            shipment.version += 1
    ctx.session.flush()
    system = ctx.as_principal(Principal.system("tracking"))
    for shipment_id in delivered:
        if ctx.session.get(Shipment, shipment_id).state == ShipmentState.LABELLED:
            # collected and delivered before anyone recorded the hand-over
            system.fire("logistics.shipment", shipment_id, "hand_over", read_back=False)
        if ctx.session.scalar(sa.select(Shipment.state).where(Shipment.id == shipment_id)) \
                == ShipmentState.HANDED_OVER:
            system.fire("logistics.shipment", shipment_id, "deliver", read_back=False)


def _account_for_webhook(kernel: Kernel, webhook: InboundWebhook) -> AccountConfig | None:
    for account in active_accounts(kernel):
        if (account.driver, account.name) == (webhook.driver, webhook.account):
            return account
    return None


def verify_tracking_webhook(kernel: Kernel, webhook: InboundWebhook) -> VerifiedWebhook | None:
    """The events of an authentic webhook to an active carrier account of that name and
    driver (``None`` when there is none); the account's driver checks the signature."""
    account = _account_for_webhook(kernel, webhook)
    if account is None:
        return None
    events = open_carrier(kernel, account).parse_tracking_webhook(
        WebhookRequest(headers=webhook.headers, body=webhook.body))
    ids = sorted(event.event_id for event in events if event.event_id)
    event_id = ",".join(ids)[:200] if ids and len(ids) == len(events) else None
    return VerifiedWebhook((account.id, tuple(events)), event_id)


def apply_tracking_webhook(ctx: Context, verified: VerifiedWebhook) -> dict[str, Any]:
    account_id, events = verified.content
    return record_events(ctx, account_id, events).as_json()


TRACKING_WEBHOOKS = WebhookReceiver(verify_tracking_webhook, apply_tracking_webhook,
                                    description="Tracking events pushed by carriers")

_OPEN = (sa.select(Package.tracking_number).join(Shipment, Shipment.id == Package.shipment_id)
         .where(Shipment.carrier_account_id == sa.bindparam("account"),
                Shipment.state.in_([ShipmentState.LABELLED, ShipmentState.HANDED_OVER]),
                Package.label_state == LabelState.LABELLED,
                Package.tracking_number.is_not(None))
         .order_by(Package.id))


def pull_tracking(kernel: Kernel) -> str:
    """Ask every active account that sends no webhooks for the tracking of its parcels
    on their way; one that fails is logged and named, never stops the others."""
    with kernel.transaction() as session:
        accounts = [account_config(session, a) for a in session.scalars(
            sa.select(CarrierAccount).where(CarrierAccount.active.is_(True),
                                            CarrierAccount.pull_tracking.is_(True))
            .order_by(CarrierAccount.id))]
        numbers = {a.id: list(session.scalars(_OPEN, {"account": a.id})) for a in accounts}
    done, failed = [], []
    for account in accounts:
        carrier = open_carrier(kernel, account)
        events: list[TrackingEvent] = []
        for number in numbers[account.id]:
            try:
                events.extend(carrier.track(number))
            except Exception as exc:
                reason = exc.message if isinstance(exc, ErpError) else str(exc)
                log.warning("tracking %s with %s failed: %s", number, account.name, reason)
                failed.append(f"{account.name} {number}: {reason}")
        result = kernel.run(lambda ctx, a=account, e=events: record_events(ctx, a.id, e, "pull"))
        done.append(f"{account.name}: {result.applied} applied of {result.received}")
    if failed:
        raise RuntimeError("; ".join(failed + done))
    return "; ".join(done) or "no carrier account pulls tracking"


TRACKING_JOBS = [Job("pull_tracking", pull_tracking, every=dt.timedelta(minutes=30),
                     description="Pull tracking from carriers that send no webhooks.")]

__all__ = ["TRACKING_JOBS", "TRACKING_WEBHOOKS", "record_events", "utcnow"]
