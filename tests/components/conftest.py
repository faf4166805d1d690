"""Fixtures of the component tests: the live hub of the live tests."""
from tests.live.conftest import live_hub

__all__ = ["live_hub"]
