"""Times in the reader's zone, dates as the law gives them.

A timestamp (stored in UTC) is shown in the user's zone: the one set on the account page, else the
one the browser reports (``app.js`` puts ``Intl.DateTimeFormat().resolvedOptions().timeZone`` in the
``banscan_tz`` cookie), else UTC; the ``<time datetime>`` keeps the UTC instant.  Bare dates
(deadlines, effective dates, due dates) are never converted: a law's date is the same day everywhere.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup, escape

TZ_COOKIE = "banscan_tz"


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def valid_zone(name: str | None) -> bool:
    return bool(name) and len(str(name)) <= 64 and _zone(str(name)) is not None


def zone_of(request: Any, sess: Any) -> str:
    chosen = getattr(getattr(sess, "user", None), "time_zone", None)
    if chosen and valid_zone(chosen):
        return str(chosen)
    browser = request.cookies.get(TZ_COOKIE)
    return browser if browser and valid_zone(browser) else "UTC"


def when(value: Any, tz: str = "UTC") -> Markup:
    """``<time datetime="UTC">local time and zone</time>``; a bare date or unreadable value as given."""
    if value is None or value == "":
        return Markup("")
    text = str(value)
    if len(text) <= 10:
        return Markup('<time datetime="{0}">{0}</time>').format(text)
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return Markup("{0}").format(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    zone = _zone(tz) or dt.UTC
    local = t.astimezone(zone)
    utc = t.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return Markup('<time datetime="{0}" title="{0} UTC">{1} {2}</time>').format(
        utc, local.strftime("%Y-%m-%d %H:%M"), escape(local.tzname() or tz))
