"""Demo data: three warehouses and a few dozen products with stock and limits."""

from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy.orm import Session

from erp_inventory.alerts import StockLimit
from erp_inventory.catalogue import Category, Product
from erp_inventory.movements import receive
from erp_inventory.warehouses import create_warehouse
from erp_sdk import Context, Kernel, Principal

CATALOGUE = {
    "Tea": ["Sencha", "Genmaicha", "Earl Grey", "Assam", "Darjeeling", "Rooibos",
            "Chamomile", "Jasmine Pearls", "Oolong", "Pu-erh", "Matcha", "Chai"],
    "Coffee": ["Espresso Beans", "Colombia Filter", "Ethiopia Yirgacheffe", "Decaf House",
               "Brazil Santos", "Kenya AA", "Guatemala", "Sumatra", "Cold Brew Pack",
               "Instant Gold", "Cafetiere Blend", "Mocha Java"],
    "Accessories": ["Teapot 1L", "Glass Mug", "Pour-over Dripper", "Paper Filters x100",
                    "Milk Frother", "Tea Infuser", "Burr Grinder", "Travel Cup",
                    "Kettle 1.7L", "Scale 0.1g", "Storage Tin", "Cleaning Tabs"],
}


def load_demo_data(session: Session, kernel: Kernel) -> None:
    ctx = Context(kernel, session, Principal.system("demo"))
    rng = random.Random(7)
    warehouses = [create_warehouse(session, code, name) for code, name in
                  (("MAIN", "Main warehouse"), ("EAST", "East hub"), ("SHOP", "City shop"))]
    number = 0
    for category_name, names in CATALOGUE.items():
        category = Category(name=category_name, version=1)
        session.add(category)
        session.flush()
        for name in names:
            number += 1
            cost = Decimal(rng.randrange(150, 4000)) / 100
            product = Product(sku=f"{category_name[:3].upper()}-{number:03d}", name=name,
                              category_id=category.id, list_price=(cost * Decimal("2.2"))
                              .quantize(Decimal("0.01")), weight_kg=Decimal("0.25"),
                              version=1)
            session.add(product)
            session.flush()
            for warehouse in warehouses:
                if rng.random() < 0.8:
                    receive(ctx, warehouse.id, product.id, Decimal(rng.randrange(5, 200)),
                            cost, origin="demo:opening-stock")
                session.add(StockLimit(product_id=product.id, warehouse_id=warehouse.id,
                                       minimum=Decimal(10), maximum=Decimal(400), version=1))
    session.flush()
