"""Tables of the web dashboard: local user accounts and their server-side sessions, asset groups and
rotated osquery enroll secrets.

They share the store's ``metadata`` (``tables.py`` imports this module) so the Alembic migrations
and the table definitions are checked together.  Passwords are stored as argon2 hashes; a session
row holds the SHA-256 of the cookie's token (never the token) and its CSRF token.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text

from banscan.store.tables import metadata

web_users = Table(
    "web_users", metadata,
    Column("name", String(200), primary_key=True),
    Column("role", String(16), nullable=False),  # viewer | decider | admin
    Column("password_hash", Text, nullable=False),  # argon2id, PHC string
    Column("created_at", String(40), nullable=False),
    Column("disabled", Integer, nullable=False, default=0),
    Column("last_visit_at", String(40)),  # the latest page this user read
    Column("visit_since", String(40)),  # when the visit before the current one ended ("what changed since")
    Column("time_zone", String(64)),  # IANA zone chosen by the user (else the browser's, else UTC)
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie token, hex
    Column("username", ForeignKey("web_users.name", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
)

# asset groups: an asset belongs to a group when its name matches one of the group's patterns
# (shell-style, one a line, case-insensitive) or when it is listed as a member
web_asset_groups = Table(
    "web_asset_groups", metadata,
    Column("name", String(200), primary_key=True),
    Column("patterns", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
)

web_asset_group_members = Table(
    "web_asset_group_members", metadata,
    Column("group_name", ForeignKey("web_asset_groups.name", ondelete="CASCADE"), primary_key=True),
    Column("asset", String(1000), primary_key=True),
)

# osquery enroll secrets rotated from the administration page: only the SHA-256 is kept; the newest
# row not retired is the secret nodes must present (it replaces --enroll-secret-file's)
enroll_secrets = Table(
    "enroll_secrets", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("retired_at", String(40)),
)
