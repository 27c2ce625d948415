"""Orders from sales channels, and stock and shipments back to them (ORD-7).

A channel with a ``driver`` (an ``erp.sales_channels`` driver, loaded by name through the
kernel) is pulled with ``import_orders`` (``erp orders import``, and the job
``orders.import_channel_orders``) and may push orders to the kernel's
``POST /api/v1/hooks/{driver}/{code}`` (``erp_orders.channels_webhook``); both import
each ``ChannelOrder`` the same way, a pulled one in a transaction of its own:

- an order whose ``external_reference`` the channel already has is left alone (counted
  as existing): importing twice, retrying, or importing concurrently gives one order; a
  concurrent import that placed it first makes the loser's insert fail on the unique
  ``(channel_id, external_reference)`` constraint, and the order is looked up again;
- the customer is the one linked to the channel's customer id (a CRM note on the
  customer, see ``link_summary``), else the CRM customer with the same e-mail (then
  linked), else a new customer with the shipping address as its default address;
- lines are matched to products by SKU at the channel's prices; an unknown SKU fails
  that order only, with a message naming the SKU, and nothing of it is written (its new
  customer included);
- with the channel option ``auto_confirm`` a newly placed order is then confirmed in a
  second transaction; a confirmation refused (stock short, vetoed) leaves the order in
  draft and is reported as unconfirmed, not as a failure.

Pulling keeps the channel's ``import_cursor``: it advances only after every order of a
page is committed, and only from the value this import started the page with (compare
and set), so two imports running at once never move it backwards. A page with a failed
order holds the cursor before that page (later pages are still imported), so the failed
order is retried on every run until it imports, e.g. once its product exists; the
channel option ``skip_failed_orders`` moves past failures instead (they are reported and
logged, and left to the channel to send again).

Channel options are ERP-side keys of the channel's ``settings``, taken out before the
driver sees the rest: ``auto_confirm``, ``skip_failed_orders``, ``push_stock_on_change``
(booleans) and ``default_carrier`` (text, for shipment notices without a carrier).

Nothing here talks to a channel inside a database transaction: reads are short
transactions of their own, and pushes after a commit run from ``erp_on_commit``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa

from erp_crm.customers import Customer
from erp_crm.interactions import Interaction, InteractionKind
from erp_crm.services import log_interaction
from erp_inventory.catalogue import Product
from erp_inventory.ledger import StockLevel
from erp_orders.channel import Channel
from erp_orders.order import ADDRESS_FIELDS, Order, OrderLine
from erp_orders.placing import LineRequest, OrderRequest, place_order
from erp_sdk import (
    ConflictError,
    Context,
    DomainEvent,
    ErpError,
    Kernel,
    NotFoundError,
    Principal,
    ValidationError,
    hookimpl,
    utcnow,
)
from erp_sdk.drivers import (
    Address,
    ChannelCustomer,
    ChannelOrder,
    SalesChannel,
    ShipmentNotice,
)
from erp_sdk.drivers import StockLevel as ChannelStockLevel

log = logging.getLogger("erp.orders.channels")

ORDER = "orders.order"
MAX_PAGES = 1000
"""Pages one ``import_orders`` call pulls at most; the next call resumes after them."""
PLACE_ATTEMPTS = 3
LINK_OUTCOME = "channel customer"
STOCK_EVENTS = ("orders.order.confirmed", "orders.order.cancelled")
SHIPMENT_EVENT = "orders.order.shipment_sent"
DEFAULT_CARRIER = "own delivery"


@attrs.frozen
class ChannelOptions:
    """What the ERP does with a channel's orders (see the module docstring)."""

    auto_confirm: bool = False
    skip_failed_orders: bool = False
    push_stock_on_change: bool = False
    default_carrier: str = DEFAULT_CARRIER

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in attrs.fields(cls))


@attrs.frozen
class ChannelAccount:
    """A channel as the import needs it, read in a short transaction."""

    id: int
    code: str
    driver: str | None
    driver_settings: Mapping[str, Any]
    secrets: Mapping[str, Any] = attrs.field(repr=False)
    warehouse_id: int | None
    import_cursor: str | None
    active: bool
    options: ChannelOptions


@attrs.frozen
class ImportFailure:
    """An order that was not imported (or not confirmed): which, where, and why."""

    external_reference: str
    reason: str
    field: str = ""


@attrs.frozen
class ImportResult:
    """What one import did. ``ok`` is false when an order failed or fetching stopped."""

    channel: str
    created: tuple[int, ...] = ()
    existing: int = 0
    failed: tuple[ImportFailure, ...] = ()
    unconfirmed: tuple[ImportFailure, ...] = ()
    pages: int = 0
    cursor: str | None = None
    error: str | None = None
    superseded: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and self.error is None

    def summary(self) -> str:
        text = (f"{self.channel}: {len(self.created)} created, {self.existing} already"
                f" imported, {len(self.failed)} failed")
        if self.unconfirmed:
            text += f", {len(self.unconfirmed)} left in draft"
        if self.pages:
            text += f" ({self.pages} page{'s' if self.pages != 1 else ''}, cursor"
            text += f" {self.cursor})" if self.cursor is not None else " none)"
        return text


@attrs.define
class _Tally:
    created: list[int] = attrs.Factory(list)
    existing: int = 0
    failed: list[ImportFailure] = attrs.Factory(list)
    unconfirmed: list[ImportFailure] = attrs.Factory(list)

    def result(self, channel: str, **extra: Any) -> ImportResult:
        return ImportResult(channel, tuple(self.created), self.existing, tuple(self.failed),
                            tuple(self.unconfirmed), **extra)


class ImportRefused(ValidationError):
    """One channel order cannot become an order as it is (unknown SKU, no line)."""


def _flag(settings: Mapping[str, Any], name: str) -> bool:
    value = settings.get(name, False)
    if isinstance(value, str) and value.strip().lower() in {"true", "false", "1", "0"}:
        return value.strip().lower() in {"true", "1"}
    if not isinstance(value, bool):
        raise ValidationError(f"channel setting {name} must be true or false, not {value!r}",
                              {f"settings.{name}": "must be a boolean"})
    return value


def _options(settings: Mapping[str, Any]) -> ChannelOptions:
    carrier = settings.get("default_carrier", DEFAULT_CARRIER)
    if not isinstance(carrier, str) or not carrier.strip():
        raise ValidationError("channel setting default_carrier must be non-empty text",
                              {"settings.default_carrier": "must be text"})
    return ChannelOptions(auto_confirm=_flag(settings, "auto_confirm"),
                          skip_failed_orders=_flag(settings, "skip_failed_orders"),
                          push_stock_on_change=_flag(settings, "push_stock_on_change"),
                          default_carrier=carrier.strip())


def account_of(channel: Channel | sa.Row[Any]) -> ChannelAccount:
    """A channel's account from its model object or a row of its table."""
    settings = dict(channel.settings or {})
    options = _options(settings)
    return ChannelAccount(
        id=channel.id, code=channel.code, driver=channel.driver,
        driver_settings={k: v for k, v in settings.items() if k not in ChannelOptions.names()},
        secrets=dict(channel.secrets or {}), warehouse_id=channel.warehouse_id,
        import_cursor=channel.import_cursor, active=channel.active, options=options)


def load_channel(kernel: Kernel, channel: int | str) -> ChannelAccount:
    """The channel with this id or code; ``NotFoundError`` when there is none."""
    with kernel.transaction() as session:
        column = Channel.id if isinstance(channel, int) else Channel.code
        row = session.scalar(sa.select(Channel).where(column == channel))
        if row is None:
            raise NotFoundError(f"there is no sales channel {channel!r}")
        return account_of(row)


def open_driver(kernel: Kernel, account: ChannelAccount) -> SalesChannel:
    """The channel's ``SalesChannel`` driver, built from its settings and secrets."""
    if account.driver is None:
        raise ValidationError(f"channel {account.code} has no driver: its orders are entered"
                              " by hand; set the channel's driver (e.g. webstore), settings"
                              " and secrets to connect it", {"driver": "required"})
    return kernel.drivers.load("sales_channel", account.driver,
                               settings=dict(account.driver_settings),
                               secrets=dict(account.secrets))


def _importing_channel(kernel: Kernel, channel: int | str) -> ChannelAccount:
    account = load_channel(kernel, channel)
    if not account.active:
        raise ValidationError(f"channel {account.code} is not active",
                              {"active": "must be true to import"})
    if account.warehouse_id is None:
        raise ValidationError(f"channel {account.code} has no warehouse; set its"
                              " warehouse_id: its orders ship from there and its stock"
                              " levels are that warehouse's",
                              {"warehouse_id": "required"})
    return account


def _acting(principal: Principal | None, permission: str, job: str) -> Principal:
    """Who a channel job acts as: once ``principal`` may start it, the system does the
    work on its behalf (an import creates customers, which a clerk may not do by hand)."""
    if principal is None:
        return Principal.system(job)
    principal.require(permission)
    return Principal.system(f"{job} for {principal.name}")


# -- customers --------------------------------------------------------------------------


def link_summary(channel_code: str, external_id: str) -> str:
    """The text of the CRM note that links a channel's customer id to a CRM customer."""
    return f"Customer {external_id} in sales channel {channel_code}"


def _survivor(ctx: Context, customer_id: int) -> int:
    """The customer that stays, following merges."""
    for _ in range(20):
        merged_into = ctx.session.scalar(sa.select(Customer.merged_into_id).where(
            Customer.id == customer_id))
        if merged_into is None:
            return customer_id
        customer_id = merged_into
    return customer_id


def _address(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {field: (getattr(address, field) or None) for field in ADDRESS_FIELDS}


def match_customer(ctx: Context, account: ChannelAccount, customer: ChannelCustomer,
                   shipping: Address) -> int:
    """The CRM customer of a channel customer: linked, else by e-mail, else new."""
    summary = link_summary(account.code, customer.external_id)
    linked = ctx.session.scalar(sa.select(Interaction.customer_id).where(
        Interaction.kind == InteractionKind.NOTE, Interaction.channel == account.code,
        Interaction.outcome == LINK_OUTCOME, Interaction.summary == summary)
        .order_by(Interaction.id).limit(1))
    if linked is not None:
        return _survivor(ctx, linked)
    customer_id = None
    if customer.email:
        found = ctx.session.scalar(sa.select(Customer.id).where(
            Customer.email_key == customer.email.lower()))
        customer_id = None if found is None else _survivor(ctx, found)
    if customer_id is None:
        customer_id = ctx.records("crm.customer").create({
            "name": customer.name or shipping.name, "kind": "person",
            "email": customer.email or None, "phone": customer.phone or None})["id"]
        ctx.records("crm.address").create({
            "customer_id": customer_id, "label": account.code, "recipient": shipping.name,
            "line1": shipping.line1, "line2": shipping.line2 or None, "city": shipping.city,
            "postal_code": shipping.postal_code or None, "region": shipping.region or None,
            "country": shipping.country})
    log_interaction(ctx, customer_id, {"kind": InteractionKind.NOTE, "channel": account.code,
                                       "outcome": LINK_OUTCOME, "summary": summary})
    return customer_id


# -- one order --------------------------------------------------------------------------


def _existing_order(ctx: Context, account: ChannelAccount, reference: str) -> int | None:
    return ctx.session.scalar(sa.select(Order.id).where(
        Order.channel_id == account.id, Order.external_reference == reference))


def _lines(ctx: Context, order: ChannelOrder) -> list[LineRequest]:
    if not order.lines:
        raise ImportRefused(f"order {order.external_reference} has no lines", {"lines": "empty"})
    products = dict(ctx.session.execute(sa.select(Product.sku, Product.id).where(
        Product.sku.in_({line.sku for line in order.lines}))).all())
    for number, line in enumerate(order.lines):
        if line.sku not in products:
            raise ImportRefused(
                f"order {order.external_reference}: line {number + 1} has the unknown SKU"
                f" {line.sku!r}; create the product or correct the SKU in the channel",
                {f"lines[{number}].sku": f"unknown SKU {line.sku!r}"})
    return [LineRequest(products[line.sku], line.quantity, line.unit_price, line.discount,
                        line.tax_rate) for line in order.lines]


def place_channel_order(ctx: Context, account: ChannelAccount,
                        order: ChannelOrder) -> tuple[int, bool]:
    """Place one channel order in ``ctx``'s transaction; ``(order id, created)``."""
    existing = _existing_order(ctx, account, order.external_reference)
    if existing is not None:
        return existing, False
    lines = _lines(ctx, order)
    customer_id = match_customer(ctx, account, order.customer, order.shipping_address)
    order_id, created = place_order(ctx, OrderRequest(
        channel_id=account.id, customer_id=customer_id, lines=lines,
        external_reference=order.external_reference, warehouse_id=account.warehouse_id,
        currency=order.currency, shipping_address=_address(order.shipping_address),
        billing_address=_address(order.billing_address),
        shipping_amount=order.shipping_amount, notes=order.notes or None))
    if created:  # the order was placed when the customer ordered, not when it arrived
        ctx.session.execute(sa.update(Order).where(Order.id == order_id).values(
            placed_at=order.placed_at))
    return order_id, created


def _failure(order: ChannelOrder, error: ErpError) -> ImportFailure:
    field = next(iter(error.errors), "") if isinstance(error, ValidationError) and \
        error.errors else ""
    return ImportFailure(order.external_reference, error.message, field)


def import_one(kernel: Kernel, account: ChannelAccount, order: ChannelOrder,
               principal: Principal, tally: _Tally) -> None:
    """Import one order in a transaction of its own (then confirm it in another), each
    run again after a transient conflict (``Kernel.run``)."""
    for attempt in range(1, PLACE_ATTEMPTS + 1):
        try:
            order_id, created = kernel.run(
                lambda ctx: place_channel_order(ctx, account, order), principal)
            break
        except (ConflictError, sa.exc.IntegrityError) as exc:
            # A concurrent import placed this order (or created its customer) first;
            # the next attempt finds it.
            log.debug("channel %s: order %s clashed with a concurrent import (attempt %d)",
                      account.code, order.external_reference, attempt)
            if attempt == PLACE_ATTEMPTS:
                message = exc.message if isinstance(exc, ErpError) else str(exc.orig)
                tally.failed.append(ImportFailure(order.external_reference, message))
                log.warning("channel %s: order %s failed: %s", account.code,
                            order.external_reference, message)
                return
        except ErpError as exc:
            tally.failed.append(_failure(order, exc))
            log.warning("channel %s: order %s failed: %s", account.code,
                        order.external_reference, exc.message)
            return
    if not created:
        tally.existing += 1
        return
    tally.created.append(order_id)
    if account.options.auto_confirm:
        try:
            kernel.run(lambda ctx: ctx.fire(ORDER, order_id, "confirm"), principal)
        except ErpError as exc:
            tally.unconfirmed.append(ImportFailure(order.external_reference, exc.message))


def import_channel_orders(kernel: Kernel, account: ChannelAccount,
                          orders: Iterable[ChannelOrder], principal: Principal,
                          tally: _Tally | None = None) -> _Tally:
    """Import orders one by one; a failed order never stops the others."""
    tally = tally if tally is not None else _Tally()
    for order in orders:
        import_one(kernel, account, order, principal, tally)
    return tally


# -- pulling ----------------------------------------------------------------------------


def _advance_cursor(kernel: Kernel, channel_id: int, expected: str | None,
                    new: str | None) -> bool:
    """Move the stored cursor from ``expected`` to ``new``; false when another import
    moved it elsewhere meanwhile."""
    with kernel.transaction() as session:
        where = Channel.import_cursor.is_(None) if expected is None \
            else Channel.import_cursor == expected
        moved = session.execute(sa.update(Channel).where(Channel.id == channel_id, where)
                                .values(import_cursor=new, updated_at=utcnow()))
        if moved.rowcount == 1:
            return True
        current = session.scalar(sa.select(Channel.import_cursor).where(
            Channel.id == channel_id))
        return current == new


def import_orders(kernel: Kernel, channel: int | str, *, principal: Principal | None = None,
                  max_pages: int = MAX_PAGES) -> ImportResult:
    """Pull the channel's new orders page by page from its stored cursor and import them.

    Raises for a channel that cannot import (unknown, inactive, no driver or warehouse,
    a driver refusing its configuration); a channel failing while answering ends the
    import with ``error`` set, keeping every page imported before.
    """
    account = _importing_channel(kernel, channel)
    principal = _acting(principal, "orders.order.create", f"import from channel {account.code}")
    driver = open_driver(kernel, account)
    tally = _Tally()
    stored = cursor = account.import_cursor
    holding = False
    pages = 0
    error = None
    superseded = False
    while pages < max_pages:
        try:
            batch = driver.fetch_orders(cursor)
        except ErpError as exc:
            error = exc.message
            log.error("channel %s: fetching orders after cursor %r failed: %s",
                      account.code, cursor, exc.message)
            break
        pages += 1
        failures = len(tally.failed)
        import_channel_orders(kernel, account, batch.orders, principal, tally)
        if len(tally.failed) > failures and not account.options.skip_failed_orders:
            holding = True
        next_cursor = batch.next_cursor
        if not holding and next_cursor != stored:
            if not _advance_cursor(kernel, account.id, stored, next_cursor):
                superseded = True  # another import is ahead of this one: it goes on
                break
            stored = next_cursor
        if not batch.orders or next_cursor is None or next_cursor == cursor:
            break
        cursor = next_cursor
    return tally.result(account.code, pages=pages, cursor=stored, error=error,
                        superseded=superseded)


# -- pushing back -----------------------------------------------------------------------


def stock_levels(ctx: Context, warehouse_id: int,
                 product_ids: Sequence[int] | None = None) -> list[ChannelStockLevel]:
    """Available quantity per SKU of the listed, active products in a warehouse (zero for
    a product without stock there)."""
    statement = (
        sa.select(Product.sku, sa.func.coalesce(StockLevel.available, 0))
        .outerjoin(StockLevel, sa.and_(StockLevel.product_id == Product.id,
                                       StockLevel.warehouse_id == warehouse_id))
        .where(Product.listed.is_(True), Product.active.is_(True)).order_by(Product.sku))
    if product_ids is not None:
        statement = statement.where(Product.id.in_(product_ids))
    return [ChannelStockLevel(sku, Decimal(str(available)))
            for sku, available in ctx.session.execute(statement)]


def push_stock(kernel: Kernel, channel: int | str, *, principal: Principal | None = None,
               product_ids: Sequence[int] | None = None) -> int:
    """Send the channel the available quantities of its warehouse (of every listed
    product, or of ``product_ids``); returns how many levels were sent."""
    account = _importing_channel(kernel, channel)
    principal = _acting(principal, "inventory.stock_level.read",
                        f"stock push to channel {account.code}")
    with kernel.context(principal) as ctx:
        levels = stock_levels(ctx, account.warehouse_id, product_ids)  # type: ignore[arg-type]
    if levels:
        open_driver(kernel, account).push_stock(levels)
    return len(levels)


def push_shipment(kernel: Kernel, order_id: int, *, carrier: str | None = None,
                  tracking_number: str | None = None) -> bool:
    """Tell the order's channel that it shipped; false when there is nobody to tell (an
    order entered by hand, or a channel without a driver)."""
    with kernel.transaction() as session:
        row = session.execute(sa.select(Order.external_reference, Order.number, Channel)
                              .join(Channel, Channel.id == Order.channel_id)
                              .where(Order.id == order_id)).first()
        if row is None:
            raise NotFoundError(f"orders.order {order_id} does not exist")
        reference, number, channel = row
        account = account_of(channel)
    if reference is None or account.driver is None or not account.active:
        return False
    notice = ShipmentNotice(reference, carrier or account.options.default_carrier,
                            tracking_number or number, utcnow())
    open_driver(kernel, account).push_shipment(notice)
    return True


def _changed_stock(kernel: Kernel, events: Sequence[DomainEvent]) -> dict[int, set[int]]:
    """Products whose availability changed, per warehouse."""
    changed: dict[int, set[int]] = {}
    orders: dict[int, int] = {}
    for event in events:
        if event.name in STOCK_EVENTS and event.record_id is not None:
            orders[event.record_id] = event.payload["record"]["warehouse_id"]
        elif event.name.startswith("inventory.stock.") and "product_id" in event.payload:
            changed.setdefault(event.payload["warehouse_id"], set()).add(
                event.payload["product_id"])
    if orders:
        with kernel.transaction() as session:
            for order_id, product_id in session.execute(
                    sa.select(OrderLine.order_id, OrderLine.product_id)
                    .where(OrderLine.order_id.in_(orders))):
                changed.setdefault(orders[order_id], set()).add(product_id)
    return changed


_PUSHING_CHANNELS = sa.select(Channel.__table__).where(
    Channel.active.is_(True), Channel.driver.is_not(None), Channel.warehouse_id.is_not(None))


def _channels_pushing_on_change(kernel: Kernel) -> tuple[tuple[int, int], ...]:
    """``(channel id, warehouse id)`` of the channels that push stock levels when they
    change: read after every stock change, so kept by the process until a channel is
    written (see ``Context.cached``)."""

    def load() -> tuple[tuple[int, int], ...]:
        with kernel.reading() as connection:
            accounts = [account_of(row) for row in connection.execute(_PUSHING_CHANNELS)]
        return tuple((a.id, a.warehouse_id) for a in accounts  # type: ignore[misc]
                     if a.options.push_stock_on_change)

    return kernel.committed.get("orders.channels_pushing_on_change",
                                [Channel.__tablename__], load)


def _push_changed_stock(kernel: Kernel, events: Sequence[DomainEvent]) -> None:
    listening = _channels_pushing_on_change(kernel)
    if not listening:
        return
    changed = _changed_stock(kernel, events)
    for channel_id, warehouse_id in listening:
        products = changed.get(warehouse_id)
        if products:
            push_stock(kernel, channel_id, product_ids=sorted(products))


@hookimpl(specname="erp_on_commit")
def push_to_channels_after_commit(kernel: Kernel, events: Sequence[DomainEvent]) -> None:
    """After a commit: shipment notices for shipped channel orders, and new stock levels
    to the channels that push them on change. A channel that fails is logged; the commit
    it follows stands."""
    for event in events:
        if event.name != SHIPMENT_EVENT or event.record_id is None \
                or not (event.payload.get("record") or {}).get("external_reference"):
            continue
        data = event.payload.get("data") or {}
        try:
            push_shipment(kernel, event.record_id,
                          carrier=str(data.get("carrier") or "") or None,
                          tracking_number=str(data.get("tracking_number") or "") or None)
        except Exception:
            log.exception("pushing the shipment of order %s to its channel failed",
                          event.record_id)
    if any(event.name in STOCK_EVENTS or event.name.startswith("inventory.stock.")
           for event in events):
        try:
            _push_changed_stock(kernel, events)
        except Exception:
            log.exception("pushing changed stock levels to channels failed")
