"""Each recorded scan's report also kept in parts: its head (everything but the detections,
findings and upcoming obligations) and, per asset, that asset's detections, their findings and
its upcoming obligations, so that one asset's latest report is read without the whole scan's.
Scans recorded before have no parts and are read from their whole report, as before.

Revision ID: 0007_scan_report_parts
Revises: 0006_web_visits_groups
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_scan_report_parts"
down_revision = "0006_web_visits_groups"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "scan_report_parts",
        sa.Column("scan_id", PK, sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("part", sa.String(8), primary_key=True),
        sa.Column("asset", sa.String(512), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scan_report_parts")
