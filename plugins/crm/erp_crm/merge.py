"""Merging a duplicate customer into the customer that stays (the survivor).

Everything attached to the duplicate (contacts, addresses, interactions, tags,
purchases) moves to the survivor; the duplicate stays as a record of the merge
(``merged_into_id``, inactive, no e-mail, no tier) with its tier history. The survivor
keeps its own values and takes the duplicate's where it had none. One transaction: a
failure anywhere leaves both customers exactly as they were.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from erp_crm.addresses import Address, ensure_default_addresses
from erp_crm.contacts import Contact
from erp_crm.customers import DEFAULT_ADDRESS_FIELDS, Customer
from erp_crm.exceptions import CustomerMerged
from erp_crm.interactions import Interaction
from erp_crm.purchases import Purchase
from erp_crm.tags import CustomerTag
from erp_crm.tiers import TierReason, refresh_customers
from erp_sdk import Context, ValidationError, utcnow


def _survivor_changes(survivor: dict[str, Any], duplicate: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field in ("email", "phone", *DEFAULT_ADDRESS_FIELDS):
        if survivor[field] is None and duplicate[field] is not None:
            changes[field] = duplicate[field]
    if duplicate["notes"]:
        moved = f"From customer {duplicate['id']} (merged): {duplicate['notes']}"
        changes["notes"] = f"{survivor['notes']}\n\n{moved}" if survivor["notes"] else moved
    if duplicate["flagged"] and not survivor["flagged"]:
        changes["flagged"] = True
    return changes


def merge_customers(ctx: Context, survivor_id: int, duplicate_id: int) -> dict[str, Any]:
    """Merge customer ``duplicate_id`` into ``survivor_id``; return the survivor.

    Needs ``crm.customer.merge``. Refuses to merge a customer into itself
    (``ValidationError``) or to merge a customer that was already merged
    (``CustomerMerged``). Leaves an audit row on both customers and writes the event
    ``crm.customer.merged`` with how many records moved.
    """
    ctx.principal.require("crm.customer.merge")
    if survivor_id == duplicate_id:
        raise ValidationError("a customer cannot be merged into itself",
                              {"duplicate_id": "must be another customer"})
    customers = ctx.records("crm.customer")
    # In id order: no deadlock. For a key change: the e-mail, which has a unique index,
    # moves from one to the other.
    before = {customer_id: customers.get(customer_id, for_key_change=True)
              for customer_id in sorted((survivor_id, duplicate_id))}
    survivor, duplicate = before[survivor_id], before[duplicate_id]
    for record in (duplicate, survivor):
        if record["merged_into_id"] is not None:
            raise CustomerMerged(record["id"], record["merged_into_id"])

    session, now = ctx.session, utcnow()
    moved: dict[str, int] = {}
    already_tagged = sa.select(CustomerTag.tag_id).where(CustomerTag.customer_id == survivor_id)
    session.execute(sa.delete(CustomerTag).where(CustomerTag.customer_id == duplicate_id,
                                                 CustomerTag.tag_id.in_(already_tagged)))
    for name, model in (("contacts", Contact), ("addresses", Address),
                        ("interactions", Interaction), ("tags", CustomerTag)):
        moved[name] = session.execute(
            sa.update(model).where(model.customer_id == duplicate_id).values(
                customer_id=survivor_id, version=model.version + 1, updated_at=now)).rowcount
    moved["purchases"] = session.execute(
        sa.update(Purchase).where(Purchase.customer_id == duplicate_id)
        .values(customer_id=survivor_id, updated_at=now)).rowcount

    # The duplicate lets go of its e-mail before the survivor may take it: it is unique.
    session.execute(sa.update(Customer).where(Customer.id == duplicate_id).values(
        merged_into_id=survivor_id, active=False, email=None, default_shipping_address_id=None,
        default_billing_address_id=None, version=Customer.version + 1, updated_at=now))
    changes = _survivor_changes(survivor, duplicate)
    if changes:
        session.execute(sa.update(Customer).where(Customer.id == survivor_id).values(
            {**changes, "version": Customer.version + 1, "updated_at": now}))
    refresh_customers(ctx, {survivor_id, duplicate_id}, TierReason.MERGE)
    ensure_default_addresses(ctx, survivor_id)

    after = {customer_id: customers.get(customer_id) for customer_id in before}
    for customer_id in sorted(before):
        ctx.audit("crm.customer", customer_id, "merged", before[customer_id], after[customer_id])
    ctx.emit("crm.customer.merged", "crm.customer", survivor_id, {
        "survivor_id": survivor_id, "duplicate_id": duplicate_id, "moved": moved})
    return after[survivor_id]
