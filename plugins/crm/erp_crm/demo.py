"""Demo data for ``erp demo``: a few hundred customers with addresses, contacts, tags,
interactions and two years of purchases, the same on every run (``random.Random(42)``;
only the dates follow today). Rows go in with bulk inserts, and the summaries and tiers
are computed once at the end, in a handful of statements.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_crm.addresses import Address
from erp_crm.contacts import Contact
from erp_crm.customers import Customer, CustomerKind
from erp_crm.interactions import Interaction, InteractionKind
from erp_crm.purchases import Purchase, PurchaseCategory
from erp_crm.segments import Segment
from erp_crm.tags import CustomerTag, Tag
from erp_crm.tiers import TierReason, refresh_customers
from erp_sdk import Context, Kernel, Principal, insert_rows, utcnow

CUSTOMERS = 300
FIRST_NAMES = ["Anna", "Ben", "Chloé", "David", "Elif", "Farid", "Greta", "Hugo", "Ines",
               "Jonas", "Karin", "Luca", "Mina", "Noah", "Olga", "Pavel", "Quentin", "Rosa",
               "Sven", "Tara", "Umar", "Vera", "Wim", "Yara", "Zoë"]
LAST_NAMES = ["Becker", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ivanova",
              "Jensen", "Kowalski", "Lambert", "Meyer", "Novak", "Okafor", "Petit", "Rossi",
              "Schmidt", "Tanaka", "Usman", "Vogel", "Weber", "Yilmaz", "Zimmermann"]
COMPANY_WORDS = ["Alpine", "Baltic", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor",
                 "Iris", "Juniper", "Kestrel", "Linden", "Meadow", "Nordic", "Orchid"]
COMPANY_KINDS = ["Outfitters", "Trading", "Concept Store", "Boutique", "Supplies", "GmbH"]
CITIES = [("Berlin", "10115", "DE"), ("Hamburg", "20095", "DE"), ("München", "80331", "DE"),
          ("Wien", "1010", "AT"), ("Zürich", "8001", "CH"), ("Paris", "75001", "FR"),
          ("Lyon", "69001", "FR"), ("Amsterdam", "1011", "NL"), ("Milano", "20121", "IT"),
          ("Madrid", "28001", "ES"), ("København", "1050", "DK"), ("Warszawa", "00-001", "PL")]
STREETS = ["Hauptstraße", "Rue de la Paix", "Kerkstraat", "Via Roma", "Calle Mayor",
           "Bahnhofstraße", "Nørregade", "Marszałkowska"]
CATEGORIES = ["apparel", "shoes", "accessories", "home", "electronics", "beauty", "toys",
              "books", "outdoor"]
TAGS = [("vip", "Our best customers"), ("newsletter", "Subscribed to the newsletter"),
        ("wholesale", "Buys in bulk at trade prices"), ("returns-risk", "Returns a lot"),
        ("b2b", "Buys for a business")]
AGENTS = ["anna.agent", "ben.agent", "chloe.manager"]
OUTCOMES = {InteractionKind.CALL: ["answered", "voicemail", "no answer"],
            InteractionKind.MESSAGE: ["replied", "sent"],
            InteractionKind.TICKET: ["resolved", "open", "escalated"],
            InteractionKind.NOTE: [None]}
SUMMARIES = ["Asked about delivery times", "Wants to change the size of an order",
             "Complained about a damaged parcel", "Interested in the autumn collection",
             "Requested an invoice copy", "Asked for trade prices", "Return label sent",
             "Prefers delivery on Saturdays"]



def _customer(rng: random.Random, number: int) -> dict[str, Any]:
    if rng.random() < 0.2:
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
        kind, local = CustomerKind.COMPANY, name.lower().replace(" ", "-")
    else:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name, kind, local = f"{first} {last}", CustomerKind.PERSON, f"{first}.{last}".lower()
    local = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
    return {"kind": kind, "name": name, "email": f"{local}.{number}@example.com",
            "phone": f"+49 30 {rng.randint(1000000, 9999999)}" if rng.random() < 0.7 else None,
            "flagged": rng.random() < 0.03, "active": True,
            "notes": "Prefers e-mail over phone" if rng.random() < 0.1 else None}


def load_demo_data(session: Session, kernel: Kernel, customers: int = CUSTOMERS) -> None:
    """Fill an empty CRM (``erp_load_demo_data``); the default tier rules must exist."""
    rng = random.Random(42)
    now = utcnow()
    tag_ids = insert_rows(session, Tag, [{"name": n, "description": d} for n, d in TAGS])
    customer_rows = [_customer(rng, number) for number in range(1, customers + 1)]
    customer_ids = insert_rows(session, Customer, customer_rows)

    addresses: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    interactions: list[dict[str, Any]] = []
    tagging: list[dict[str, Any]] = []
    for customer_id, row in zip(customer_ids, customer_rows, strict=True):
        for label in ("home", "work")[:rng.randint(1, 2)]:
            city, postal_code, country = rng.choice(CITIES)
            addresses.append({
                "customer_id": customer_id, "label": label, "recipient": row["name"],
                "line1": f"{rng.choice(STREETS)} {rng.randint(1, 180)}", "city": city,
                "postal_code": postal_code, "country": country})
        if row["kind"] == CustomerKind.COMPANY:
            for _ in range(rng.randint(1, 3)):
                contacts.append({
                    "customer_id": customer_id,
                    "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    "job_title": rng.choice(["Buyer", "Accounts", "Store manager"])})
        for _ in range(rng.randint(0, 6)):
            kind = rng.choice(list(InteractionKind))
            interactions.append({
                "customer_id": customer_id, "kind": kind,
                "channel": {"call": "phone", "message": rng.choice(["email", "chat", "sms"]),
                            "ticket": "web", "note": None}[kind],
                "occurred_at": now - dt.timedelta(minutes=rng.randint(10, 365 * 24 * 60)),
                "author": rng.choice(AGENTS), "outcome": rng.choice(OUTCOMES[kind]),
                "summary": rng.choice(SUMMARIES)})
        for tag_id in rng.sample(tag_ids, rng.choice([0, 0, 1, 1, 2])):
            tagging.append({"customer_id": customer_id, "tag_id": tag_id})
    address_ids = insert_rows(session, Address, addresses)
    insert_rows(session, Contact, contacts)
    insert_rows(session, Interaction, interactions)
    insert_rows(session, CustomerTag, tagging)

    first_address: dict[int, int] = {}
    for address_id, address in zip(address_ids, addresses, strict=True):
        first_address.setdefault(address["customer_id"], address_id)
    session.execute(
        sa.update(Customer.__table__).where(Customer.__table__.c.id == sa.bindparam("customer"))
        .values(default_shipping_address_id=sa.bindparam("address"),
                default_billing_address_id=sa.bindparam("address")),
        [{"customer": c, "address": a} for c, a in first_address.items()])

    purchases: list[dict[str, Any]] = []
    categories: list[tuple[int, list[str]]] = []
    for customer_id in customer_ids:
        if rng.random() < 0.35:
            continue
        for _ in range(rng.randint(1, 10)):
            purchases.append({
                "reference": f"DEMO-{len(purchases) + 1:06d}", "customer_id": customer_id,
                "amount": Decimal(rng.randint(990, 39900)) / 100, "currency": "EUR",
                "occurred_at": now - dt.timedelta(minutes=rng.randint(60, 730 * 24 * 60)),
                "cancelled_at": now if rng.random() < 0.05 else None})
            categories.append((len(purchases) - 1, rng.sample(CATEGORIES, rng.randint(1, 2))))
    purchase_ids = insert_rows(session, Purchase, purchases)
    session.execute(sa.insert(PurchaseCategory), [
        {"purchase_id": purchase_ids[index], "category": name}
        for index, names in categories for name in names])

    session.execute(sa.insert(Segment), [
        {"name": "VIP", "description": "Tagged vip", "tags": ["vip"], "tiers": []},
        {"name": "Gold and silver", "tiers": ["gold", "silver"], "tags": []},
        {"name": "Lapsed big spenders", "description": "Spent 500 EUR or more, nothing for"
         " half a year", "tiers": [], "tags": [], "currency": "EUR",
         "min_spend": Decimal(500), "last_purchase_before": now - dt.timedelta(days=180)},
        {"name": "Flagged", "description": "Orders to review", "tiers": [], "tags": [],
         "flagged": True},
    ])
    ctx = Context(kernel, session, Principal.system("demo"))
    refresh_customers(ctx, customer_ids, TierReason.RECOMPUTE, now)
