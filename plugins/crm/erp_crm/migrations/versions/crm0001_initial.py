"""CRM: customers, contacts, addresses, tags, interactions, purchases, behaviour
summaries, tier rules (with default tiers) and history, segments.

Revision ID: crm0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "crm0001"
down_revision = None
branch_labels = ("crm",)
depends_on = None


def _record_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
    ]


def _money() -> ExactNumeric:
    return ExactNumeric(18, 4)


def _default_address_fks() -> list[sa.ForeignKeyConstraint]:
    return [sa.ForeignKeyConstraint(
        [f"default_{kind}_address_id"], ["crm_address.id"], ondelete="SET NULL",
        name=op.f(f"fk_crm_customer_default_{kind}_address_id_crm_address"))
        for kind in ("shipping", "billing")]


def upgrade() -> None:
    # Customers and addresses refer to each other. SQLite cannot add a foreign key to an
    # existing table but accepts one to a table created later; PostgreSQL needs the
    # referenced table first, so there the keys are added once both tables exist.
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "crm_customer",
        *_record_columns(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("email_key", sa.String(254), sa.Computed("lower(email)", persisted=True),
                  nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tier", sa.String(40), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("default_shipping_address_id", sa.Integer(), nullable=True),
        sa.Column("default_billing_address_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_customer")),
        sa.UniqueConstraint("email_key", name=op.f("uq_crm_customer_email_key")),
        sa.ForeignKeyConstraint(["merged_into_id"], ["crm_customer.id"],
                                name=op.f("fk_crm_customer_merged_into_id_crm_customer")),
        *(_default_address_fks() if sqlite else []),
    )
    op.create_index(op.f("ix_crm_customer_tier"), "crm_customer", ["tier"])
    op.create_table(
        "crm_address",
        *_record_columns(),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(40), nullable=True),
        sa.Column("recipient", sa.String(200), nullable=True),
        sa.Column("line1", sa.String(200), nullable=False),
        sa.Column("line2", sa.String(200), nullable=True),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("postal_code", sa.String(20), nullable=True),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_address")),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_address_customer_id_crm_customer")),
    )
    op.create_index(op.f("ix_crm_address_customer_id"), "crm_address", ["customer_id"])
    if not sqlite:
        for fk in _default_address_fks():
            op.create_foreign_key(fk.name, "crm_customer", "crm_address",
                                  list(fk.column_keys), ["id"], ondelete="SET NULL")
    op.create_table(
        "crm_contact",
        *_record_columns(),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("job_title", sa.String(100), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contact")),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_contact_customer_id_crm_customer")),
    )
    op.create_index(op.f("ix_crm_contact_customer_id"), "crm_contact", ["customer_id"])
    op.create_table(
        "crm_tag",
        *_record_columns(),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("description", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tag")),
        sa.UniqueConstraint("name", name=op.f("uq_crm_tag_name")),
    )
    op.create_table(
        "crm_customer_tag",
        *_record_columns(),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_customer_tag")),
        sa.UniqueConstraint("customer_id", "tag_id",
                            name=op.f("uq_crm_customer_tag_customer_id_tag_id")),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_customer_tag_customer_id_crm_customer")),
        sa.ForeignKeyConstraint(["tag_id"], ["crm_tag.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_customer_tag_tag_id_crm_tag")),
    )
    op.create_index(op.f("ix_crm_customer_tag_customer_id"), "crm_customer_tag",
                    ["customer_id"])
    op.create_index(op.f("ix_crm_customer_tag_tag_id"), "crm_customer_tag", ["tag_id"])
    op.create_table(
        "crm_interaction",
        *_record_columns(),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(40), nullable=True),
        sa.Column("occurred_at", AwareDateTime(), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("outcome", sa.String(80), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_interaction")),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_interaction_customer_id_crm_customer")),
    )
    op.create_index("ix_crm_interaction_timeline", "crm_interaction",
                    ["customer_id", "occurred_at", "id"])
    op.create_table(
        "crm_purchase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(120), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("occurred_at", AwareDateTime(), nullable=False),
        sa.Column("cancelled_at", AwareDateTime(), nullable=True),
        sa.Column("recorded_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_purchase")),
        sa.UniqueConstraint("reference", name=op.f("uq_crm_purchase_reference")),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"],
                                name=op.f("fk_crm_purchase_customer_id_crm_customer")),
    )
    op.create_index(op.f("ix_crm_purchase_customer_id"), "crm_purchase", ["customer_id"])
    op.create_table(
        "crm_purchase_category",
        sa.Column("purchase_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("purchase_id", "category", name=op.f("pk_crm_purchase_category")),
        sa.ForeignKeyConstraint(["purchase_id"], ["crm_purchase.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_purchase_category_purchase_id_crm_purchase")),
    )
    op.create_table(
        "crm_behaviour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("purchase_count", sa.Integer(), nullable=False),
        sa.Column("total_spend", _money(), nullable=False),
        sa.Column("average_spend", _money(), nullable=False),
        sa.Column("first_purchase_at", AwareDateTime(), nullable=False),
        sa.Column("last_purchase_at", AwareDateTime(), nullable=False),
        sa.Column("favourite_categories", sa.JSON(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_behaviour")),
        sa.UniqueConstraint("customer_id", "currency",
                            name=op.f("uq_crm_behaviour_customer_id_currency")),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_behaviour_customer_id_crm_customer")),
    )
    tier_rule = op.create_table(
        "crm_tier_rule",
        *_record_columns(),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("max_recency_days", sa.Integer(), nullable=True),
        sa.Column("min_frequency", sa.Integer(), nullable=False),
        sa.Column("min_monetary", _money(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tier_rule")),
        sa.UniqueConstraint("name", name=op.f("uq_crm_tier_rule_name")),
        sa.UniqueConstraint("rank", name=op.f("uq_crm_tier_rule_rank")),
    )
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(tier_rule, [
        {"name": name, "rank": rank, "currency": "EUR", "max_recency_days": days,
         "min_frequency": purchases, "min_monetary": Decimal(amount), "version": 1,
         "created_at": now, "updated_at": now}
        for name, rank, days, purchases, amount in (
            ("gold", 30, 90, 5, "1000"), ("silver", 20, 180, 3, "300"),
            ("bronze", 10, 365, 1, "0"))])
    op.create_table(
        "crm_tier_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("old_tier", sa.String(40), nullable=True),
        sa.Column("new_tier", sa.String(40), nullable=True),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("changed_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tier_change")),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_tier_change_customer_id_crm_customer")),
    )
    op.create_index(op.f("ix_crm_tier_change_customer_id"), "crm_tier_change", ["customer_id"])
    op.create_table(
        "crm_segment",
        *_record_columns(),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("min_spend", _money(), nullable=True),
        sa.Column("max_spend", _money(), nullable=True),
        sa.Column("last_purchase_after", AwareDateTime(), nullable=True),
        sa.Column("last_purchase_before", AwareDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_segment")),
        sa.UniqueConstraint("name", name=op.f("uq_crm_segment_name")),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for fk in _default_address_fks():
            op.drop_constraint(fk.name, "crm_customer", type_="foreignkey")
    for table in ("crm_segment", "crm_tier_change", "crm_tier_rule", "crm_behaviour",
                  "crm_purchase_category", "crm_purchase", "crm_interaction",
                  "crm_customer_tag", "crm_tag", "crm_contact", "crm_address", "crm_customer"):
        op.drop_table(table)
