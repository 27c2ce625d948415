"""Cash on delivery as a payment provider for the ERP.

Installed, it registers the driver ``cod`` in the ``erp.payment_providers`` namespace; the
ERP builds it as ``CashOnDelivery(settings=..., secrets=...)`` from a payment account.
"""

from erp_payment_cod.driver import CashOnDelivery
from erp_payment_cod.ledger import Ledger, MemoryLedger, SqliteLedger
from erp_payment_cod.notifications import sign_delivery_notification
from erp_payment_cod.payment import CodPayment

__all__ = ["CashOnDelivery", "CodPayment", "Ledger", "MemoryLedger", "SqliteLedger",
           "sign_delivery_notification"]
