"""Tables of the ``banscan serve`` service: API tokens, the append-only audit log and osquery nodes.

They share the store's ``metadata`` (``tables.py`` imports this module) so that the Alembic
migrations and the table definitions are checked together.  The audit log is append-only: the
migration installs triggers that refuse ``UPDATE`` and ``DELETE`` on it (SQLite and PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, String, Table, Text

from banscan.store.tables import PK, metadata

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", String(32), primary_key=True),  # the public part of the token
    Column("name", String(200), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("hash", String(128), nullable=False),  # sha256(salt + secret), hex
    Column("scopes", Text, nullable=False),  # comma-separated
    Column("created_at", String(40), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("revoked_at", String(40), nullable=True),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=True),
    Column("old", Text, nullable=True),  # JSON
    Column("new", Text, nullable=True),  # JSON
    Column("reason", Text, nullable=True),
    Column("detail", Text, nullable=False),  # JSON object
    Index("ix_audit_log_target", "target"),
)

osquery_nodes = Table(
    "osquery_nodes", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("node_key_hash", String(64), nullable=False, unique=True),  # sha256 of the node key
    Column("asset", String(512), nullable=False, index=True),
    Column("host_identifier", Text, nullable=False),
    Column("platform", String(64), nullable=True),
    Column("host_details", Text, nullable=False),  # JSON from the enroll request
    Column("enrolled_at", String(40), nullable=False),
    Column("last_seen_at", String(40), nullable=True),
    Column("dirty", Integer, nullable=False, default=0),  # evidence changed since the last evaluation
    Column("scan_requested", Integer, nullable=False, default=0),  # distributed "scan now" pending
)

osquery_rows = Table(
    "osquery_rows", metadata,
    Column("node_id", ForeignKey("osquery_nodes.id", ondelete="CASCADE"), primary_key=True),
    Column("query", String(200), primary_key=True),
    Column("row_hash", String(64), primary_key=True),
    Column("row", Text, nullable=False),  # JSON object of the row's columns
)

osquery_batches = Table(
    "osquery_batches", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("node_id", ForeignKey("osquery_nodes.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("received_at", String(40), nullable=False),
    Column("log_type", String(16), nullable=False),  # result | status | distributed
    Column("entries", Integer, nullable=False),
    Column("rows_added", Integer, nullable=False),
    Column("rows_removed", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("inbox_id", PK, nullable=True, index=True),  # the inbox row it was applied from
)

# log batches acknowledged but not yet applied to the node's rows (raw body as received)
osquery_inbox = Table(
    "osquery_inbox", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("node_id", ForeignKey("osquery_nodes.id", ondelete="CASCADE"), nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("log_type", String(16), nullable=False),  # result | status | distributed
    Column("encoding", String(16), nullable=False),  # gzip | identity
    Column("sha256", String(64), nullable=False),  # of the decompressed body
    Column("body", LargeBinary, nullable=False),
)

# the queries each node has reported results of (even when they now return no rows)
osquery_node_queries = Table(
    "osquery_node_queries", metadata,
    Column("node_id", ForeignKey("osquery_nodes.id", ondelete="CASCADE"), primary_key=True),
    Column("query", String(200), primary_key=True),
)
