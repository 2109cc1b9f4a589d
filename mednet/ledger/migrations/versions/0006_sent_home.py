"""Indicators: the down-referrals' parents as an index of their own, so that the indicator counts find the
up-referrals sent home from the index alone (a partial index: down-referrals only), on both engines.

Revision ID: 0006_sent_home
Revises: 0005_indicators
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_sent_home"
down_revision = "0005_indicators"
branch_labels = None
depends_on = None

DOWN = "direction = 'down'"


def upgrade() -> None:
    op.create_index("ix_referrals_down_parent", "referrals", ["parent_id"], sqlite_where=sa.text(DOWN),
                    postgresql_where=sa.text(DOWN))


def downgrade() -> None:
    op.drop_index("ix_referrals_down_parent", table_name="referrals")
