"""Two receipts of the same order at once: the order's lock makes the second see the
first, so together they never exceed the over-receipt tolerance."""

import threading
from decimal import Decimal

import pytest
from supply_helpers import API, ok

from erp_sdk import ConflictError, Principal
from erp_supply.receipts import ReceiveLine, receive_order

pytestmark = pytest.mark.erp_plugins("supply")


def test_concurrent_receipts_never_exceed_the_tolerance(
        erp_client, erp_kernel, make_supplier, make_order, make_product):
    order = make_order(make_supplier(over_receipt_tolerance="0"), [(make_product(), "10", "1")])
    line_id = order["lines"][0]["id"]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def receive_eight() -> None:
        start.wait()
        try:
            erp_kernel.run(lambda ctx: receive_order(ctx, order["id"], [
                ReceiveLine(line_id, Decimal(8))]), Principal.system("test"))
            outcomes.append("received")
        except ConflictError:
            outcomes.append("refused")

    threads = [threading.Thread(target=receive_eight) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["received", "refused"]
    line = ok(erp_client.get(f"{API}/purchase-order-lines/{line_id}"))
    assert line["received_quantity"] == "8.0000"
    receipts = ok(erp_client.get(f"{API}/receipts", params={"purchase_order_id": order["id"]}))
    assert len(receipts["items"]) == 1
