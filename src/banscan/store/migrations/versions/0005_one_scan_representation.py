"""One representation of what a scan found: drop the per-scan ``detections`` and ``scan_findings``
tables, which were written on every scan and never read (every read rebuilds the scan from its
report JSON in ``scans.report``).

Revision ID: 0005_one_scan_representation
Revises: 0004_evidence_sets_first_seen
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_one_scan_representation"
down_revision = "0004_evidence_sets_first_seen"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.drop_index("ix_scan_findings_finding_key", "scan_findings")
    op.drop_table("scan_findings")
    op.drop_table("detections")


def downgrade() -> None:
    op.create_table(
        "detections",
        sa.Column("scan_id", PK, sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("detection_id", sa.String(64), primary_key=True),
        sa.Column("asset", sa.String(512), nullable=False),
        sa.Column("family", sa.String(64), nullable=False),
        sa.Column("product", sa.String(200), nullable=True),
        sa.Column("evidence_class", sa.String(32), nullable=False),
        sa.Column("confidence", sa.String(16), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "scan_findings",
        sa.Column("scan_id", PK, sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("finding_key", sa.String(32), sa.ForeignKey("findings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("finding_id", sa.String(64), nullable=False),
        sa.Column("detection_id", sa.String(64), nullable=False),
        sa.Column("asset", sa.String(512), nullable=False),
        sa.Column("restriction", sa.String(128), nullable=False),
        sa.Column("requirement", sa.String(32), nullable=False),
        sa.Column("deadline", sa.Date, nullable=True),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_scan_findings_finding_key", "scan_findings", ["finding_key"])
