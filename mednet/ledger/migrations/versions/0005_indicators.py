"""Indicators: the monthly aggregates hospital and insurance systems report per institution; when a referral
was answered (accepted or rejected) and booked, kept on the referral as its events say (filled in from the
events for referrals already there); and the indexes the indicator queries read by (a region's referrals in
a period, a referral's down-referral children, the events of one action).

Revision ID: 0005_indicators
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_indicators"
down_revision = "0004_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monthly_aggregates",
        sa.Column("region", sa.String(120), primary_key=True),
        sa.Column("institution", sa.String(120), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("visits", sa.Integer),
        sa.Column("inpatients", sa.Integer),
        sa.Column("visits_outside", sa.Integer),
        sa.Column("inpatients_outside", sa.Integer),
        sa.Column("insurance", sa.Numeric(18, 2)),
        sa.Column("insurance_outside", sa.Numeric(18, 2)),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("referrals", sa.Column("answered_at", sa.DateTime(timezone=True)))
    op.add_column("referrals", sa.Column("booked_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE referrals SET answered_at = (SELECT min(e.at) FROM events e WHERE e.referral_id = referrals.id "
               "AND e.action IN ('accept', 'reject')), booked_at = (SELECT min(e.at) FROM events e "
               "WHERE e.referral_id = referrals.id AND e.action = 'book')")
    op.create_index("ix_referrals_region_created", "referrals", ["region", "created_at"])
    op.create_index("ix_referrals_parent", "referrals", ["parent_id"])
    op.create_index("ix_events_action_referral", "events", ["action", "referral_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_events_action_referral", table_name="events")
    op.drop_index("ix_referrals_parent", table_name="referrals")
    op.drop_index("ix_referrals_region_created", table_name="referrals")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("booked_at")
        batch.drop_column("answered_at")
    op.drop_table("monthly_aggregates")
