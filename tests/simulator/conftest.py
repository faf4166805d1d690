"""Fixtures of the demo-fleet tests: the real series loaded once per session (cache in a temp folder)."""
from __future__ import annotations

import pytest

from core.settings import REPO_ROOT
from demo.series import DemoData


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> DemoData:
    """Return the real demo series of the repository, cached in a session temp folder."""
    return DemoData(REPO_ROOT / "demo_data", tmp_path_factory.mktemp("demo_cache"))
