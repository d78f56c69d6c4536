"""Engines, connection settings, migrations and write transactions for SQLite and PostgreSQL.

SQLite: WAL journal, foreign keys on, a 30 s busy timeout, and every transaction starts with
``BEGIN IMMEDIATE`` so two writers queue instead of failing half-way.  PostgreSQL: the psycopg 3
driver; a write transaction takes a transaction-scoped advisory lock, so lifecycle updates from
concurrent scans are applied one after the other, and is retried on serialization failures and
deadlocks.  Either way a scan is one transaction: killed half-way, nothing of it remains.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from banscan.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
WRITE_LOCK_KEY = 0x62616E7363616E  # "banscan": the advisory lock serialising lifecycle writes

T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Accept a SQLite path, ``sqlite:///…``, ``postgresql://…``/``postgres://…`` (psycopg 3 driver)."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _encodable_parameters(engine: Engine) -> None:
    """Every string written is encodable: a lone surrogate from an input becomes U+FFFD instead of
    failing the whole transaction with UnicodeEncodeError."""
    from banscan.textsafe import scrub

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _scrub(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        return statement, scrub(parameters)


def make_engine(url: str) -> Engine:
    engine = _make_engine(url)
    _encodable_parameters(engine)
    return engine


def _make_engine(url: str) -> Engine:
    url = normalise_url(url)
    try:
        u = make_url(url)
    except ArgumentError:
        raise StoreError(f"--db: '{url}' is not a database URL (a SQLite file or postgresql://…)") from None
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            try:
                Path(u.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"{u.database}: cannot create the database directory: {e}") from None
        engine = create_engine(u, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        _sqlite_events(engine)
        return engine
    if u.get_backend_name() == "postgresql":
        try:
            # a service answers many requests at once: keep enough connections open (opening one
            # starts a PostgreSQL backend process, too slow to do per request under load)
            return create_engine(u, pool_pre_ping=True, pool_size=20, max_overflow=20, pool_timeout=60)
        except ModuleNotFoundError:
            raise StoreError("PostgreSQL needs the psycopg driver: pip install 'banscan[postgres]'") from None
    raise StoreError(f"--db: unsupported database '{u.get_backend_name()}' (use SQLite or PostgreSQL)")


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # let us issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        # switching a new file to WAL needs a moment alone with it; the busy handler does not cover it
        for i in range(50):
            try:
                cur.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or i == 49:
                    raise
                time.sleep(0.02 * min(i + 1, 10))
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # readers take a deferred transaction (WAL lets them run beside a writer)
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("banscan_read") else "BEGIN IMMEDIATE")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def lock_for_write(conn: Connection) -> None:
    """Serialise writers (SQLite already holds the write lock from BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})


def _retryable(e: DBAPIError) -> bool:
    orig = e.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in ("40001", "40P01"):  # serialization failure, deadlock detected
        return True
    msg = str(orig).lower()
    return "database is locked" in msg or "database is busy" in msg


def write(engine: Engine, fn: Callable[[Connection], T], attempts: int = 5,
          lock: int | None = WRITE_LOCK_KEY) -> T:
    """Run ``fn`` in one write transaction, retrying when the database asks us to.

    ``lock``: the PostgreSQL advisory lock the transaction takes (the default serialises it with
    every lifecycle write); another key, or None, for writes that touch no lifecycle rows and must
    not queue behind a long scan (the transaction is then marked ``banscan_unserialized``)."""
    for i in range(attempts):
        try:
            with engine.connect() as c:
                conn = c.execution_options(banscan_unserialized=True) if lock != WRITE_LOCK_KEY else c
                with conn.begin():
                    if lock is not None and conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
                    return fn(conn)
        except DBAPIError as e:
            if i + 1 < attempts and _retryable(e):
                time.sleep(0.05 * (2 ** i))
                continue
            raise StoreError(f"database write failed: {str(e.orig).strip().splitlines()[0]}") from e
    raise AssertionError("unreachable")


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


_REVISION = re.compile(r"""^revision\s*=\s*["']([^"']+)["']""", re.M)
_DOWN = re.compile(r"""^down_revision\s*=\s*(?:["']([^"']+)["']|None)\s*$""", re.M)


def _head_from_files() -> str | None:
    """The single head of the shipped migrations, read from their files without importing Alembic
    (None when they are not that simple: then Alembic decides)."""
    revs: set[str] = set()
    downs: set[str] = set()
    for f in (MIGRATIONS / "versions").glob("*.py"):
        body = f.read_text(encoding="utf-8")
        r, d = _REVISION.search(body), _DOWN.search(body)
        if r is None or d is None:
            return None
        revs.add(r.group(1))
        if d.group(1):
            downs.add(d.group(1))
    heads = revs - downs
    return heads.pop() if len(heads) == 1 and downs <= revs else None


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(conn: Connection) -> str | None:
    """The database's revision (what Alembic's MigrationContext reads), without importing Alembic;
    "?" when there is more than one."""
    if not conn.dialect.has_table(conn, "alembic_version"):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return str(rows[0]) if len(rows) == 1 else (None if not rows else "?")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op when it is already there).  A database
    already at the head is recognised without importing Alembic (start-up time)."""
    head = _head_from_files()
    for i in range(5):
        try:
            with reading(engine) as conn:
                current = _current_revision(conn)
            break
        except OperationalError as e:
            if i < 4 and _retryable(e):
                time.sleep(0.05 * (2 ** i))
                continue
            raise StoreError(f"cannot open the database {redact(str(engine.url))}: "
                             f"{str(e.orig).strip().splitlines()[0]}") from None
    if head is not None and current == head:
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    head = head_revision()
    if current == head:
        return
    cfg = alembic_config()

    def _upgrade(conn: Connection) -> None:
        # re-check under the lock: another process may have migrated meanwhile
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

    write(engine, _upgrade)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    with engine.connect().execution_options(banscan_read=True) as conn:
        try:
            yield conn
        finally:
            conn.rollback()
