"""SwiftPost for the ERP: the ``swiftpost`` carrier driver and a local fake of its API.

``SwiftPostCarrier`` talks to SwiftPost's HTTP API (``settings["base_url"]``);
``FakeSwiftPost`` is that API as a real local HTTP server, for tests, demos and
benchmarks: rates with a configurable delay, PDF labels bought once per idempotency key,
tracking scans pushed as signed webhooks, invoices with deliberate discrepancies.
"""

from erp_carrier_swiftpost.driver import SwiftPostCarrier
from erp_carrier_swiftpost.fake_api import FakeSwiftPost

__all__ = ["FakeSwiftPost", "SwiftPostCarrier"]
