"""Date arithmetic for restrictions and obligations.

Everything takes the dates it needs; nothing here reads the clock.

Business days are Monday to Friday except public holidays, from the maintained ``holidays``
library: US federal holidays (with their observed days: 2026-07-03 for Independence Day on a
Saturday) for US restrictions, federal and state alike, and the national public holidays of the
restriction's country elsewhere; a jurisdiction the library does not know (``EU``) skips
weekends only.  A window counts from the day after its start: 1 business day from Friday
2024-01-12 ends on Tuesday 2024-01-16, Monday being Martin Luther King Jr. Day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from banscan.registry.schema import Obligation, Restriction


_ONE = dt.timedelta(days=1)
US_FEDERAL = "US"


@lru_cache(maxsize=64)
def holiday_calendar(jurisdiction: str | None = US_FEDERAL) -> Container[dt.date] | None:
    """The public holidays of a jurisdiction (``US`` and ``US-*``: US federal holidays), or None."""
    if not jurisdiction:
        return None
    import holidays

    country = jurisdiction.split("-", 1)[0].upper()
    try:
        return holidays.country_holidays(country)  # type: ignore[no-any-return]
    except NotImplementedError:
        return None


def is_business_day(d: dt.date, calendar: Container[dt.date] | None) -> bool:
    return d.weekday() < 5 and (calendar is None or d not in calendar)


def add_business_days(start: dt.date, days: int, jurisdiction: str | None = US_FEDERAL) -> dt.date:
    """``start`` plus ``days`` business days (Mon-Fri without the jurisdiction's public holidays;
    US federal by default; ``None``: weekends only).  0 days: ``start`` itself."""
    cal = holiday_calendar(jurisdiction)
    d = start
    left = days
    while left > 0:
        d += _ONE
        if is_business_day(d, cal):
            left -= 1
    return d


def add_days(start: dt.date, days: int, business: bool, jurisdiction: str | None = US_FEDERAL) -> dt.date:
    return add_business_days(start, days, jurisdiction) if business else start + dt.timedelta(days=days)


def restriction_effective(r: Restriction) -> dt.date:
    """The day a restriction starts to bind (its ``effective`` date, else its ``adopted`` date)."""
    return r.effective or r.adopted


def obligation_start(r: Restriction, o: Obligation) -> dt.date:
    """First day an obligation applies: its own date, adopted + offset, else the restriction's effective date."""
    if o.effective is not None:
        return o.effective
    if o.effective_offset_days is not None:
        return r.adopted + dt.timedelta(days=o.effective_offset_days)
    return restriction_effective(r)


def obligation_due(r: Restriction, o: Obligation) -> dt.date | None:
    """The fixed deadline of an obligation (``due`` or adopted + ``due_offset_days``), if any."""
    if o.due is not None:
        return o.due
    if o.due_offset_days is not None:
        return r.adopted + dt.timedelta(days=o.due_offset_days)
    return None


def obligation_active(r: Restriction, o: Obligation, as_of: dt.date) -> bool:
    """True from the obligation's start until the day before its ``until`` date."""
    return obligation_start(r, o) <= as_of and (o.until is None or as_of < o.until)


def window_deadline(r: Restriction, o: Obligation, identified: dt.date) -> dt.date | None:
    """Deadline of a report window, counted from the day the product was identified (the store
    passes the day it was first seen), in the restriction's jurisdiction's business days.

    A product identified before the obligation applied is counted from the obligation's start.
    """
    if o.window is None:
        return None
    start = max(identified, obligation_start(r, o))
    return add_days(start, o.window.days, o.window.business, r.jurisdiction)
