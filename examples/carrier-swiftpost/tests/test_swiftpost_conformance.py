"""The SwiftPost driver, against the fake API over HTTP, passes the conformance kit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from swiftpost_fixtures import *  # noqa: F403
from swiftpost_fixtures import request_to_lyon

from erp_carrier_swiftpost import FakeSwiftPost
from erp_sdk.drivers import ShipmentRequest, WebhookRequest
from erp_sdk.testing import CarrierDriverConformance


class TestSwiftPostConformance(CarrierDriverConformance):
    @pytest.fixture
    def shipment_request(self) -> ShipmentRequest:
        return request_to_lyon("1.2")

    @pytest.fixture
    def tracking_webhook(self, fake_api: FakeSwiftPost) -> Callable[[str, str], WebhookRequest]:
        def make(tracking_number: str, code: str) -> WebhookRequest:
            scan = fake_api.scan(tracking_number, code, location="Lyon hub", push=False)
            body = fake_api.webhook_body([scan])
            return WebhookRequest(fake_api.signed_headers(body), body)

        return make
