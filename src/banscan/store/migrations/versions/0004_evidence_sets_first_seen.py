"""Stored evidence and first-seen dates: the distinct normalised observations per asset and
evidence class (content-addressed, compressed), which set and which inputs each scan covered an
asset with, and the day each product was first seen on each asset.

Revision ID: 0004_evidence_sets_first_seen
Revises: 0003_web_users
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_evidence_sets_first_seen"
down_revision = "0003_web_users"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "evidence_sets",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("asset", sa.String(512), nullable=False),
        sa.Column("evidence_class", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.UniqueConstraint("asset", "evidence_class", "digest", name="uq_evidence_sets_key"),
    )
    with op.batch_alter_table("scan_assets") as b:
        b.add_column(sa.Column("evidence_set", PK, nullable=True))
        b.add_column(sa.Column("inputs", sa.Text, nullable=True))
        b.create_foreign_key("fk_scan_assets_evidence_set", "evidence_sets", ["evidence_set"], ["id"],
                             ondelete="SET NULL")
    op.create_table(
        "products_seen",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("asset", sa.String(512), nullable=False),
        sa.Column("family", sa.String(64), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("first_seen", sa.String(40), nullable=False),
        sa.Column("first_scan", PK, sa.ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
        sa.Column("last_seen", sa.String(40), nullable=False),
        sa.Column("last_scan", PK, sa.ForeignKey("scans.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_products_seen_asset", "products_seen", ["asset"])


def downgrade() -> None:
    op.drop_index("ix_products_seen_asset", "products_seen")
    op.drop_table("products_seen")
    with op.batch_alter_table("scan_assets") as b:
        b.drop_constraint("fk_scan_assets_evidence_set", type_="foreignkey")
        b.drop_column("inputs")
        b.drop_column("evidence_set")
    op.drop_table("evidence_sets")
