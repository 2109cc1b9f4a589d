"""Desk sessions (the page's cookie holds a session id, not the key) and one down-referral in force per parent.

A database made before this revision may already hold a referral sent home
twice (the rule was checked only by the application); the unique index
cannot be built over such rows, so the upgrade stops and names them: cancel
all but one of each (``POST /referrals/NUMBER/cancel``), then upgrade again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from mednet.errors import LedgerUnavailable

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)
#: A down-referral in force: not rejected, cancelled or expired (as in the ledger's ``store.ONE_DOWN_REFERRAL``).
IN_FORCE = "direction = 'down' AND state NOT IN ('cancelled', 'expired', 'rejected')"


def upgrade() -> None:
    op.create_table(
        "desk_sessions",
        sa.Column("id_sha256", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), sa.ForeignKey("api_keys.id"), nullable=False, index=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("last_used_at", Stamp, nullable=False),
    )
    twice = op.get_bind().execute(sa.text(
        "SELECT p.number, d.number FROM referrals d JOIN referrals p ON p.id = d.parent_id "
        "WHERE d.direction = 'down' AND d.state NOT IN ('cancelled', 'expired', 'rejected') AND d.parent_id IN "
        f"(SELECT parent_id FROM referrals WHERE {IN_FORCE} GROUP BY parent_id HAVING COUNT(*) > 1) "
        "ORDER BY p.number, d.number")).all()
    if twice:
        found: dict[str, list[str]] = {}
        for parent, child in twice:
            found.setdefault(parent, []).append(child)
        listed = "; ".join(f"{parent} → {', '.join(children)}" for parent, children in found.items())
        raise LedgerUnavailable(f"cannot upgrade the ledger: referrals sent home more than once, these "
                                f"down-referrals in force: {listed}. Cancel all but one of each (POST "
                                "/referrals/NUMBER/cancel), then upgrade again.")
    op.create_index("uq_referrals_one_down_referral", "referrals", ["parent_id"], unique=True,
                    sqlite_where=sa.text(IN_FORCE), postgresql_where=sa.text(IN_FORCE))


def downgrade() -> None:
    op.drop_index("uq_referrals_one_down_referral", "referrals")
    op.drop_table("desk_sessions")
