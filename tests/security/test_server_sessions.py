"""Server-side sessions: a cookie copied before sign-out (or a password change, a disabled account,
a revoked wall token, a timeout) no longer works after it, in this process and after a restart."""
from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from sqlalchemy import select, update

from data.models import AuthSession, Role, utcnow
from tests.security.conftest import PASSWORD, csrf_header, make_user, sign_in
from tests.support.live_services import free_port, start_app_process, stop_process


def _copy(dash_app, client):
    """Return a second test client holding a copy of ``client``'s session cookie (the attacker's)."""
    thief = dash_app.server.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_cookie_copied_before_logout_fails_after_it(dash_app, signed_in, services):
    alice = signed_in("analyst")
    thief = _copy(dash_app, alice)
    assert thief.get("/api/v1/sites").status_code == 200
    assert alice.post("/logout", headers=csrf_header(alice)).status_code == 302
    assert thief.get("/api/v1/sites").status_code == 401
    got = thief.get("/")
    assert got.status_code == 302 and got.headers["Location"].startswith("/login")
    with services.db.session() as s:
        reasons = [r.end_reason for r in s.execute(select(AuthSession)).scalars()]
    assert reasons == ["signed out"]


def test_other_sessions_of_the_user_survive_a_logout(dash_app, services):
    make_user(services.db, "viewer", "two-browsers")
    laptop, phone = dash_app.server.test_client(), dash_app.server.test_client()
    sign_in(laptop, "two-browsers")
    sign_in(phone, "two-browsers")
    laptop.post("/logout", headers=csrf_header(laptop))
    assert laptop.get("/api/v1/sites").status_code == 401
    assert phone.get("/api/v1/sites").status_code == 200


def test_password_change_and_disable_end_every_session(dash_app, signed_in, services):
    from security.users import update_user

    for change in ({"password": "another-horse-battery-77"}, {"is_active": False}):
        client = signed_in("viewer")
        assert client.get("/api/v1/sites").status_code == 200
        with services.db.session() as s:
            row = s.execute(select(AuthSession).where(AuthSession.ended_at.is_(None))).scalars().all()[-1]
            user_id = row.user_id
        update_user(services.db, user_id, "test", **change)
        assert client.get("/api/v1/sites").status_code == 401, change
        with services.db.session() as s:
            assert s.get(AuthSession, row.id).end_reason == ("password changed" if "password" in change
                                                              else "user disabled")


def test_idle_timeout_is_kept_server_side(dash_app, signed_in, services):
    client = signed_in("viewer")
    thief = _copy(dash_app, client)
    idle = services.settings.session_idle_minutes
    with services.db.session() as s:  # the server saw no activity for longer than the idle timeout
        s.execute(update(AuthSession).values(seen_at=utcnow() - dt.timedelta(minutes=idle + 1)))
    assert thief.get("/api/v1/sites").status_code == 401
    with services.db.session() as s:
        assert s.execute(select(AuthSession.end_reason)).scalar_one() == "idle timeout"


def test_revoked_wall_token_ends_its_sessions(wall_client, services):
    from security.tokens import revoke_token

    client, token_id = wall_client
    assert client.get("/wall").status_code == 200
    revoke_token(services.db, token_id)
    with services.db.session() as s:
        assert s.execute(select(AuthSession.end_reason)).scalar_one() == "token revoked"
    assert client.get("/wall").status_code == 302


def test_a_cookie_without_a_server_session_is_refused(dash_app, signed_in, services):
    client = signed_in("viewer")
    with services.db.session() as s:
        s.execute(AuthSession.__table__.delete())
    assert client.get("/api/v1/sites").status_code == 401


@pytest.mark.slow
def test_logout_holds_across_a_restart(tmp_path, database_factory):
    from data.db import Database
    from data.migrate import upgrade_to_head
    from security.users import create_user

    db_url = f"sqlite:///{tmp_path / 'restart.db'}"
    db = Database(db_url)
    upgrade_to_head(db)
    create_user(db, "restart-user", PASSWORD, Role.viewer)
    db.dispose()
    env = {"FLEETLIGHT_DATABASE_URL": db_url, "FLEETLIGHT_SIMULATOR_ENABLED": "false",
           "FLEETLIGHT_SEED_ON_START": "false", "FLEETLIGHT_SECRET_KEY": "restart-test-secret-key",
           "FLEETLIGHT_LOG_LEVEL": "WARNING", "FLEETLIGHT_PROVIDER_POLLING_ENABLED": "false",
           "FLEETLIGHT_INSTANCE_DIR": str(tmp_path / "inst")}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_app_process(env, port, tmp_path / "app1.log")
    try:
        with httpx.Client(base_url=base, follow_redirects=False) as browser:
            form = browser.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            assert browser.post("/login", data={"username": "restart-user", "password": PASSWORD,
                                                "csrf_token": token, "next": "/"}).status_code == 302
            copied = browser.cookies["session"]
            kept = httpx.get(base + "/api/v1/sites", cookies={"session": copied})
            assert kept.status_code == 200
            csrf = browser.cookies["_csrf_token"]
            assert browser.post("/logout", headers={"X-CSRFToken": csrf, "Origin": base}).status_code == 302
    finally:
        stop_process(proc)
    proc = start_app_process(env, port, tmp_path / "app2.log")
    try:
        assert httpx.get(base + "/api/v1/sites", cookies={"session": copied}).status_code == 401
    finally:
        stop_process(proc)
