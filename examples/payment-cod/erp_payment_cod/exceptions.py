"""What the driver refuses, as the ERP's error classes (the API maps them to 404 and 409)."""

from __future__ import annotations

from erp_sdk import ConflictError, NotFoundError


class PaymentNotFound(NotFoundError):
    """No cash-on-delivery payment has this provider reference in the ledger."""


class PaymentStateConflict(ConflictError):
    """The payment's state forbids the operation: capturing twice or more than was
    authorized, refunding before the capture or more than was captured."""
