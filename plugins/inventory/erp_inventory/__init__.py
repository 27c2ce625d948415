"""Inventory: catalogue, warehouses, a stock ledger with reservations that never oversell."""
