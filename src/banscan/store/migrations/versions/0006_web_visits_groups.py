"""Web dashboard: each user's last visit and time zone, asset groups (name patterns and explicit
members), osquery enroll secrets rotated from the administration page (only their SHA-256 is kept).

Revision ID: 0006_web_visits_groups
Revises: 0005_one_scan_representation
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_web_visits_groups"
down_revision = "0005_one_scan_representation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_users") as b:
        b.add_column(sa.Column("last_visit_at", sa.String(40), nullable=True))
        b.add_column(sa.Column("visit_since", sa.String(40), nullable=True))
        b.add_column(sa.Column("time_zone", sa.String(64), nullable=True))
    op.create_table(
        "web_asset_groups",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("patterns", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "web_asset_group_members",
        sa.Column("group_name", sa.String(200), sa.ForeignKey("web_asset_groups.name", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("asset", sa.String(1000), primary_key=True),
    )
    op.create_table(
        "enroll_secrets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("retired_at", sa.String(40), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("enroll_secrets")
    op.drop_table("web_asset_group_members")
    op.drop_table("web_asset_groups")
    with op.batch_alter_table("web_users") as b:
        b.drop_column("time_zone")
        b.drop_column("visit_since")
        b.drop_column("last_visit_at")
