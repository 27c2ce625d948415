"""Alembic environment shared by every branch; the runner passes the connection and branch."""

from __future__ import annotations

from alembic import context

from erp_core.db.base import metadata

config = context.config
branch = config.attributes["branch"]
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=branch.version_table,
    include_object=branch.include_object,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    transaction_per_migration=False,
)

with context.begin_transaction():
    context.run_migrations()
