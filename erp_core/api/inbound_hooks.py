"""``POST /api/v1/hooks/{driver}/{account}``: what outside services push to the ERP.

Public by design (the caller is a carrier, a payment provider or a sales channel, not
an ERP user), so the route defends itself before any work: a rate limit per account
(429 with ``Retry-After``), a body size limit (413, counted as the body streams in, so a
lying ``Content-Length`` gains nothing), then the owning plugin's driver checks the
signature on the raw body (401) before anything is read from it. Errors are
problem+json without stack traces, as on every route.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from erp_core import metrics
from erp_core.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from erp_core.inbound import InboundWebhook, receive
from erp_core.kernel import Kernel

LIMITER_STATE_KEY = "webhook_limiter"


def _problem_spec(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=dict[str, Any], description=description,
                        media_type=PROBLEM_MEDIA_TYPE, generate_examples=False)


RESPONSES = {
    401: _problem_spec("The signature (or timestamp) does not check out"),
    404: _problem_spec("No enabled plugin has this account of this driver"),
    413: _problem_spec("The body is larger than ERP_WEBHOOK_MAX_BYTES"),
    422: _problem_spec("The owning plugin refused the webhook's content; nothing was kept"),
    429: _problem_spec("The account sends faster than allowed; see Retry-After"),
}


def _refusal(status: int, title: str, detail: str, **headers: str) -> Response[Any]:
    slug = title.lower().replace(" ", "-")
    return Response({"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status,
                     "detail": detail}, status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                    headers=headers or None)


async def _body_within(request: Request[Any, Any, Any], limit: int) -> bytes | None:
    """The raw body, or ``None`` as soon as it is longer than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$"
"""What a driver's or an account's name may be in the path (a channel code, an account
name): anything else is refused before a driver is asked."""


@post("/api/v1/hooks/{driver:str}/{account:str}", status_code=200, opt={"public": True},
      security=[], tags=["system"], responses=RESPONSES,
      summary="A webhook a carrier, payment provider or sales channel pushes to one of its"
      " accounts (signed as its driver expects)")
async def receive_webhook(driver: Annotated[str, Parameter(pattern=NAME_PATTERN)],
                          account: Annotated[str, Parameter(pattern=NAME_PATTERN)],
                          request: Request[Any, Any, Any],
                          kernel: NamedDependency[Kernel]) -> Response[Any]:
    """200 with ``{"event_id", "duplicate", "result"}``: ``duplicate`` is true for an event
    already handled (nothing was done again). 401 for a bad signature, 404 for an account
    nobody owns, 413 for a body over ``ERP_WEBHOOK_MAX_BYTES``, 429 past the account's
    rate (``Retry-After`` says when to come back)."""
    wait = request.app.state[LIMITER_STATE_KEY].wait_for((driver, account))
    if wait:
        metrics.INBOUND_WEBHOOKS.labels(driver, "rate_limited").inc()
        return _refusal(429, "Too many requests", f"the {driver} account {account!r} sends"
                        f" webhooks faster than allowed; retry in {wait} s",
                        **{"Retry-After": str(wait)})
    limit = kernel.settings.webhook_max_bytes
    body = await _body_within(request, limit)
    if body is None:
        metrics.INBOUND_WEBHOOKS.labels(driver, "too_large").inc()
        return _refusal(413, "Content too large",
                        f"a webhook body may not exceed {limit} bytes")
    webhook = InboundWebhook(driver, account, dict(request.headers.items()), body)
    reception = await anyio.to_thread.run_sync(receive, kernel, webhook)
    return Response(reception.as_dict())


INBOUND_ROUTES = [receive_webhook]
