"""osquery log inbox: a log batch is acknowledged once its raw body is committed here; a worker
then applies it to the node's rows in order.  Also the queries each node has reported (so that a
query whose last row was removed still covers its evidence class).

Revision ID: 0009_osquery_inbox
Revises: 0008_evidence_filters
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_osquery_inbox"
down_revision = "0008_evidence_filters"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "osquery_inbox",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("node_id", PK, sa.ForeignKey("osquery_nodes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
        sa.Column("log_type", sa.String(16), nullable=False),
        sa.Column("encoding", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    # the inbox row a batch was applied from (an inbox kept in a file of its own is applied once)
    op.add_column("osquery_batches", sa.Column("inbox_id", PK, nullable=True))
    op.create_index("ix_osquery_batches_inbox_id", "osquery_batches", ["inbox_id"])
    op.create_table(
        "osquery_node_queries",
        sa.Column("node_id", PK, sa.ForeignKey("osquery_nodes.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("query", sa.String(200), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("osquery_node_queries")
    op.drop_index("ix_osquery_batches_inbox_id", "osquery_batches")
    with op.batch_alter_table("osquery_batches") as b:
        b.drop_column("inbox_id")
    op.drop_table("osquery_inbox")
