"""Fixtures of the page tests: the live hub (the pages' KPI texts come from its state, as the pushes do)."""
from tests.live.conftest import live_hub

__all__ = ["live_hub"]
