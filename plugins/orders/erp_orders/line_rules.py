"""What an order line must satisfy, however it is written (placed, imported, edited).

Its values pass through the kernel's field types (a positive quantity, a price and a
discount that are not negative, a tax rate from 0 to 1); beyond those, a line is priced
in its order's currency (a product priced in another one is refused until a conversion
exists), its quantity has no more decimals than the product's unit allows (``pcs``:
whole units) and its discount is not more than its price.
"""

from __future__ import annotations

from decimal import Decimal

from erp_inventory.catalogue import Product
from erp_sdk import FieldValueError, ValidationError, check_quantity


def check_line(product: Product, currency: str, quantity: Decimal, unit_price: Decimal,
               discount: Decimal, where: str = "") -> None:
    """Refuse a line that breaks a rule above; ``where`` prefixes the field names
    (``lines[0].``) so the error names the value that is wrong."""
    errors: dict[str, str] = {}
    if product.currency != currency:
        errors[f"{where}product_id"] = (
            f"product {product.sku} is priced in {product.currency}, the order is in"
            f" {currency}; no conversion between them exists")
    try:
        check_quantity(quantity, product.unit)
    except FieldValueError as exc:
        errors[f"{where}quantity"] = str(exc)
    if discount > quantity * unit_price:
        errors[f"{where}discount"] = (f"{discount} is more than the line's price"
                                      f" ({quantity} x {unit_price})")
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
        raise ValidationError(f"invalid order line: {summary}", errors)
