"""Demo data: suppliers with price lists (one in US dollars), purchase orders in every
state, receipts (one with a quality rejection), a matched bill and one held outside
tolerance, reorder rules and the suggestions they give."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_inventory.catalogue import Product
from erp_inventory.warehouses import Warehouse
from erp_sdk import Context, Kernel, Principal, set_exchange_rate, utcnow
from erp_supply.bills import match_bill
from erp_supply.currencies import company_currency
from erp_supply.purchase_orders import confirm_with_changes, split_backorder
from erp_supply.receipts import ReceiveLine, receive_order
from erp_supply.replenishment import replenish

SUPPLIERS = [
    ("LEAF", "Leaf & Co. Tea Importers", "EUR", 14, "Mia Lang", "orders@leaf.example"),
    ("BEAN", "Bean Brokers Ltd", "USD", 30, "Sam Ortiz", "sales@bean.example"),
    ("KIT", "Kitchen Kit Wholesale", "EUR", 30, "Ada Berg", "trade@kit.example"),
]


def load_demo_data(session: Session, kernel: Kernel) -> None:
    ctx = Context(kernel, session, Principal.system("demo"))
    today = utcnow().date()
    for days_ago, rate in ((60, "0.9120"), (30, "0.9210"), (0, "0.9180")):
        set_exchange_rate(session, "USD", company_currency(),
                          today - dt.timedelta(days=days_ago), Decimal(rate), source="demo")
    products = list(session.execute(sa.select(Product.id, Product.sku, Product.cost)
                                    .order_by(Product.id)))
    warehouse = session.scalar(sa.select(Warehouse.id).where(Warehouse.code == "MAIN"))
    suppliers = {}
    for code, name, currency, terms, contact, email in SUPPLIERS:
        suppliers[code] = ctx.records("supply.supplier").create({
            "code": code, "name": name, "currency": currency, "payment_terms_days": terms,
            "contact_name": contact, "email": email})["id"]
    prefix = {"TEA": "LEAF", "COF": "BEAN", "ACC": "KIT"}
    catalogue: dict[str, list[tuple[int, Decimal]]] = {code: [] for code in suppliers}
    for product_id, sku, cost in products:
        supplier = prefix.get(sku[:3])
        if supplier is None:
            continue
        currency = "USD" if supplier == "BEAN" else "EUR"
        price = (cost * (Decimal("1.05") if currency == "USD" else Decimal("0.95"))
                 ).quantize(Decimal("0.01"))
        offer = ctx.records("supply.supplier_product").create({
            "supplier_id": suppliers[supplier], "product_id": product_id,
            "supplier_sku": f"{supplier}-{sku}", "currency": currency,
            "minimum_order_quantity": "10", "lead_time_days": 5 if supplier == "LEAF" else 12,
            "freight_per_unit": "0.20", "duty_rate": "0.04" if currency == "USD" else "0"})
        for minimum, factor in (("0", "1"), ("50", "0.95"), ("200", "0.9")):
            ctx.records("supply.price_break").create({
                "supplier_product_id": offer["id"], "minimum_quantity": minimum,
                "unit_price": (price * Decimal(factor)).quantize(Decimal("0.01"))})
        catalogue[supplier].append((product_id, price))
    # A second, slower and cheaper source for the first teas: the comparison shows it.
    for product_id, price in catalogue["LEAF"][:4]:
        offer = ctx.records("supply.supplier_product").create({
            "supplier_id": suppliers["KIT"], "product_id": product_id, "currency": "EUR",
            "minimum_order_quantity": "50", "lead_time_days": 20})
        ctx.records("supply.price_break").create({
            "supplier_product_id": offer["id"], "minimum_quantity": "0",
            "unit_price": (price * Decimal("0.9")).quantize(Decimal("0.01"))})

    def order(supplier: str, lines: list[tuple[int, Decimal]], quantity: str, *,
              freight: str = "0") -> int:
        created = ctx.records("supply.purchase_order").create({
            "supplier_id": suppliers[supplier], "warehouse_id": warehouse,
            "expected_date": (today + dt.timedelta(days=7)).isoformat(), "freight": freight})
        for product_id, price in lines:
            ctx.records("supply.purchase_order_line").create({
                "order_id": created["id"], "product_id": product_id, "quantity": quantity,
                "unit_price": str(price),
                "expected_date": (today + dt.timedelta(days=7)).isoformat()})
        return created["id"]

    def fire(order_id: int, *transitions: str) -> None:
        for transition in transitions:
            ctx.fire("supply.purchase_order", order_id, transition, read_back=False)

    def line_ids(order_id: int) -> list[int]:
        return [line["id"] for line in ctx.records("supply.purchase_order_line").list(
            [("order_id", str(order_id)), ("limit", "100")])["items"]]

    leaf, bean, kit = catalogue["LEAF"], catalogue["BEAN"], catalogue["KIT"]
    order("LEAF", leaf[4:6], "40")  # draft
    fire(order("KIT", kit[:2], "20"), "send")  # sent
    sent = order("BEAN", bean[:2], "60")
    fire(sent, "send")
    first = line_ids(sent)[0]
    confirm_with_changes(ctx, sent, [{"line_id": first, "quantity": Decimal(50),
                                      "expected_date": today + dt.timedelta(days=10)}], None)
    partial = order("LEAF", leaf[:3], "30", freight="12.00")
    fire(partial, "send", "confirm")
    lines = line_ids(partial)
    receive_order(ctx, partial, [ReceiveLine(lines[0], Decimal(30)),
                                 ReceiveLine(lines[1], Decimal(10), Decimal(2))])
    received = order("BEAN", bean[2:4], "25", freight="30.00")
    fire(received, "send", "confirm")
    receive_order(ctx, received, [ReceiveLine(line, Decimal(25)) for line in line_ids(received)])
    closed = order("KIT", kit[2:4], "15")
    fire(closed, "send", "confirm")
    receive_order(ctx, closed, [ReceiveLine(line_ids(closed)[0], Decimal(15))])
    split_backorder(ctx, closed)
    fire(order("KIT", kit[4:5], "5"), "cancel")  # cancelled

    bills = ctx.records("supply.bill")
    matched = bills.create({"supplier_id": suppliers["BEAN"], "purchase_order_id": received,
                            "supplier_reference": "BB-2211", "bill_date": today.isoformat()})
    for line_id, (_product_id, price) in zip(line_ids(received), bean[2:4], strict=True):
        ctx.records("supply.bill_line").create({
            "bill_id": matched["id"], "order_line_id": line_id, "quantity": "25",
            "unit_price": str(price), "tax_rate": "0.2"})
    match_bill(ctx, matched["id"])
    held = bills.create({"supplier_id": suppliers["LEAF"], "purchase_order_id": partial,
                         "supplier_reference": "LC-0917", "bill_date": today.isoformat()})
    for line_id, (_product_id, price) in zip(lines, leaf[:3], strict=True):
        ctx.records("supply.bill_line").create({  # bills all 30, 20 % above the price
            "bill_id": held["id"], "order_line_id": line_id, "quantity": "30",
            "unit_price": str((price * Decimal("1.2")).quantize(Decimal("0.01"))),
            "tax_rate": "0.2"})
    match_bill(ctx, held["id"])

    rules = ctx.records("supply.reorder_rule")
    for product_id, _price in leaf[6:10] + bean[4:8]:
        rules.create({"product_id": product_id, "warehouse_id": warehouse, "method": "fixed",
                      "minimum": "250", "maximum": "400"})
    for product_id, _price in kit[5:9]:
        rules.create({"product_id": product_id, "warehouse_id": warehouse})
    replenish(ctx, create_orders=False)
    session.flush()
