"""Fixtures of the alerts tests: the live tests' hub (the /alerts page is fed by its alerts room)."""
from tests.live.conftest import live_hub  # noqa: F401
