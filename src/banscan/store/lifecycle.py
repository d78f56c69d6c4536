"""The findings lifecycle as one transition function.

``transition(status, cause)`` is the only place that decides a finding's next status; the store
applies what it returns (:meth:`banscan.store.core.Store._transition`) and records the event it
names in ``finding_events``.  ``status`` is ``None`` for a finding not tracked yet.

Causes:

``seen``            a scan (or a re-evaluation for today) sees the finding: a new one opens
                    (event ``opened``), a resolved one reopens (``reopened``); any other status
                    stays (a waiver or false positive keeps suppressing it), without an event.
``not-seen``        a scan covering where it was seen no longer sees it: open, planned and waived
                    findings resolve (``resolved``).
``waiver-expired``  the day after a waiver's expiry: it is open again (``waiver-expired``).
``decide:STATUS``   a person sets ``open`` (``reopened-by-hand``), ``planned``, ``waived`` or
                    ``false-positive`` (events named like the status).

A cause that does not apply to a status (``not-seen`` on a false positive) returns the status
unchanged and no event.
"""

from __future__ import annotations

import datetime as dt

STATUSES = ("open", "planned", "resolved", "waived", "false-positive")
ACTIVE = ("open", "planned")  # what 'banscan findings' shows by default
RESOLVABLE = ("open", "planned", "waived")
DECISIONS = ("open", "planned", "waived", "false-positive")
_DECISION_EVENT = {"open": "reopened-by-hand"}


def transition(status: str | None, cause: str) -> tuple[str, str | None]:
    """(next status, event name or None when nothing changes) for ``cause`` on ``status``."""
    if cause == "seen":
        if status is None:
            return "open", "opened"
        if status == "resolved":
            return "open", "reopened"
        return status, None
    assert status is not None, f"{cause} on a finding that is not tracked"
    if cause == "not-seen":
        return ("resolved", "resolved") if status in RESOLVABLE else (status, None)
    if cause == "waiver-expired":
        return ("open", "waiver-expired") if status == "waived" else (status, None)
    if cause.startswith("decide:"):
        to = cause[len("decide:"):]
        if to not in DECISIONS:
            raise ValueError(f"'{to}' cannot be set by hand")
        return to, _DECISION_EVENT.get(to, to)
    raise ValueError(f"unknown lifecycle cause '{cause}'")


def effective_status(status: str, expires: dt.date | None, today: dt.date) -> str:
    """The status as read on ``today``: a waiver is valid through its expiry date, and from the
    day after it reads as the ``waiver-expired`` transition makes it (the next write records it)."""
    if status == "waived" and expires is not None and today > expires:
        return transition(status, "waiver-expired")[0]
    return status
