"""Demo data for ``erp demo``: carrier accounts on the example carriers, rules and a
shipping charge policy, shipments of the orders demo's confirmed orders with packages,
labels and tracking histories in every status, and a carrier invoice with discrepancies.

The shipments are labelled by the table-rate example carrier, which needs no server (the
SwiftPost account points at ``swiftpost-fake-api`` on port 8765, which is not started by
the demo: its rates are then reported as skipped). Everything goes through the plugin's
own services and the workflow in the demo's transaction, so handing over moves stock and
ships the orders as in real use. The same on every run: only the dates follow today.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_logistics.accounts import account_config
from erp_logistics.carriers import CarrierAccount, CarrierService
from erp_logistics.freight import ShippingChargePolicy
from erp_logistics.parcels import shipment_facts
from erp_logistics.rating import Rate, choose
from erp_logistics.rules import CarrierRule
from erp_logistics.settlement import import_invoices
from erp_logistics.shipment import LabelState, Package, Shipment
from erp_logistics.shipping import NewShipment, create_shipment
from erp_logistics.tracking import record_events
from erp_orders.order import Order, OrderState
from erp_sdk import Context, Kernel, Principal, utcnow
from erp_sdk.drivers import (
    Amount,
    FreightInvoice,
    FreightInvoiceLine,
    TrackingEvent,
    TrackingStatus,
)

SHIP_FROM = {"name": "Demo Shop", "line1": "3 rue Oberkampf", "city": "Paris",
             "postal_code": "75011", "country": "FR"}
TABLERATE = {
    "carrier": "Tablerate Express", "currency": "EUR",
    "zones": {"domestic": {"destinations": ["FR"],
                           "brackets": {"1": "4.90", "5": "7.50", "20": "12.00"},
                           "per_kg_above": "0.45"},
              "europe": {"destinations": ["DE", "AT", "NL", "BE", "DK", "ES", "IT", "PL",
                                          "CH"],
                         "brackets": {"2": "9.90", "10": "15.90", "30": "24.00"},
                         "per_kg_above": "0.80"}},
    "services": {"standard": {"transit_days": 3},
                 "express": {"transit_days": 1, "surcharge": "6.50"}},
}
S = TrackingStatus
HISTORIES: tuple[tuple[TrackingStatus, ...], ...] = (
    (),  # labelled, not yet collected
    (S.IN_TRANSIT,),
    (S.IN_TRANSIT, S.OUT_FOR_DELIVERY),
    (S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.FAILED_ATTEMPT),
    (S.IN_TRANSIT, S.EXCEPTION),
    (S.IN_TRANSIT, S.EXCEPTION, S.RETURNED),
    (S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED),
    (S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED),
    (S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.FAILED_ATTEMPT, S.OUT_FOR_DELIVERY, S.DELIVERED),
    (S.IN_TRANSIT, S.DELIVERED),
)
LOCATIONS = ("Paris hub", "Regional hub", "Local depot", "Delivery van", "Doorstep")


def _accounts(session: Session) -> tuple[CarrierAccount, CarrierAccount]:
    tablerate = CarrierAccount(name="tablerate", driver="tablerate", settings=TABLERATE,
                               secrets={"webhook_secret": "demo-tablerate-secret"},
                               ship_from=SHIP_FROM, rate_timeout_ms=1000, version=1)
    swiftpost = CarrierAccount(
        name="swiftpost", driver="swiftpost", ship_from=SHIP_FROM, rate_timeout_ms=500,
        settings={"base_url": "http://127.0.0.1:8765", "timeout_seconds": 1},
        secrets={"api_key": "sp-test-key", "webhook_secret": "sp-hook-secret"}, version=1)
    session.add_all([tablerate, swiftpost])
    session.flush()
    session.add_all([
        CarrierService(carrier_account_id=tablerate.id, code="standard", name="Standard",
                       promised_transit_days=3, version=1),
        CarrierService(carrier_account_id=tablerate.id, code="express", name="Express",
                       promised_transit_days=1, version=1),
        CarrierRule(name="Heavy parcels go by table rate", sequence=10, action="prefer",
                    carrier_account_id=tablerate.id, min_weight_kg=Decimal(10), version=1),
        CarrierRule(name="Never more than 40 EUR", sequence=90, action="exclude",
                    max_price=Decimal(40), version=1),
        ShippingChargePolicy(kind="free_above", threshold=Decimal(50),
                             flat_amount=Decimal("4.90"), version=1),
    ])
    session.flush()
    return tablerate, swiftpost


def load_demo_data(session: Session, kernel: Kernel, shipments: int = 20) -> None:
    """Fill an empty logistics plugin (``erp_load_demo_data``)."""
    if session.scalar(sa.select(sa.func.count()).select_from(CarrierAccount)):
        return
    tablerate, _ = _accounts(session)
    ctx = Context(kernel, session, Principal.system("demo"))
    config = account_config(session, tablerate)
    carrier = kernel.drivers.load("carrier", "tablerate", settings=dict(config.settings),
                                  secrets=dict(config.secrets))
    # Orders entered by hand (no channel reference): a channel order's hand-over would
    # also tell its channel, which the demo's channels have no server to hear.
    orders = list(session.scalars(sa.select(Order.id).where(
        Order.state == OrderState.CONFIRMED, Order.external_reference.is_(None))
        .order_by(Order.id).limit(shipments)))
    now = utcnow()
    labelled: list[tuple[int, str, Decimal]] = []
    for index, order_id in enumerate(orders):
        try:
            with session.begin_nested():
                shipment_id = create_shipment(ctx, NewShipment(order_id=order_id))["id"]
                shipment = session.get(Shipment, shipment_id)
                facts = shipment_facts(session, shipment)
                quotes = carrier.quote(facts.request(config))
                chosen, why = choose([Rate(config.id, config.name, q.service, q.amount.value,
                                           q.amount.currency, q.transit_days)
                                      for q in quotes], [])
                if chosen is None:
                    raise LookupError("no rate")
        except Exception:  # an order the demo carrier cannot ship stays unshipped
            continue
        shipment.carrier_account_id = config.id
        shipment.service = chosen.service
        shipment.quoted_amount = chosen.amount
        shipment.currency = chosen.currency
        shipment.promised_transit_days = chosen.transit_days
        shipment.rate_decision = {**why, "chosen": chosen.as_json(),
                                  "rates": [r.as_json() for r in [chosen]],
                                  "skipped": [{"account": "swiftpost", "reason":
                                               "not asked: the demo loads offline"}]}
        for package in session.scalars(sa.select(Package).where(
                Package.shipment_id == shipment_id)):
            package.purchase_attempt = 1
            package.idempotency_key = f"{shipment.number}-{package.id}-1"
            label = carrier.create_shipment(facts.request(
                config, service=chosen.service, idempotency_key=package.idempotency_key,
                reference=package.idempotency_key))
            package.label_state = LabelState.LABELLED
            package.tracking_number = label.tracking_number
            package.label_data = label.label
            package.label_format = label.label_format
            package.label_amount = label.amount.value if label.amount else None
            package.label_currency = label.amount.currency if label.amount else None
            package.tracking_status = S.PENDING
            labelled.append((shipment_id, label.tracking_number,
                             package.label_amount or Decimal(0)))
        session.flush()
        ctx.fire("logistics.shipment", shipment_id, "mark_labelled", read_back=False)
        history = HISTORIES[index % len(HISTORIES)]
        if not history:
            continue
        ctx.fire("logistics.shipment", shipment_id, "hand_over", read_back=False)
        numbers = list(session.scalars(sa.select(Package.tracking_number).where(
            Package.shipment_id == shipment_id)))
        start = now - dt.timedelta(days=len(history) + index % 3)
        events = [TrackingEvent(number, status, start + dt.timedelta(days=step, hours=9),
                                LOCATIONS[min(step, len(LOCATIONS) - 1)], status.value,
                                f"demo-{number}-{step}", {"code": status.value})
                  for number in numbers for step, status in enumerate(history, start=1)]
        record_events(ctx, config.id, events, "pull")
    if labelled:
        lines = [FreightInvoiceLine(number, Amount(amount + (Decimal("1.80") if i == 1
                                                             else 0), "EUR"), "parcel")
                 for i, (_, number, amount) in enumerate(labelled[:8])]
        lines.append(FreightInvoiceLine(labelled[0][1], Amount(labelled[0][2], "EUR"),
                                        "billed again"))
        lines.append(FreightInvoiceLine("TR0000000000000", Amount("7.50", "EUR"),
                                        "unknown parcel"))
        import_invoices(ctx, config.id, [FreightInvoice(
            f"TRX-{now:%Y%m}", now.date(), "EUR", lines)], Decimal("0.50"))
