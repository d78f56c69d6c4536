"""The lifecycle's one transition function."""

from __future__ import annotations

import datetime as dt

import pytest

from banscan.store.lifecycle import effective_status, transition


@pytest.mark.parametrize(("status", "cause", "expected"), [
    (None, "seen", ("open", "opened")),
    ("resolved", "seen", ("open", "reopened")),
    ("open", "seen", ("open", None)),
    ("planned", "seen", ("planned", None)),
    ("waived", "seen", ("waived", None)),
    ("false-positive", "seen", ("false-positive", None)),
    ("open", "not-seen", ("resolved", "resolved")),
    ("planned", "not-seen", ("resolved", "resolved")),
    ("waived", "not-seen", ("resolved", "resolved")),
    ("false-positive", "not-seen", ("false-positive", None)),
    ("resolved", "not-seen", ("resolved", None)),
    ("waived", "waiver-expired", ("open", "waiver-expired")),
    ("open", "waiver-expired", ("open", None)),
    ("resolved", "decide:open", ("open", "reopened-by-hand")),
    ("open", "decide:planned", ("planned", "planned")),
    ("open", "decide:waived", ("waived", "waived")),
    ("resolved", "decide:false-positive", ("false-positive", "false-positive")),
])
def test_transitions(status, cause, expected):
    assert transition(status, cause) == expected


def test_resolved_cannot_be_set_by_hand_and_unknown_causes_fail():
    with pytest.raises(ValueError):
        transition("open", "decide:resolved")
    with pytest.raises(ValueError):
        transition("open", "vanished")


def test_a_waiver_holds_through_its_expiry_day():
    day = dt.date(2026, 3, 31)
    assert effective_status("waived", day, day) == "waived"
    assert effective_status("waived", day, day + dt.timedelta(days=1)) == "open"
    assert effective_status("planned", day, day + dt.timedelta(days=1)) == "planned"
