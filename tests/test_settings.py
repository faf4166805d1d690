"""Settings: typed, prefixed, and a bad value names the variable."""
from __future__ import annotations

import pytest

from core.settings import SettingsError, load_settings


def test_bad_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("FLEETLIGHT_PORT", "eighty")
    with pytest.raises(SettingsError, match="FLEETLIGHT_PORT"):
        load_settings()


def test_bad_base_urls_json(monkeypatch):
    monkeypatch.setenv("FLEETLIGHT_PROVIDER_BASE_URLS", "{not json")
    with pytest.raises(SettingsError, match="FLEETLIGHT_PROVIDER_BASE_URLS"):
        load_settings()


def test_defaults_are_offline_sqlite(tmp_path):
    s = load_settings(instance_dir=tmp_path)
    assert s.resolved_database_url().startswith("sqlite:///")
    assert s.openweathermap_api_key is None
    assert s.port == 8050 and s.host == "127.0.0.1"
    assert "secret" not in repr(s.resolved_secret_key())
