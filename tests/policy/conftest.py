"""Fixtures for the policy tests."""

from __future__ import annotations

import pytest
from _policy_helpers import load_registry

from banscan.match import Matcher
from banscan.registry import Registry


@pytest.fixture(scope="session")
def reg() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def matcher(reg: Registry) -> Matcher:
    return Matcher(reg)
