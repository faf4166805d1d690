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


def test_bad_setting_stops_start_up_with_its_name(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "FLEETLIGHT_SIMULATOR_INTERVAL_S": "fast", "FLEETLIGHT_INSTANCE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "app.py"], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "FLEETLIGHT_SIMULATOR_INTERVAL_S" in result.stderr
    assert "Traceback" not in result.stderr
