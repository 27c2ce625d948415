"""Errors of the inventory plugin."""

from __future__ import annotations

from decimal import Decimal

from erp_sdk import ConflictError


class InsufficientStock(ConflictError):
    """Not enough available stock for a reservation, shipment or transfer (409).

    ``shortfalls`` maps a product SKU to the missing quantity.
    """

    title = "Insufficient stock"

    def __init__(self, warehouse: str, shortfalls: dict[str, Decimal]) -> None:
        parts = ", ".join(f"{sku} short by {qty.normalize():f}" for sku, qty in shortfalls.items())
        super().__init__(f"insufficient stock in warehouse {warehouse}: {parts}")
        self.warehouse = warehouse
        self.shortfalls = shortfalls
