"""The start-up message: the URL, and the first-administrator hint until one exists."""
from __future__ import annotations

from bootstrap.banner import CREATE_ADMIN, serving_url, startup_lines
from core.settings import load_settings
from data.models import Role
from security.users import create_user


def test_startup_names_the_url_and_the_first_admin_command(settings, db):
    lines = startup_lines(settings, db)
    assert lines[0] == f"Fleetlight is serving at http://{settings.host}:{settings.port}"
    assert CREATE_ADMIN in lines[1] and lines[1].startswith("No administrator yet")
    create_user(db, "viewer1", "a-long-passphrase-1", Role.viewer)
    assert len(startup_lines(settings, db)) == 2  # a viewer is not an administrator
    create_user(db, "root", "a-long-passphrase-1", Role.admin)
    assert startup_lines(settings, db) == lines[:1]


def test_wildcard_host_is_reached_on_loopback(tmp_path):
    base = {"instance_dir": tmp_path, "secret_key": "test-secret-key-not-for-production"}
    assert serving_url(load_settings(host="0.0.0.0", port=8080, **base)) == "http://127.0.0.1:8080"
    assert serving_url(load_settings(host="::1", port=8050, **base)) == "http://[::1]:8050"
