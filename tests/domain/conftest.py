"""Fixtures of the domain tests: the live tests' hub and tokens."""
from tests.live.conftest import live_hub, viewer_token  # noqa: F401
