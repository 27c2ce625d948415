"""Tillpoint card payments as a payment provider for the ERP.

Installed, it registers the driver ``tillpoint`` in the ``erp.payment_providers``
namespace; the ERP builds it as ``TillpointProvider(settings=..., secrets=...)`` from a
payment account. ``FakeTillpoint`` serves a fake of the Tillpoint API on a local port.
"""

from erp_payment_tillpoint.driver import TillpointProvider
from erp_payment_tillpoint.fake_api import FakeTillpoint

__all__ = ["FakeTillpoint", "TillpointProvider"]
