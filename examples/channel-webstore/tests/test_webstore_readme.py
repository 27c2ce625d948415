"""The README's code is the contract a shop implements: it must run and agree with the
driver."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from erp_channel_webstore import WebStoreChannel
from erp_channel_webstore.exact_json import loads_exact
from erp_channel_webstore.orders import read_order
from erp_channel_webstore.signing import verify_signed_request
from erp_sdk.drivers import WebhookRequest

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def block_after(heading: str, language: str) -> str:
    section = README[README.index(heading):]
    match = re.search(rf"```{language}\n(.*?)```", section, flags=re.S)
    assert match, f"no {language} block after {heading!r}"
    return match.group(1)


def test_the_documented_signing_recipe_is_what_the_driver_checks() -> None:
    body = b'{"orders": []}'
    scope: dict[str, Any] = {"webhook_secret": "whsec-readme", "body": body}

    exec(block_after("### Signatures", "python"), scope)

    verify_signed_request("whsec-readme", scope["headers"], body)
    channel = WebStoreChannel(settings={"base_url": "https://shop.example"},
                              secrets={"api_key": "k", "webhook_secret": "whsec-readme"})
    assert channel.parse_order_webhook(WebhookRequest(headers=scope["headers"], body=body)) == ()


def test_the_documented_order_document_is_readable() -> None:
    order = read_order(loads_exact(block_after("### The order document", "json")))

    assert order.external_reference == "WS-1001"
    assert [str(line.unit_price) for line in order.lines] == ["19.90", "7.45"]


def test_the_fake_shop_example_runs() -> None:
    exec(block_after("## Testing with the fake shop", "python"), {})
