"""Tables of the web dashboard: local user accounts and their server-side sessions.

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
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie token, hex
    Column("username", ForeignKey("web_users.name", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
)
