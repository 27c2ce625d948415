"""What a plugin declares to take the webhooks outside services push to its accounts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from erp_core.context import Context, KernelServices


def _lower_keys(value: Mapping[str, str]) -> Mapping[str, str]:
    return {name.lower(): text for name, text in value.items()}


@attrs.frozen
class InboundWebhook:
    """A request to ``POST /api/v1/hooks/{driver}/{account}`` as it arrived: the driver
    name and account code from the path, header names in lower case, the raw body."""

    driver: str
    account: str
    headers: Mapping[str, str] = attrs.field(converter=_lower_keys)
    body: bytes = attrs.field(repr=False)


@attrs.frozen
class VerifiedWebhook:
    """An authentic webhook: what the owning plugin read from it (``content``, handed
    back to its ``handle``) and the provider's id of the event, by which a replay is
    recognised (``None``: the SHA-256 of the body stands for it)."""

    content: Any = attrs.field(repr=False)
    event_id: str | None = None


@attrs.frozen
class WebhookReceiver:
    """How a plugin takes inbound webhooks for the driver accounts it owns.

    ``verify(kernel, webhook)`` runs before any transaction: it returns ``None`` when the
    plugin has no account ``webhook.account`` of driver ``webhook.driver``, otherwise has
    the account's driver check the signature on the raw body (raising
    ``AuthenticationRequired``/``WebhookRejected`` when it is not authentic) and returns
    a ``VerifiedWebhook``. ``handle(ctx, verified)`` then does what the webhook asks in
    ``ctx``'s transaction, the one that records the event id: a replay finds it and is not
    handled again, and an error undoes both. Its return value (JSON, or ``None``) is the
    answer's ``result``.
    """

    verify: Callable[[KernelServices, InboundWebhook], VerifiedWebhook | None] = attrs.field(
        repr=False)
    handle: Callable[[Context, VerifiedWebhook], Any] = attrs.field(repr=False)
    description: str = ""
