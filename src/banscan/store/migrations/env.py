"""Alembic environment: always run from :mod:`banscan.store.db` with a connection in
``config.attributes["connection"]`` (banscan never runs migrations from an ``alembic.ini``)."""

from __future__ import annotations

from alembic import context

from banscan.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - offline mode is not supported
    raise RuntimeError("banscan migrations run programmatically (banscan.store.db.migrate)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
