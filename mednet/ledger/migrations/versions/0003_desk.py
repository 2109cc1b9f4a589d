"""The desk's day: coded reasons on events, service-level clocks and re-referral links on referrals, regional
service levels, the clinical summary, attachments and the record of their reads; on PostgreSQL, a notification
on every new event (the worklists' live updates).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)
#: The channel every new event is announced on (service/live.py listens to it).
CHANNEL = "mednet_events"


def upgrade() -> None:
    # plain ALTER TABLE … ADD COLUMN on both engines: no copy of the table (SQLite takes the reference inline)
    op.add_column("referrals", sa.Column("state_since", Stamp))
    op.add_column("referrals", sa.Column("due_at", Stamp))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE referrals ADD COLUMN replaces_id INTEGER "
                   "CONSTRAINT fk_referrals_replaces_id REFERENCES referrals (id)")
    else:
        op.add_column("referrals", sa.Column("replaces_id", sa.Integer))
        op.create_foreign_key("fk_referrals_replaces_id", "referrals", "referrals", ["replaces_id"], ["id"])
    op.create_index("ix_referrals_due_at", "referrals", ["due_at"])
    op.create_index("ix_referrals_region_patient", "referrals", ["region", "patient_ref"])
    op.execute("UPDATE referrals SET state_since = updated_at")
    op.add_column("events", sa.Column("reason_code", sa.String(32)))
    op.create_index("ix_events_actor_action", "events", ["actor_institution", "action"])
    op.create_table(
        "service_levels",
        sa.Column("region", sa.String(120), primary_key=True),
        sa.Column("priority", sa.String(16), primary_key=True),
        sa.Column("measure", sa.String(16), primary_key=True),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_table(
        "summaries",
        sa.Column("referral_id", sa.Integer, sa.ForeignKey("referrals.id"), primary_key=True),
        sa.Column("diagnosis_code", sa.String(16)),
        sa.Column("diagnosis_text", sa.Text),
        sa.Column("history", sa.Text),
        sa.Column("findings", sa.Text),
        sa.Column("treatment", sa.Text),
        sa.Column("purpose", sa.Text),
        sa.Column("actor_key", sa.String(32), nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("referral_id", sa.Integer, sa.ForeignKey("referrals.id"), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("actor_key", sa.String(32), nullable=False),
        sa.Column("actor_institution", sa.String(120)),
        sa.Column("at", Stamp, nullable=False),
    )
    op.create_table(
        "reads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", Stamp, nullable=False, index=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("institution", sa.String(120)),
        sa.Column("referral_id", sa.Integer, sa.ForeignKey("referrals.id"), nullable=False, index=True),
        sa.Column("what", sa.String(64), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION mednet_announce_event() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{CHANNEL}', NEW.id::text);
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER mednet_event_announced AFTER INSERT ON events FOR EACH ROW "
                   "EXECUTE FUNCTION mednet_announce_event()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS mednet_event_announced ON events")
        op.execute("DROP FUNCTION IF EXISTS mednet_announce_event()")
    for table in ("reads", "attachments", "summaries", "service_levels"):
        op.drop_table(table)
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_actor_action")
        batch.drop_column("reason_code")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_index("ix_referrals_region_patient")
        batch.drop_index("ix_referrals_due_at")
        batch.drop_constraint("fk_referrals_replaces_id", type_="foreignkey")
        batch.drop_column("replaces_id")
        batch.drop_column("due_at")
        batch.drop_column("state_since")
