"""Fixtures of the drift monitor's tests: the trained market, and a copy of it per test."""

from tests._drift_world import trained, world  # noqa: F401 (fixtures)
