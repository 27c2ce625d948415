"""Wiring of the finance plugin: manifest, entities, permissions, routes, commands, jobs."""

from __future__ import annotations

from erp_sdk import Entity, PluginManifest, hookimpl

# Each hook imports what it wires when it is called: reading the manifest (`erp plugins
# list`) loads no model, route or command of the plugin.

manifest = PluginManifest(
    name="finance",
    depends=("orders", "inventory", "crm"),
    requires_kernel=">=0.1,<1",
    description="Double-entry books: chart, journals, invoices, taxes, cost of goods sold,"
                " payments, statements",
    # the subscribers that post other plugins' documents
    modules=("postings", "purchases"),
)

READ_ONLY = {"list", "get"}


@hookimpl
def erp_register_entities():
    from erp_finance.accounts import Account, Books
    from erp_finance.invoices import Invoice, InvoiceLine, InvoicePolicy
    from erp_finance.journals import Journal
    from erp_finance.ledger import Entry, EntryLine
    from erp_finance.payables import Payable, PayablePayment
    from erp_finance.payments import Payment, PaymentMatch
    from erp_finance.payouts import ProviderPayout, ProviderPayoutLine
    from erp_finance.periods import FiscalYear, Period
    from erp_finance.providers import PaymentAccount, PaymentAuthorization
    from erp_finance.taxes import TaxRule

    return [
        Entity("account", Account, filterable=["code", "type", "kind", "parent_id", "active"],
               sortable=["code"], operations={"list", "get", "create", "update"},
               description="The chart of accounts (a tree by parent_id)."),
        Entity("books", Books, collection="books", operations=READ_ONLY,
               description="The company's books: functional currency, tax rounding, lock"
                           " date (set through /finance/setup and /finance/lock-date)."),
        Entity("journal", Journal, filterable=["code", "kind"], operations=READ_ONLY),
        Entity("fiscal_year", FiscalYear, filterable=["name", "state"], operations=READ_ONLY),
        Entity("period", Period, filterable=["fiscal_year_id", "state", "start_date"],
               sortable=["start_date"], operations=READ_ONLY),
        Entity("entry", Entry, collection="entries", operations=READ_ONLY,
               filterable=["journal_id", "fiscal_year_id", "period_id", "date", "origin",
                           "name"], sortable=["date", "number"],
               description="Posted journal entries: balanced, numbered without gaps, hash"
                           " chained, never changed."),
        Entity("entry_line", EntryLine, operations=READ_ONLY,
               filterable=["entry_id", "account_id", "date", "partner_id", "channel_id",
                           "warehouse_id", "order_id", "product_id"], sortable=["date"]),
        Entity("invoice", Invoice, operations=READ_ONLY,
               filterable=["number", "kind", "state", "customer_id", "order_id", "date",
                           "due_date"], sortable=["date", "due_date"],
               description="Customer invoices and credit notes, posted by orders and returns."),
        Entity("invoice_line", InvoiceLine, operations=READ_ONLY,
               filterable=["invoice_id", "order_line_id", "product_id"]),
        Entity("invoice_policy", InvoicePolicy, filterable=["channel_id"],
               collection="invoice_policies",
               description="When a channel's orders are invoiced: on shipment (default) or"
                           " on confirmation."),
        Entity("tax_rule", TaxRule, filterable=["category_id", "country", "active"],
               description="Tax rates by product category and destination country."),
        Entity("payment", Payment, operations=READ_ONLY,
               filterable=["customer_id", "direction", "reference", "date", "provider"],
               sortable=["date"]),
        Entity("payable", Payable, operations=READ_ONLY,
               filterable=["creditor", "supplier_id", "number", "origin", "due_date",
                           "currency"], sortable=["date", "due_date"],
               description="What is owed to suppliers and carriers: their bills and"
                           " invoices' open amounts, paid through /finance/payables/{id}/pay."),
        Entity("payable_payment", PayablePayment, operations=READ_ONLY,
               filterable=["payable_id", "date"]),
        Entity("payment_account", PaymentAccount, write_only=["secrets"],
               filterable=["name", "driver", "active"],
               description="A payment provider account: its erp.payment_providers driver,"
                           " settings and secrets (never returned)."),
        Entity("payment_authorization", PaymentAuthorization, operations=READ_ONLY,
               filterable=["account", "invoice_id", "status"]),
        Entity("payout", ProviderPayout, operations=READ_ONLY,
               filterable=["account", "payout_id", "arrival_date", "currency", "source"],
               sortable=["arrival_date"],
               description="Imported payouts of payment providers and marketplaces: sales,"
                           " refunds, fees, reserves and what stayed unmatched."),
        Entity("payout_line", ProviderPayoutLine, operations=READ_ONLY,
               filterable=["payout_id", "kind", "invoice_id", "payment_id"]),
        Entity("payment_match", PaymentMatch, collection="payment_matches",
               operations=READ_ONLY, filterable=["payment_id", "invoice_id"]),
    ]


@hookimpl
def erp_register_permissions():
    from erp_finance.permissions import DECLARATIONS

    return DECLARATIONS


@hookimpl
def erp_register_routes():
    from erp_finance import api  # the web framework only when routes are wanted

    return api.ROUTES


@hookimpl
def erp_register_cli_commands():
    from erp_finance import cli

    return cli.COMMANDS


@hookimpl
def erp_register_jobs():
    import datetime as dt

    from erp_sdk import Job

    def book_stock_moves(kernel):
        from erp_finance.accounts import Books
        from erp_finance.stock import book_pending_moves

        def work(ctx):
            import sqlalchemy as sa

            if ctx.session.scalar(sa.select(Books.id).limit(1)) is None:
                return 0
            return book_pending_moves(ctx.session)

        return f"booked {kernel.run(work)} stock moves"

    return [Job("book_stock_moves", book_stock_moves, every=dt.timedelta(minutes=5),
                description="Book stock moves no document booked (receipts, adjustments)")]


@hookimpl
def erp_register_webhook_receivers():
    from erp_finance.providers import PAYMENT_WEBHOOKS

    return [PAYMENT_WEBHOOKS]


@hookimpl
def erp_load_demo_data(session, kernel):
    from erp_finance.demo import load_demo_data

    load_demo_data(session, kernel)
