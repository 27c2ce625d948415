"""Supply: suppliers, purchase orders, receipts, bills, replenishment, supplier portal."""
