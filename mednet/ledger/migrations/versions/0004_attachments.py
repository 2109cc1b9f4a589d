"""Attachments: the same file (by its SHA-256) is stored once per referral.

Revision ID: 0004_attachments
Revises: 0003
Create Date: 2026-12-07
"""

from alembic import op

revision = "0004_attachments"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a unique index, not a constraint: made in place on both engines (SQLite would copy the table for one)
    op.create_index("uq_attachments_referral_sha256", "attachments", ["referral_id", "sha256"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_attachments_referral_sha256", table_name="attachments")
