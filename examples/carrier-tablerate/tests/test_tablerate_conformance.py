"""The table-rate driver passes the SDK's carrier driver conformance kit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tablerate_fixtures import *  # noqa: F403
from tablerate_fixtures import shipment, tracking_webhook

from erp_sdk.drivers import ShipmentRequest, WebhookRequest
from erp_sdk.testing import CarrierDriverConformance


class TestTableRateConformance(CarrierDriverConformance):
    @pytest.fixture
    def shipment_request(self) -> ShipmentRequest:
        return shipment("1.5")

    @pytest.fixture
    def tracking_webhook(self) -> Callable[[str, str], WebhookRequest]:
        def make(tracking_number: str, status: str) -> WebhookRequest:
            return tracking_webhook({"tracking_number": tracking_number, "status": status,
                                     "at": "2026-03-02T08:15:00Z", "location": "Lyon hub"})

        return make
