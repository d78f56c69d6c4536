"""``banscan user add``: argon2 hashes in the same database the service uses; bad input is one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("argon2")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "banscan", *args], capture_output=True, text=True, timeout=120)


def test_user_add_hashes_with_argon2_and_logs_in(tmp_path: Path) -> None:
    from sqlalchemy import select

    from banscan.store import open_store
    from banscan.store.web_tables import web_users
    from banscan.web.accounts import authenticate

    db = tmp_path / "b.db"
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery\n")
    r = run("user", "add", "alice", "--role", "decider", "--password-file", str(pw), "--db", str(db))
    assert r.returncode == 0, r.stderr
    with open_store(str(db)) as st:
        with st.engine.connect() as conn:
            row = conn.execute(select(web_users)).one()
        assert row.role == "decider" and row.password_hash.startswith("$argon2id$")
        assert "correct horse" not in row.password_hash
        assert authenticate(st.engine, "alice", "correct horse battery") is not None
        assert authenticate(st.engine, "alice", "wrong") is None
    again = run("user", "add", "alice", "--role", "viewer", "--password-file", str(pw), "--db", str(db))
    assert again.returncode == 2 and "exists" in again.stderr and "Traceback" not in again.stderr


def test_user_add_refuses_a_bad_role_and_a_missing_file(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    pw = tmp_path / "pw"
    pw.write_text("long enough password\n")
    bad = run("user", "add", "bob", "--role", "root", "--password-file", str(pw), "--db", str(db))
    assert bad.returncode == 2 and "--role" in bad.stderr and "Traceback" not in bad.stderr
    missing = run("user", "add", "bob", "--role", "viewer", "--password-file", str(tmp_path / "nope"), "--db", str(db))
    assert missing.returncode == 2 and "--password-file" in missing.stderr and "Traceback" not in missing.stderr
