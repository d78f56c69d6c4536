"""Stored evidence of block-scanned inputs keeps the candidate records only: record the filter
(the registry's anchors) they were selected with, per scan, asset and class, so that a re-match
under a registry the filter does not cover is reported as a coverage gap.

Revision ID: 0008_evidence_filters
Revises: 0007_scan_report_parts
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_evidence_filters"
down_revision = "0007_scan_report_parts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_filters",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("spec", sa.LargeBinary, nullable=False),
    )
    with op.batch_alter_table("scan_assets") as b:
        b.add_column(sa.Column("evidence_filter", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scan_assets") as b:
        b.drop_column("evidence_filter")
    op.drop_table("evidence_filters")
