"""A sales channel driver for a web shop (entry point ``webstore`` in ``erp.sales_channels``).

The shop pushes new orders to the ERP as signed webhooks and also serves them page by
page; the ERP pushes stock levels and shipments back. The wire format is documented in
this distribution's README; ``erp_channel_webstore.fakeshop`` is a real local HTTP shop
for tests.
"""

from erp_channel_webstore.driver import WebStoreChannel

__all__ = ["WebStoreChannel"]
