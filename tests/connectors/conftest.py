"""Fixtures of the connector tests (shared with the other provider tests)."""
from tests.support.provider_fixtures import make_gateway, provider_server, server, sleeps, store_db  # noqa: F401
