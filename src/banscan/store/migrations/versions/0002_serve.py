"""Service tables: API tokens, an append-only audit log, osquery nodes, their rows and log batches.

Revision ID: 0002_serve
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_serve"
down_revision = "0001"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.String(40), nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text, nullable=True),
        sa.Column("old", sa.Text, nullable=True),
        sa.Column("new", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_log_target", "audit_log", ["target"])
    op.create_table(
        "osquery_nodes",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("node_key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("asset", sa.String(512), nullable=False),
        sa.Column("host_identifier", sa.Text, nullable=False),
        sa.Column("platform", sa.String(64), nullable=True),
        sa.Column("host_details", sa.Text, nullable=False),
        sa.Column("enrolled_at", sa.String(40), nullable=False),
        sa.Column("last_seen_at", sa.String(40), nullable=True),
        sa.Column("dirty", sa.Integer, nullable=False),
        sa.Column("scan_requested", sa.Integer, nullable=False),
    )
    op.create_index("ix_osquery_nodes_asset", "osquery_nodes", ["asset"])
    op.create_table(
        "osquery_rows",
        sa.Column("node_id", PK, sa.ForeignKey("osquery_nodes.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("query", sa.String(200), primary_key=True),
        sa.Column("row_hash", sa.String(64), primary_key=True),
        sa.Column("row", sa.Text, nullable=False),
    )
    op.create_table(
        "osquery_batches",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("node_id", PK, sa.ForeignKey("osquery_nodes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
        sa.Column("log_type", sa.String(16), nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("rows_added", sa.Integer, nullable=False),
        sa.Column("rows_removed", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_osquery_batches_node_id", "osquery_batches", ["node_id"])
    # the audit log is never edited: refuse UPDATE and DELETE in the database itself
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    else:
        op.execute("CREATE FUNCTION banscan_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$")
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION banscan_audit_log_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS banscan_audit_log_append_only()")
    for t in ("osquery_batches", "osquery_rows", "osquery_nodes", "audit_log", "api_tokens"):
        op.drop_table(t)
