"""Fetch the package metadata of the candidate rows of software.tsv into metadata.tsv.

    python bench/accuracy/fetch_metadata.py            # resumes: rows already in metadata.tsv are kept
    python bench/accuracy/fetch_metadata.py --rate 2   # requests started per second (default 3)

For every PyPI and npm row of software.tsv whose label note starts with ``candidate`` (the rows
that name a family, a brand or a product; the random negatives are not fetched), the metadata the
registry publishes for the latest release is read:

* PyPI: ``https://pypi.org/pypi/<name>/json`` ``info``: ``home_page``, ``download_url``,
  ``project_urls`` (label -> URL), ``author_email``, ``maintainer_email``;
* npm: ``https://registry.npmjs.org/<name>/latest`` (scoped names as ``@scope%2Fname``), the
  manifest of the latest version, i.e. its package.json: ``homepage``, ``repository`` (its URL),
  ``author`` (its e-mail).

Columns of metadata.tsv: ``ecosystem``, ``name``, ``status`` (``ok``, ``not-found`` or
``error: ...``), ``fetched`` (UTC date), ``home_page``, ``download_url``, ``project_urls`` (a JSON
object, as the registry gives it), ``repository``, ``author_email``, ``maintainer_email``.  Values
are as published, with tabs and line breaks replaced by spaces.  Rows are appended as they are
fetched (so an interrupted run resumes) and the file is sorted at the end.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
SOFTWARE = HERE / "software.tsv"
OUT = HERE / "metadata.tsv"
COLUMNS = ["ecosystem", "name", "status", "fetched", "home_page", "download_url", "project_urls", "repository",
           "author_email", "maintainer_email"]
USER_AGENT = "banscan-bench-accuracy/1 (package metadata for a labelled evaluation set)"


def cell(v: Any) -> str:
    if v is None:
        return ""
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)
    return " ".join(s.replace("\t", " ").split())


def get_json(url: str, tries: int = 4) -> tuple[str, Any]:
    delay = 2.0
    for attempt in range(tries):
        req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return "ok", json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return "not-found", None
            if e.code in (429, 500, 502, 503, 504) and attempt + 1 < tries:
                time.sleep(delay)
                delay *= 2
                continue
            return f"error: HTTP {e.code}", None
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:
            if attempt + 1 < tries:
                time.sleep(delay)
                delay *= 2
                continue
            return f"error: {type(e).__name__}", None
    return "error: retries", None


def npm_url(name: str) -> str:
    if name.startswith("@") and "/" in name:
        scope, _, rest = name.partition("/")
        return f"https://registry.npmjs.org/{scope}%2F{quote(rest, safe='')}/latest"
    return f"https://registry.npmjs.org/{quote(name, safe='')}/latest"


def person_email(p: Any) -> str:
    """The e-mail of an npm person: ``{"name", "email", "url"}`` or ``"Name <email> (url)"``."""
    if isinstance(p, dict):
        return str(p.get("email") or "")
    if isinstance(p, str) and "<" in p and ">" in p.split("<", 1)[1]:
        return p.split("<", 1)[1].split(">", 1)[0]
    return ""


def fetch(eco: str, name: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(ecosystem=eco, name=name, fetched=dt.datetime.now(dt.UTC).date().isoformat())
    if eco == "pypi":
        status, data = get_json(f"https://pypi.org/pypi/{quote(name, safe='')}/json")
        info = (data or {}).get("info") or {}
        row.update(home_page=cell(info.get("home_page")), download_url=cell(info.get("download_url")),
                   project_urls=cell(info.get("project_urls") or None),
                   author_email=cell(info.get("author_email")), maintainer_email=cell(info.get("maintainer_email")))
    else:
        status, data = get_json(npm_url(name))
        d = data or {}
        repo = d.get("repository")
        repo_url = repo.get("url") if isinstance(repo, dict) else repo
        row.update(home_page=cell(d.get("homepage")), repository=cell(repo_url),
                   author_email=cell(person_email(d.get("author"))))
    row["status"] = status
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=3.0, help="requests per second (default 3)")
    ap.add_argument("--workers", type=int, default=4, help="requests in flight at most (default 4)")
    ap.add_argument("--limit", type=int, default=0, help="fetch at most this many rows (0: all)")
    ap.add_argument("--retry-errors", action="store_true", help="fetch again the rows whose status is an error")
    a = ap.parse_args(argv)
    with SOFTWARE.open(encoding="utf-8", newline="") as fh:
        wanted = [(r["ecosystem"], r["name"]) for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
                  if r["ecosystem"] in ("pypi", "npm") and r["label_note"].startswith("candidate")]
    have: dict[tuple[str, str], dict[str, str]] = {}
    if OUT.exists():
        with OUT.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                if a.retry_errors and r["status"].startswith("error"):
                    continue
                have[(r["ecosystem"], r["name"])] = r
    todo = [k for k in dict.fromkeys(wanted) if k not in have]
    if a.limit:
        todo = todo[:a.limit]
    print(f"{len(wanted)} candidate rows, {len(have)} already fetched, {len(todo)} to fetch", flush=True)
    new = not OUT.exists() or not have
    with OUT.open("w" if new else "a", encoding="utf-8", newline="") as fh:
        if new:
            fh.write("\t".join(COLUMNS) + "\n")
        elif a.retry_errors:  # rewrite without the error rows, then append
            fh.seek(0)
            fh.truncate()
            fh.write("\t".join(COLUMNS) + "\n")
            for r in have.values():
                fh.write("\t".join(r[c] for c in COLUMNS) + "\n")
        # requests start at most `rate` per second; a few run at once so that latency does not slow the rate
        lock = threading.Lock()
        done = 0

        def one(key: tuple[str, str]) -> None:
            nonlocal done
            row = fetch(*key)
            with lock:
                fh.write("\t".join(row[c] for c in COLUMNS) + "\n")
                fh.flush()
                have[key] = row
                done += 1
                if done % 100 == 0:
                    print(f"  {done}/{len(todo)}", flush=True)

        with ThreadPoolExecutor(max_workers=a.workers) as pool:
            futures = []
            for key in todo:
                futures.append(pool.submit(one, key))
                time.sleep(1.0 / a.rate)
            for f in futures:
                f.result()
    rows = sorted(have.values(), key=lambda r: (r["ecosystem"], r["name"]))
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        fh.write("\t".join(COLUMNS) + "\n")
        for r in rows:
            fh.write("\t".join(r[c] for c in COLUMNS) + "\n")
    status: dict[str, int] = {}
    for r in rows:
        k = r["status"] if not r["status"].startswith("error") else "error"
        status[k] = status.get(k, 0) + 1
    print(f"wrote {OUT}: {len(rows)} rows; " + ", ".join(f"{k} {v}" for k, v in sorted(status.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
