"""Date arithmetic for restrictions and obligations.

Everything takes the dates it needs; nothing here reads the clock.

Business days are Monday to Friday.  There is **no holiday calendar**: a window of "1 business
day" from a Friday ends on the following Monday even when that Monday is a public holiday, so a
computed report deadline can be a day earlier than the legal one, never later.
"""

from __future__ import annotations

import datetime as dt

from banscan.registry.schema import Obligation, Restriction

_ONE = dt.timedelta(days=1)


def add_business_days(start: dt.date, days: int) -> dt.date:
    """``start`` plus ``days`` working days (Mon-Fri, no holidays).  0 days: ``start`` itself."""
    d = start
    left = days
    while left > 0:
        d += _ONE
        if d.weekday() < 5:
            left -= 1
    return d


def add_days(start: dt.date, days: int, business: bool) -> dt.date:
    return add_business_days(start, days) if business else start + dt.timedelta(days=days)


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
    """Deadline of a report window, counted from the day the product was identified.

    A product identified before the obligation applied is counted from the obligation's start.
    """
    if o.window is None:
        return None
    start = max(identified, obligation_start(r, o))
    return add_days(start, o.window.days, o.window.business)
