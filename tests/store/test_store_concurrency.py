"""Concurrent writers and interrupted writes leave the database whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from storekit import detection, result

from banscan.errors import StoreError
from banscan.model import EvidenceClass
from banscan.store import core, open_store
from banscan.store.tables import finding_events, scans

I = EvidenceClass.INSTALLED
HERE = Path(__file__).parent


def _state(store) -> tuple:
    with store.engine.connect() as c:
        n_scans = c.execute(select(func.count()).select_from(scans)).scalar()
        n_events = c.execute(select(func.count()).select_from(finding_events)).scalar()
    return n_scans, n_events, [(f["id"], f["status"], f["last_scan"]) for f in store.findings(all=True)]


def test_two_writers_at_once_both_land(store_url, clock):
    with open_store(store_url, clock=clock):
        pass  # migrate once up front; the writers below open their own engines
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    ids: dict[str, list[int]] = {"a": [], "b": []}

    def writer(tag: str) -> None:
        try:
            with open_store(store_url, clock=clock) as store:
                barrier.wait()
                for i in range(5):
                    assets = {f"pc-{tag}{i}": [I], "shared": [I]}
                    dets = [detection(f"pc-{tag}{i}"), detection("shared")]
                    ids[tag].append(store.record(result(assets, dets)))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with open_store(store_url, clock=clock) as store:
        assert sorted(s["id"] for s in store.scans()) == sorted(ids["a"] + ids["b"])
        rows = store.findings(all=True)
        assert {r["asset"] for r in rows} == {f"pc-{t}{i}" for t in "ab" for i in range(5)} | {"shared"}
        shared = [r for r in rows if r["asset"] == "shared"]
        assert len(shared) == 1 and shared[0]["status"] == "open"
        assert [e["event"] for e in store.events(key=shared[0]["id"])] == ["opened"]
        for sid in ids["a"] + ids["b"]:
            assert len(store.scan_result(sid).detections) == 2


def test_exception_before_commit_leaves_previous_state(store_url, clock, monkeypatch):
    with open_store(store_url, clock=clock) as store:
        store.record(result({"pc1": [I]}, [detection("pc1")]))
        before = _state(store)

        def boom(*a, **k):
            raise RuntimeError("injected failure after the lifecycle update")

        monkeypatch.setattr(core.Store, "_statuses", boom)
        with pytest.raises(RuntimeError, match="injected"):
            store.record(result({"pc1": [I], "pc2": [I]}, [detection("pc2")]))
        monkeypatch.undo()
        assert _state(store) == before
        store.record(result({"pc1": [I]}, []))  # and the database still takes writes
        assert store.findings(all=True)[0]["status"] == "resolved"


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[3])
    from storekit import detection, result
    from banscan.model import EvidenceClass
    from banscan.store import core, open_store

    original = core.Store._lifecycle

    def paused(self, *a, **k):
        original(self, *a, **k)  # the finding is resolved inside the open transaction ...
        open(sys.argv[2], "w").write("inside")
        time.sleep(120)  # ... and the process is killed here

    core.Store._lifecycle = paused
    with open_store(sys.argv[1]) as store:
        store.record(result({"pc1": [EvidenceClass.INSTALLED], "pc9": [EvidenceClass.INSTALLED]},
                            [detection("pc9")]))
""")


def test_scan_killed_mid_write_leaves_previous_state(store_url, clock, tmp_path):
    with open_store(store_url, clock=clock) as store:
        store.record(result({"pc1": [I]}, [detection("pc1")]))
        before = _state(store)
    flag = tmp_path / "flag"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, str(script), store_url, str(flag), str(HERE)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert proc.poll() is None, "the child exited before reaching the transaction"
            assert time.monotonic() < deadline, "the child never reached the transaction"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    with open_store(store_url, clock=clock) as store:
        assert _state(store) == before
        assert store.findings()[0]["asset"] == "pc1"
        if store.engine.dialect.name == "sqlite":
            with store.engine.connect() as c:
                assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                assert c.execute(text("PRAGMA foreign_key_check")).all() == []
        store.record(result({"pc1": [I]}, []))  # the lock is gone: writes go on
        assert store.findings() == []


def test_bad_url_is_one_line_error(tmp_path):
    with pytest.raises(StoreError):
        open_store("mysql://nobody@nowhere/db")


def test_first_open_from_several_writers_migrates_once(store_url, clock):
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def opener() -> None:
        try:
            barrier.wait()
            with open_store(store_url, clock=clock) as store:
                store.record(result({"pc1": [I]}, [detection("pc1")]))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with open_store(store_url, clock=clock) as store:
        assert len(store.scans()) == 4 and len(store.findings()) == 1
