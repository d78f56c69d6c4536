#!/usr/bin/env python3
"""Load test of ``banscan serve``'s osquery API on loopback; prints figures, asserts nothing.

N simulated osquery nodes (default 2,000) run against a ``banscan serve`` subprocess on
127.0.0.1:

1. enrolment storm: every node enrolls within ``--storm-seconds`` (default 60), evenly spread;
2. steady state: each node posts a result log every ``--period`` seconds (default 60), staggered,
   for ``--rounds`` rounds (default 3): first a snapshot of its deb_packages (``--rows`` real
   Debian package rows from this machine's dpkg database, 2 % of the nodes with a Kaspersky
   package), then differentials (a package added, one removed), gzip-compressed as osquery's
   ``--logger_tls_compress`` sends them, plus a distributed read per round;
3. unless ``--no-kill``: the server is SIGKILLed mid-way through round 2 and restarted; nodes
   retry what was not acknowledged, as osqueryd buffers and retries unacknowledged logs;
   nodes whose turn comes while the server is down wait until its port accepts connections
   again and are then all sent at once (harsher than osqueryd, which retries at its next
   interval);
4. after the run: every log batch the server acknowledged must be in the database (the server
   stores the digest of each batch, applied or still in its inbox), counted after the restart.

Figures: request latency (p50/p95/p99/max) per phase, the server's RSS over time, batches
acknowledged / found / lost, nodes evaluated, wall time; per phase, the machine's load average
and the CPU time of the serving process per answered request (the machine is shared).  A
request's latency is the time of its answered attempt, from opening the connection to the last
byte of the answer (including waiting for one of the ``--connections`` slots); an attempt that
meets no server (refused or reset while it is down) is not timed but counted as retried.
Bounded: at most ``--max-seconds`` (default 900) of wall time, then everything stops.

    python bench/serve_load.py                      # SQLite, 2,000 nodes
    python bench/serve_load.py --backend postgres   # BANSCAN_TEST_PG_URL, or an embedded pgserver
    python bench/serve_load.py --nodes 200 --period 10 --rounds 2 --storm-seconds 10   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"  # loopback only
SECRET = "bench-enroll-secret-0123456789"
KESL = {"name": "kesl", "version": "12.0.0.6672", "arch": "amd64", "source": "", "revision": "",
        "maintainer": "AO Kaspersky Lab"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def dpkg_rows() -> list[dict[str, str]]:
    """Real deb_packages rows (osquery's columns) from this machine's dpkg database."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Architecture}\t${Source}\t${Maintainer}\n"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        out = ""
    rows = []
    for line in out.splitlines():
        p = line.split("\t")
        if len(p) == 5 and p[0]:
            ver, _, rev = p[1].rpartition("-") if "-" in p[1] else (p[1], "", "")
            rows.append({"name": p[0], "version": ver or p[1], "arch": p[2], "source": p[3], "revision": rev,
                         "maintainer": p[4]})
    if not rows:
        rows = [{"name": f"pkg{i}", "version": "1.0", "arch": "amd64", "source": "", "revision": "1",
                 "maintainer": "Debian"} for i in range(500)]
    return rows


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children_rss(pid: int) -> int:
    """RSS of ``pid`` and its children (the worker process)."""
    return rss_kib(pid) + sum(rss_kib(c) for c in child_pids(pid))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (its threads included)."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def child_pids(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (a process started from a thread is that thread's child)."""
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                out += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    except OSError:
        pass
    return out


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


async def http_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """One HTTP/1.1 POST on a fresh connection, as osqueryd's TLS client makes them."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{head}Content-Length: {len(body)}\r\n"
                     f"Connection: close\r\n\r\n".encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        status = int(status_line.split()[1])
        length = None
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
        payload = await (reader.readexactly(length) if length is not None else reader.read())
        return status, payload
    finally:
        writer.close()


class Server:
    def __init__(self, db: str, port: int, workdir: Path, extra: list[str]) -> None:
        self.db = db
        self.port = port
        self.workdir = workdir
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.secret = workdir / "enroll.secret"
        self.secret.write_text(SECRET)
        self.log = (workdir / "server.log").open("ab")

    def start(self) -> None:
        src = str(Path(__file__).resolve().parents[1] / "src")  # measure this checkout
        env = dict(os.environ, BANSCAN_ACTOR="bench",
                   PYTHONPATH=os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "banscan", "serve", "--db", self.db, "--port", str(self.port), "--host", HOST,
             "--enroll-secret-file", str(self.secret), "--profile", "us-federal-agency", *self.extra],
            stdout=self.log, stderr=self.log, env=env, cwd=self.workdir)
        end = time.monotonic() + 120
        while time.monotonic() < end:
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: see {self.workdir / 'server.log'}") from None
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


class Bench:
    def __init__(self, args: argparse.Namespace, server: Server) -> None:
        self.args = args
        self.server = server
        self.base = f"http://{HOST}:{server.port}"
        self.lat: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.acked: list[tuple[str, str]] = []  # (asset, digest) of acknowledged result batches
        self.keys: dict[int, str] = {}
        self.rows = dpkg_rows()
        self.rng = random.Random(args.seed)
        self.deadline = time.monotonic() + args.max_seconds
        self.down = asyncio.Event()
        self.down.set()  # set = server up
        self.slots = asyncio.Semaphore(args.connections)
        self.windows: list[tuple[str, float, float]] = []  # (storm or rN, start, end), monotonic
        self.restart_seconds: float | None = None

    def note(self, phase: str, secs: float) -> None:
        self.lat.setdefault(phase, []).append(secs)

    async def post(self, client: Any, phase: str, path: str, body: Any, gz: bool = False,
                   sent: list[bytes] | None = None) -> Any:
        data = json.dumps(body).encode()
        if sent is not None:
            sent.append(data)
        headers = {"Content-Type": "application/json", "User-Agent": "osquery/5.12.1"}
        if gz:
            data = gzip.compress(data, 6)
            headers["Content-Encoding"] = "gzip"
        while time.monotonic() < self.deadline:
            await self.down.wait()
            t = time.perf_counter()
            try:
                async with self.slots:
                    status, payload = await asyncio.wait_for(
                        http_post(self.server.port, path, data, headers), timeout=60)
            except Exception as e:  # noqa: BLE001 - connection refused while the server restarts
                self.errors[f"{phase}: {type(e).__name__}"] = self.errors.get(f"{phase}: {type(e).__name__}", 0) + 1
                await asyncio.sleep(1 + self.rng.random())
                continue
            dt_ = time.perf_counter() - t
            if status == 200:
                self.note(phase, dt_)
                return json.loads(payload)
            self.errors[f"{phase}: HTTP {status}"] = self.errors.get(f"{phase}: HTTP {status}", 0) + 1
            await asyncio.sleep(1 + self.rng.random())
        return None

    def asset(self, i: int) -> str:
        return f"bench-node-{i:05d}"

    async def enroll(self, client: Any, i: int) -> None:
        r = await self.post(client, "enroll", "/api/osquery/enroll", {
            "enroll_secret": SECRET, "host_identifier": self.asset(i),
            "host_details": {"os_version": {"platform": "debian", "version": "12"},
                             "system_info": {"hostname": self.asset(i), "uuid": str(uuid.UUID(int=i))}}})
        if r and r.get("node_key"):
            self.keys[i] = r["node_key"]

    def node_rows(self, i: int) -> list[dict[str, str]]:
        rng = random.Random(i)
        rows = rng.sample(self.rows, min(self.args.rows, len(self.rows)))
        if i % 50 == 0:
            rows.append(dict(KESL))
        return rows

    def log_body(self, i: int, rnd: int) -> list[dict[str, Any]]:
        name = "banscan_deb_packages"
        base = {"name": name, "hostIdentifier": self.asset(i), "calendarTime": time.strftime("%a %b %d %H:%M:%S %Y UTC"),
                "unixTime": int(time.time()), "epoch": 0, "numerics": False}
        if rnd == 0:
            return [dict(base, counter=0, action="snapshot", snapshot=self.node_rows(i))]
        rows = self.node_rows(i)
        added = [dict(self.rows[(i * 7 + rnd) % len(self.rows)], version=f"9.{rnd}")]
        removed = [rows[rnd % len(rows)]]
        return [dict(base, counter=rnd, diffResults={"added": added, "removed": removed})]

    async def node_round(self, client: Any, i: int, rnd: int) -> None:
        key = self.keys.get(i)
        if key is None:
            return
        data = self.log_body(i, rnd)
        sent: list[bytes] = []
        r = await self.post(client, f"log r{rnd}", "/api/osquery/log", {"node_key": key, "log_type": "result", "data": data},
                            gz=True, sent=sent)
        if r is not None and r.get("node_invalid") is False:
            self.acked.append((self.asset(i), hashlib.sha256(sent[0]).hexdigest()))
        await self.post(client, f"dist/read r{rnd}", "/api/osquery/distributed/read", {"node_key": key})

    async def run(self) -> dict[str, Any]:
        n = self.args.nodes
        client = None  # each request opens its own connection (http_post)
        if n:
            # 1. enrolment storm
            t0 = time.monotonic()
            tasks = []
            for i in range(n):
                at = t0 + i * self.args.storm_seconds / n
                tasks.append(asyncio.create_task(self._at(at, self.enroll(client, i))))
            await asyncio.gather(*tasks)
            storm = time.monotonic() - t0
            self.windows.append(("storm", t0, time.monotonic()))
            print(f"enrolment storm: {len(self.keys)}/{n} nodes enrolled in {storm:.1f} s", flush=True)
            # 2. rounds of logs
            killed_at = None
            for rnd in range(self.args.rounds):
                t1 = time.monotonic()
                tasks = []
                for i in range(n):
                    at = t1 + i * self.args.period / n
                    tasks.append(asyncio.create_task(self._at(at, self.node_round(client, i, rnd))))
                if rnd == 1 and not self.args.no_kill:
                    tasks.append(asyncio.create_task(self._kill_restart(t1 + self.args.period * 0.5)))
                    killed_at = rnd
                await asyncio.gather(*tasks)
                self.windows.append((f"r{rnd}", t1, time.monotonic()))
                print(f"round {rnd}: {time.monotonic() - t1:.1f} s, server RSS {children_rss(self.server.proc.pid) // 1024} MiB",
                      flush=True)
                if time.monotonic() > self.deadline:
                    print("time budget exhausted; stopping", flush=True)
                    break
        return {"storm_seconds": storm, "killed_in_round": killed_at}

    async def _at(self, when: float, coro: Any) -> None:
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        if time.monotonic() < self.deadline:
            await coro
        else:
            coro.close()

    async def _kill_restart(self, when: float) -> None:
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        self.down.clear()
        before = len(self.acked)
        self.server.kill()
        print(f"SIGKILL at {before} acknowledged batches; restarting", flush=True)
        t = time.monotonic()
        await asyncio.to_thread(self.server.start)
        self.restart_seconds = time.monotonic() - t
        print(f"restarted in {self.restart_seconds:.1f} s", flush=True)
        self.down.set()


def window_figures(bench: Bench, timeline: list[tuple[float, float, float, float]]) -> dict[str, dict[str, Any]]:
    """Per phase window (storm, r0, r1, …): wall time, mean load average, requests answered, CPU
    of the serving and worker processes (and per answered request)."""
    out: dict[str, dict[str, Any]] = {}

    def at(t: float) -> tuple[float, float]:  # CPU totals of the last sample at or before t
        before = [x for x in timeline if x[0] <= t]
        x = before[-1] if before else (t, 0.0, 0.0, 0.0)
        return x[2], x[3]

    for name, start, end in bench.windows:
        inside = [x[1] for x in timeline if start <= x[0] <= end]
        reqs = sum(len(xs) for ph, xs in bench.lat.items()
                   if ("storm" if ph == "enroll" else ph.rsplit(" ", 1)[-1]) == name)
        (s0, w0), (s1, w1) = at(start), at(end)
        out[name] = {"wall": end - start, "load": sum(inside) / len(inside) if inside else float("nan"),
                     "requests": reqs, "server_cpu": s1 - s0, "worker_cpu": w1 - w0,
                     "ms_per_request": (s1 - s0) / reqs * 1000 if reqs else float("nan")}
    return out


def check(db: str, acked: list[tuple[str, str]]) -> dict[str, int]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from sqlalchemy import select

    from banscan.serve.inbox import stored_batches
    from banscan.store import db as dbmod
    from banscan.store.service_tables import osquery_nodes

    engine = dbmod.make_engine(db)
    with dbmod.reading(engine) as conn:
        assets = {int(r.id): str(r.asset) for r in conn.execute(select(osquery_nodes.c.id, osquery_nodes.c.asset))}
        pending = conn.execute(select(osquery_nodes.c.id).where(osquery_nodes.c.dirty > 0)).all()
    # a batch is stored once committed: applied to the node's rows, or still waiting in the inbox
    batches = stored_batches(engine)
    stored = {(assets.get(n, "?"), d) for n, d in batches}
    engine.dispose()
    lost = [a for a in acked if a not in stored]
    return {"acknowledged": len(acked), "stored": len(stored), "lost": len(lost), "nodes": len(assets),
            "evaluation_pending": len(pending)}


def pg_url() -> tuple[str, Any]:
    url = os.environ.get("BANSCAN_TEST_PG_URL")
    server = None
    if not url:
        import pgserver

        d = tempfile.mkdtemp(prefix="banscan-bench-pg-")
        os.chmod(d, 0o755)
        server = pgserver.get_server(d, cleanup_mode="stop")
        url = str(server.get_uri())
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    from urllib.parse import quote

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}", server


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--period", type=float, default=60.0, help="seconds between a node's logs")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--storm-seconds", type=float, default=60.0)
    ap.add_argument("--rows", type=int, default=300, help="deb_packages rows per node snapshot")
    ap.add_argument("--connections", type=int, default=200, help="simultaneous requests at most")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--no-kill", action="store_true", help="do not SIGKILL the server mid-run")
    ap.add_argument("--max-seconds", type=float, default=900.0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    args.nodes = max(1, min(args.nodes, 20_000))
    args.max_seconds = min(args.max_seconds, 3600)

    work = Path(tempfile.mkdtemp(prefix="banscan-serve-load-"))
    pg = None
    if args.backend == "postgres":
        db, pg = pg_url()
    else:
        db = f"sqlite:///{work / 'bench.db'}"
    server = Server(db, free_port(), work, [])
    t0 = time.monotonic()
    server.start()
    print(f"server up in {time.monotonic() - t0:.1f} s ({args.backend}); {args.nodes} nodes, period {args.period:g} s, "
          f"{args.rounds} rounds, {args.rows} rows per snapshot", flush=True)
    bench = Bench(args, server)
    rss: list[tuple[float, int]] = []
    loads: list[float] = []
    cpu: dict[tuple[str, int], float] = {}
    # (monotonic time, 1-min load average, serving processes' CPU s, worker processes' CPU s so far)
    timeline: list[tuple[float, float, float, float]] = []
    stop = False

    async def sample() -> None:
        while not stop:
            if server.proc is not None and server.proc.poll() is None:
                rss.append((time.monotonic() - t0, children_rss(server.proc.pid)))
            loads.append(os.getloadavg()[0])
            if server.proc is not None and server.proc.poll() is None:  # CPU per process, last reading wins
                cpu[("server", server.proc.pid)] = cpu_seconds(server.proc.pid)
                for c in child_pids(server.proc.pid):
                    cpu[("worker", c)] = cpu_seconds(c)
            timeline.append((time.monotonic(), loads[-1], sum(v for (k, _), v in cpu.items() if k == "server"),
                             sum(v for (k, _), v in cpu.items() if k == "worker")))
            await asyncio.sleep(2)

    async def go() -> dict[str, Any]:
        nonlocal stop
        s = asyncio.create_task(sample())
        try:
            return await bench.run()
        finally:
            stop = True
            await s

    info = asyncio.run(go())
    # let the evaluator catch up a little, then stop cleanly and count after a restart
    time.sleep(5)
    server.stop()
    server.start()
    time.sleep(2)
    server.stop()
    counts = check(db, bench.acked)
    wall = time.monotonic() - t0

    print()
    print(f"banscan serve load ({args.backend}, loopback), {os.cpu_count()} CPUs, wall {wall:.0f} s")
    if loads:  # the machine is shared: latencies depend on what else runs
        print(f"machine load average (1 min) during the run: min {min(loads):.1f}, median "
              f"{sorted(loads)[len(loads) // 2]:.1f}, max {max(loads):.1f} on {os.cpu_count()} CPUs "
              "(server, its worker and this client share them with other processes)")
    print("(r0: first snapshots; r1: the round with the SIGKILL and restart; later rounds: differentials)")
    windows = window_figures(bench, timeline)
    print(f"{'phase':<18}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'load':>7}")
    for phase, xs in sorted(bench.lat.items()):
        w = windows.get("storm" if phase == "enroll" else phase.rsplit(" ", 1)[-1], {})
        print(f"{phase:<18}{len(xs):>9}{pct(xs, 50) * 1000:>9.1f}{pct(xs, 95) * 1000:>9.1f}"
              f"{pct(xs, 99) * 1000:>9.1f}{max(xs) * 1000:>9.1f}{w.get('load', float('nan')):>7.1f}")
    print("(load: the machine's mean 1-min load average while the phase ran; latency is each answered request's "
          "own attempt, from opening its connection to the last byte of the answer; an attempt that met no "
          "server is not timed, it is counted under 'retried requests' and the node tries again 1-2 s later; "
          "nodes whose turn came while the server was down wait for it and are then sent at once)")
    if windows:
        print(f"{'window':<10}{'wall s':>8}{'load':>7}{'requests':>10}{'serving CPU s':>15}{'ms/request':>12}"
              f"{'worker CPU s':>14}")
        for name, w in windows.items():
            print(f"{name:<10}{w['wall']:>8.1f}{w['load']:>7.1f}{w['requests']:>10}{w['server_cpu']:>15.1f}"
                  f"{w['ms_per_request']:>12.2f}{w['worker_cpu']:>14.1f}")
        print("(CPU from /proc every 2 s; in the round with the kill, the killed process's last 2 s may be missing)")
    if bench.restart_seconds is not None:
        print(f"restart after SIGKILL: port accepting again {bench.restart_seconds:.1f} s after the kill")
    print(f"target: p99 < 250 ms; enrolment storm {args.nodes} nodes in {args.storm_seconds:g} s "
          f"(took {info['storm_seconds']:.1f} s)")
    served = sum(len(xs) for xs in bench.lat.values())
    srv_cpu = sum(v for (k, _), v in cpu.items() if k == "server")
    wrk_cpu = sum(v for (k, _), v in cpu.items() if k == "worker")
    if served:
        print(f"CPU time: serving process {srv_cpu:.1f} s for {served} answered requests "
              f"({srv_cpu / served * 1000:.2f} ms a request, every phase together); worker processes {wrk_cpu:.1f} s "
              f"(applying batches, evaluating nodes); wall {wall:.0f} s")
    if bench.errors:
        print("retried requests: " + ", ".join(f"{k} x{v}" for k, v in sorted(bench.errors.items())))
    if rss:
        third = max(1, len(rss) // 3)
        print(f"server RSS MiB: first third max {max(r for _, r in rss[:third]) / 1024:.0f}, "
              f"last third max {max(r for _, r in rss[-third:]) / 1024:.0f}, peak {max(r for _, r in rss) / 1024:.0f}")
    print(f"batches: acknowledged {counts['acknowledged']}, found in the database {counts['acknowledged'] - counts['lost']}, "
          f"lost {counts['lost']} (SIGKILL in round {info['killed_in_round']})")
    print(f"nodes: {counts['nodes']} enrolled, {counts['evaluation_pending']} still waiting for evaluation at the end")
    print(f"work directory: {work}")
    if pg is not None:
        pg.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
