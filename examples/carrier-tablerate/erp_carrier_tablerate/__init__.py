"""A table-rate carrier for the ERP: prices from a zone and weight table, tracking by webhook.

Installed, it registers the driver ``tablerate`` in the ``erp.carriers`` namespace; the
ERP builds it as ``TableRateCarrier(settings=..., secrets=...)`` from a carrier account.
"""

from erp_carrier_tablerate.driver import TableRateCarrier
from erp_carrier_tablerate.webhooks import sign_tracking_webhook

__all__ = ["TableRateCarrier", "sign_tracking_webhook"]
