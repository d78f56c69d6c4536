"""Initial schema: scans, inputs, assets, detections, findings lifecycle and its events.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "scans",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40), nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.Column("registry_version", sa.String(100), nullable=False),
        sa.Column("registry_sha256", sa.String(64), nullable=False),
        sa.Column("profiles", sa.Text, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("tool_version", sa.String(40), nullable=False),
        sa.Column("based_on", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("report", sa.Text, nullable=False),
    )
    op.create_table(
        "inputs",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("scan_id", PK, sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("format", sa.String(64), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("observations", sa.Integer, nullable=False),
        sa.Column("errors", sa.Text, nullable=False),
        sa.Column("deviations", sa.Text, nullable=False),
        sa.Column("skipped", sa.Text, nullable=True),
    )
    op.create_index("ix_inputs_scan_id", "inputs", ["scan_id"])
    op.create_table(
        "scan_assets",
        sa.Column("scan_id", PK, sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("asset", sa.String(512), primary_key=True),
        sa.Column("evidence_class", sa.String(32), primary_key=True),
    )
    op.create_index("ix_scan_assets_asset", "scan_assets", ["asset", "scan_id"])
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
        "findings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("asset", sa.String(512), nullable=False),
        sa.Column("family", sa.String(64), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("restriction", sa.String(128), nullable=False),
        sa.Column("requirement", sa.String(32), nullable=False),
        sa.Column("deadline", sa.Date, nullable=True),
        sa.Column("profiles", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("evidence_classes", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=True),
        sa.Column("due", sa.Date, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("approver", sa.Text, nullable=True),
        sa.Column("expires", sa.Date, nullable=True),
        sa.Column("first_seen", sa.String(40), nullable=False),
        sa.Column("first_scan", PK, sa.ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
        sa.Column("last_seen", sa.String(40), nullable=False),
        sa.Column("last_scan", PK, sa.ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
        sa.Column("resolved_at", sa.String(40), nullable=True),
        sa.Column("resolved_scan", PK, sa.ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.UniqueConstraint("asset", "family", "product", "restriction", name="uq_findings_key"),
    )
    op.create_index("ix_findings_status", "findings", ["status"])
    op.create_index("ix_findings_asset", "findings", ["asset"])
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
    op.create_table(
        "finding_events",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("finding_key", sa.String(32), sa.ForeignKey("findings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("scan_id", PK, sa.ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_finding_events_finding_key", "finding_events", ["finding_key"])


def downgrade() -> None:
    for t in ("finding_events", "scan_findings", "findings", "detections", "scan_assets", "inputs", "scans"):
        op.drop_table(t)
