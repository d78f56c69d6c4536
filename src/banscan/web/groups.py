"""Asset groups, set by administrators: an asset belongs to a group when its name matches one of the
group's shell-style patterns (``ws-*``, ``*.branch.example``; case-insensitive) or when it is
listed as a member.  Findings are filtered and decided by group; changes are audited."""

from __future__ import annotations

import datetime as dt
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine

from banscan.errors import ConfigError
from banscan.store import db
from banscan.store.web_tables import web_asset_group_members as members_t
from banscan.store.web_tables import web_asset_groups as groups_t

MAX_LINES = 10_000


def list_groups(engine: Engine) -> list[dict[str, Any]]:
    with db.reading(engine) as conn:
        groups = conn.execute(select(groups_t).order_by(groups_t.c.name)).all()
        members = conn.execute(select(members_t).order_by(members_t.c.group_name, members_t.c.asset)).all()
    by: dict[str, list[str]] = {}
    for m in members:
        by.setdefault(m.group_name, []).append(m.asset)
    return [{"name": g.name, "patterns": [p for p in g.patterns.split("\n") if p], "members": by.get(g.name, []),
             "created_at": g.created_at, "created_by": g.created_by} for g in groups]


class Membership:
    """Which groups an asset belongs to (memoised per asset)."""

    def __init__(self, groups: list[dict[str, Any]]) -> None:
        self.groups = [(g["name"], [p.lower() for p in g["patterns"]], set(g["members"])) for g in groups]
        self._memo: dict[str, list[str]] = {}

    def of(self, asset: str) -> list[str]:
        hit = self._memo.get(asset)
        if hit is None:
            low = asset.lower()
            hit = self._memo[asset] = [name for name, pats, mem in self.groups
                                       if asset in mem or any(fnmatchcase(low, p) for p in pats)]
        return hit

    def names(self) -> list[str]:
        return [g[0] for g in self.groups]


def _lines(text: str, what: str) -> list[str]:
    out = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    if len(out) > MAX_LINES:
        raise ConfigError(f"{what}: more than {MAX_LINES} lines")
    if any(len(line) > 1000 for line in out):
        raise ConfigError(f"{what}: a line is longer than 1000 characters")
    return list(dict.fromkeys(out))


def save_group(engine: Engine, name: str, patterns: str, members: str, actor: str) -> None:
    """Create or replace the group ``name`` (audited with its old and new definition)."""
    name = name.strip()
    if not name or len(name) > 200 or not name.isprintable():
        raise ConfigError("name: a group name is 1 to 200 printable characters")
    pats, mems = _lines(patterns, "patterns"), _lines(members, "members")
    if not pats and not mems:
        raise ConfigError("a group needs at least one name pattern or member")

    def _tx(conn: Connection) -> None:
        from banscan.serve import audit

        old = conn.execute(select(groups_t).where(groups_t.c.name == name)).first()
        old_members = [r.asset for r in conn.execute(select(members_t.c.asset).where(members_t.c.group_name == name))]
        if old is not None:
            conn.execute(delete(members_t).where(members_t.c.group_name == name))
            conn.execute(delete(groups_t).where(groups_t.c.name == name))
        conn.execute(groups_t.insert().values(name=name, patterns="\n".join(pats),
                                              created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                                              created_by=actor))
        if mems:
            conn.execute(members_t.insert(), [{"group_name": name, "asset": m} for m in mems])
        audit.append(conn, actor=actor, action="asset-group-saved", target=f"group:{name}",
                     old=None if old is None else {"patterns": old.patterns.split("\n"), "members": old_members},
                     new={"patterns": pats, "members": mems})

    db.write(engine, _tx)


def delete_group(engine: Engine, name: str, actor: str) -> bool:
    def _tx(conn: Connection) -> bool:
        from banscan.serve import audit

        old = conn.execute(select(groups_t).where(groups_t.c.name == name)).first()
        if old is None:
            return False
        conn.execute(delete(members_t).where(members_t.c.group_name == name))
        conn.execute(delete(groups_t).where(groups_t.c.name == name))
        audit.append(conn, actor=actor, action="asset-group-deleted", target=f"group:{name}",
                     old={"patterns": old.patterns.split("\n")})
        return True

    return db.write(engine, _tx)
