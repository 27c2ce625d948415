"""The CRM's HTTP routes beyond the generic entity API, mounted under ``/api/v1/crm``.

Each route declares the permission it needs; the services check the finer ones (reading
the customer involved, for instance) so that the CLI and the API obey the same rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, RawBody

from erp_crm.interactions import TIMELINE_LIMIT, InteractionKind, log_interaction, timeline
from erp_crm.merge import merge_customers
from erp_crm.segments import (
    MEMBERS_LIMIT,
    parse_search,
    search_customers,
    segment_behaviour,
    segment_members,
)
from erp_sdk import (
    KernelDependency,
    PrincipalDependency,
    body_operation,
    identifier,
    read_body,
    text,
    timestamp,
    typed_field,
)


@attrs.frozen
class MergeBody:
    """The duplicate to merge into the customer of the path."""

    duplicate_id: int = typed_field(identifier())


@attrs.frozen
class InteractionBody:
    """An interaction to log; ``occurred_at`` defaults to now."""

    kind: str = typed_field(text(choices=[kind.value for kind in InteractionKind]))
    summary: str = typed_field(text())
    channel: str | None = typed_field(text(40), default=None, nullable=True)
    outcome: str | None = typed_field(text(80), default=None, nullable=True)
    occurred_at: dt.datetime | None = typed_field(timestamp(), default=None, nullable=True)


@post("/customers/{customer_id:int}/merge", sync_to_thread=True, status_code=200,
      opt={"permission": "crm.customer.merge"}, operation_class=body_operation(MergeBody),
      summary="Merge a duplicate customer into this one",
      description="Body: {\"duplicate_id\": N}. Moves the duplicate's contacts, addresses,"
                  " interactions, tags and purchases here, marks it merged and inactive, and"
                  " returns this customer. All or nothing.")
def merge(customer_id: FromPath[int], body: RawBody, kernel: KernelDependency,
          principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(MergeBody, body)
    with kernel.context(principal) as ctx:
        return merge_customers(ctx, customer_id, data.duplicate_id)


@get("/customers/{customer_id:int}/timeline", sync_to_thread=True,
     opt={"permission": "crm.interaction.read"},
     summary="A customer's interactions, newest first",
     description="Pages of `limit` (at most 200); pass `next_cursor` back as `cursor`.")
def customer_timeline(customer_id: FromPath[int], kernel: KernelDependency,
                      principal: PrincipalDependency, limit: FromQuery[int] = TIMELINE_LIMIT,
                      cursor: FromQuery[str | None] = None) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return timeline(ctx, customer_id, limit=limit, cursor=cursor)


@post("/customers/{customer_id:int}/interactions", sync_to_thread=True, status_code=201,
      opt={"permission": "crm.interaction.create"},
      operation_class=body_operation(InteractionBody),
      summary="Log an interaction with a customer",
      description="Body: kind (call, message, ticket, note), summary, and optionally"
                  " channel, outcome, occurred_at. The author is the caller.")
def create_interaction(customer_id: FromPath[int], body: RawBody, kernel: KernelDependency,
                       principal: PrincipalDependency) -> dict[str, Any]:
    data = read_body(InteractionBody, body)
    payload = {name: value.isoformat() if isinstance(value, dt.datetime) else value
               for name, value in attrs.asdict(data).items() if value is not None}
    with kernel.context(principal) as ctx:
        return log_interaction(ctx, customer_id, payload)


@get("/customers/search", sync_to_thread=True, opt={"permission": "crm.customer.read"},
     summary="Active customers matching criteria",
     description="Parameters: tag (all of; repeat or comma-separate), tier (any of),"
                 " flagged, currency with min_spend, max_spend, last_purchase_after,"
                 " last_purchase_before; limit, cursor.")
def search(request: Request[Any, Any, Any], kernel: KernelDependency,
           principal: PrincipalDependency) -> dict[str, Any]:
    criteria, limit, cursor = parse_search(request.query_params.multi_items())
    with kernel.context(principal) as ctx:
        return search_customers(ctx, criteria, limit=limit, cursor=cursor)


@get("/segments/{segment_id:int}/members", sync_to_thread=True,
     opt={"permission": "crm.segment.read"},
     summary="The customers in a segment, by id",
     description="Pages of `limit` (at most 500); pass `next_cursor` back as `cursor`.")
def members(segment_id: FromPath[int], kernel: KernelDependency,
            principal: PrincipalDependency, limit: FromQuery[int] = MEMBERS_LIMIT,
            cursor: FromQuery[str | None] = None) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return segment_members(ctx, segment_id, limit=limit, cursor=cursor)


@get("/segments/{segment_id:int}/behaviour", sync_to_thread=True,
     opt={"permission": "crm.segment.read"},
     summary="What a segment buys: spend per currency and favourite categories")
def behaviour(segment_id: FromPath[int], kernel: KernelDependency,
              principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        return segment_behaviour(ctx, segment_id)


ROUTES = [merge, customer_timeline, create_interaction, search, members, behaviour]
