"""The baseline of ``read_api.py``: the bare stack serving one row as JSON.

A Litestar app with one synchronous handler that reads a row of ``orders_order`` through
SQLAlchemy Core and returns it as JSON, with no authentication, permissions or product
code: what uvicorn, Litestar, SQLAlchemy and the database cost on their own. Served by
uvicorn's factory mode (``create_app``) from ``BARE_DATABASE_URL``, as ``erp serve``
serves the product, so both run under the same server and the same worker count.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from litestar import Litestar, get
from litestar.exceptions import NotFoundException


def create_app() -> Litestar:
    url = sa.make_url(os.environ["BARE_DATABASE_URL"])
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    pool = int(os.environ.get("BARE_POOL_SIZE", "10"))
    engine = sa.create_engine(url, pool_size=pool, max_overflow=0) \
        if url.get_backend_name() == "postgresql" else sa.create_engine(url)
    table = sa.Table("orders_order", sa.MetaData(), autoload_with=engine)
    statement = sa.select(table).where(table.c.id == sa.bindparam("id"))

    @get("/orders/{order_id:int}", sync_to_thread=True)
    def read_order(order_id: int) -> dict[str, Any]:
        with engine.connect() as connection:
            row = connection.execute(statement, {"id": order_id}).mappings().first()
        if row is None:
            raise NotFoundException()
        return {key: str(value) if isinstance(value, Decimal) else value
                for key, value in row.items()}

    return Litestar([read_order], on_shutdown=[engine.dispose])
