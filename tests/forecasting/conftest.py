"""Real demo series shared by the forecasting tests (loaded once per session)."""
from __future__ import annotations

import pytest

from forecasting.datasets import Dataset, load_la_haute_borne, load_pvdaq50


@pytest.fixture(scope="session")
def pv_data() -> Dataset:
    """PVDAQ system 50, hourly, with PSM3 GHI."""
    return load_pvdaq50()


@pytest.fixture(scope="session")
def wind_data() -> Dataset:
    """La Haute Borne, hourly, with ERA5 100 m wind."""
    return load_la_haute_borne()
