"""Demo data for ``erp demo``: saved reports over the demo's year of sales, shared with
every report viewer. A report whose metrics no enabled plugin defines is not saved."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from erp_sdk import Context, Kernel, Principal, registered_metrics

EXAMPLES: tuple[dict[str, Any], ...] = (
    {"name": "Net sales by month and channel", "chart": "line",
     "description": "Sales after discounts, before tax, month by month for each channel.",
     "definition": {"metrics": ["orders.net_sales"], "dimensions": ["channel"],
                    "time_grain": "month", "order_by": "period", "descending": False}},
    {"name": "Top 20 products", "chart": "bar",
     "description": "The products that sold the most over the year.",
     "definition": {"metrics": ["orders.net_sales", "orders.units"], "dimensions": ["product"],
                    "order_by": "orders.net_sales", "limit": 20}},
    {"name": "Sales by category", "chart": "pie",
     "definition": {"metrics": ["orders.net_sales"], "dimensions": ["category"],
                    "order_by": "orders.net_sales"}},
    {"name": "Average order value and returns by week", "chart": "line",
     "definition": {"metrics": ["orders.average_order_value", "orders.returns_rate"],
                    "time_grain": "week", "order_by": "period", "descending": False}},
    {"name": "Customers by tier", "chart": "pie",
     "definition": {"metrics": ["crm.customers"], "dimensions": ["customer_tier"]}},
)


def load_demo_data(session: Session, kernel: Kernel) -> None:
    known = registered_metrics(kernel)
    ctx = Context(kernel, session, Principal.system("demo"))
    for example in EXAMPLES:
        if all(name in known for name in example["definition"]["metrics"]):
            ctx.records("reports.saved_report").create(
                {**example, "shared_with": ["reports.viewer"]}, computed={"owner": "demo"})
