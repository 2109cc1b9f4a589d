"""The referral ledger: referrals, their events, API keys, slot claims, quotas, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("region", sa.String(120), nullable=False),
        sa.Column("origin_id", sa.String(120), nullable=False, index=True),
        sa.Column("origin_desk", sa.String(32), nullable=False),
        sa.Column("destination_id", sa.String(120), nullable=False, index=True),
        sa.Column("proposed_id", sa.String(120)),
        sa.Column("destination_why", sa.Text),
        sa.Column("specialty", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("patient_ref", sa.String(64), nullable=False),
        sa.Column("patient_sex", sa.String(8)),
        sa.Column("patient_birth_year", sa.Integer),
        sa.Column("routing", sa.JSON),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("referrals.id")),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("slot", sa.String(300)),
        sa.Column("created_at", Stamp, nullable=False, index=True),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("referral_id", sa.Integer, sa.ForeignKey("referrals.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor_key", sa.String(32), nullable=False),
        sa.Column("actor_institution", sa.String(120)),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("why", sa.Text),
        sa.Column("data", sa.JSON),
        sa.UniqueConstraint("referral_id", "seq", name="uq_events_referral_seq"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("region", sa.String(120)),
        sa.Column("institution", sa.String(120)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("revoked_at", Stamp),
    )
    op.create_table(
        "claims",
        sa.Column("referral_id", sa.Integer, sa.ForeignKey("referrals.id"), primary_key=True),
        sa.Column("slot", sa.String(300), nullable=False, index=True),
        sa.Column("exclusive_slot", sa.String(300), unique=True),
        sa.Column("held_until", Stamp),
        sa.Column("at", Stamp, nullable=False),
    )
    op.create_table(
        "quotas",
        sa.Column("region", sa.String(120), primary_key=True),
        sa.Column("institution", sa.String(120), primary_key=True),
        sa.Column("specialty", sa.String(64), primary_key=True),
        sa.Column("per_day", sa.Integer, sa.CheckConstraint("per_day >= 0", name="ck_quotas_per_day"),
                  nullable=False),
        sa.Column("release_days", sa.Integer, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_table(
        "quota_days",
        sa.Column("slot", sa.String(300), primary_key=True),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("used", sa.Integer, nullable=False),
        sa.CheckConstraint("used >= 0 AND used <= capacity", name="ck_quota_days_used"),
    )
    op.create_table(
        "idempotency",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("at", Stamp, nullable=False),
    )


def downgrade() -> None:
    for table in ("idempotency", "quota_days", "quotas", "claims", "api_keys", "events", "referrals"):
        op.drop_table(table)
