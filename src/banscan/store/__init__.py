"""Scan history and the findings lifecycle, in SQLite (default) or PostgreSQL.

``open_store(url)`` returns a :class:`~banscan.store.core.Store`; use it as a context manager.
The database schema is managed by Alembic migrations shipped in ``store/migrations`` and applied
when a store is opened.

This module stays light (no SQLAlchemy import) because :func:`active_data_dir` is used by the
registry loader to find an installed registry bundle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from banscan.store.active import active_data_dir, registry_home

if TYPE_CHECKING:
    from banscan.store.core import Store

__all__ = ["open_store", "active_data_dir", "registry_home", "Store"]


def open_store(url: str, **kwargs: Any) -> Store:
    """Open (creating and migrating when needed) the database at ``url``.

    ``url`` is a SQLAlchemy URL (``sqlite:///path``, ``postgresql://…``) or a SQLite file path.
    Keyword arguments go to :class:`~banscan.store.core.Store` (``clock`` for tests, ``actor``).
    """
    from banscan.store.core import Store

    return Store.open(url, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "Store":
        from banscan.store.core import Store

        return Store
    raise AttributeError(name)
