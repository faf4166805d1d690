"""Sign-in, sign-out, lock-out, rate limit, CSRF, timeouts, cookies and security headers."""
from __future__ import annotations

import time

from sqlalchemy import select

from data.models import Event, Role
from tests.security.conftest import PASSWORD, csrf_from_form, csrf_header, make_user, sign_in


def _events(db, kind):
    with db.session() as s:
        return list(s.execute(select(Event).where(Event.kind == kind)).scalars())


def test_anonymous_page_redirects_to_sign_in(client):
    response = client.get("/sites/t-sol")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fsites%2Ft-sol"
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json={"output": "x.children"}).status_code == 401


def test_sign_in_and_out_are_audited(client, services):
    make_user(services.db, "viewer", "vera")
    response = sign_in(client, "vera", next_url="/sites/t-sol")
    assert response.status_code == 302 and response.headers["Location"] == "/sites/t-sol"
    assert client.get("/").status_code == 200
    events = _events(services.db, "user.signed_in")
    assert [e.actor for e in events] == ["vera"]
    # sign-out is a CSRF-protected POST
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", headers=csrf_header(client)).status_code == 302
    assert client.get("/").status_code == 302
    assert [e.actor for e in _events(services.db, "user.signed_out")] == ["vera"]


def test_open_redirect_is_refused(client, services):
    make_user(services.db, "viewer", "vera")
    response = sign_in(client, "vera", next_url="//evil.example/x")
    assert response.headers["Location"] == "/"


def test_wrong_password_is_audited_and_locks_after_max_failures(client, services):
    make_user(services.db, "operator", "olga")
    max_failures = services.settings.login_max_failures
    for _ in range(max_failures):
        assert sign_in(client, "olga", "wrong-password-123").status_code == 401
    failed = _events(services.db, "user.sign_in_failed")
    assert len(failed) == max_failures and all("password" not in str(e.payload).lower().replace("bad password", "")
                                                for e in failed)
    assert len(_events(services.db, "user.locked")) == 1
    # locked: even the right password is refused, with the same message
    response = sign_in(client, "olga", PASSWORD)
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)
    from security.users import find_user, update_user

    user = find_user(services.db, "olga")
    assert user.is_locked
    update_user(services.db, user.id, "admin", unlock=True)
    assert sign_in(client, "olga", PASSWORD).status_code == 302


def test_unknown_user_fails_like_a_wrong_password(client, services):
    response = sign_in(client, "nobody", PASSWORD)
    assert response.status_code == 401
    assert _events(services.db, "user.sign_in_failed")[0].payload["reason"] == "unknown user"


def test_login_form_needs_its_csrf_token(client, services):
    make_user(services.db, "viewer", "vera")
    client.get("/login")
    response = client.post("/login", data={"username": "vera", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not signed in


def test_cross_origin_post_is_refused(client, services):
    make_user(services.db, "viewer", "vera")
    sign_in(client, "vera")
    response = client.post("/_dash-update-component", json={"output": "shell-nav-collapse.is_open"},
                           headers={**csrf_header(client), "Origin": "https://evil.example"})
    assert response.status_code == 403


def test_dash_callback_needs_the_csrf_header(client, services):
    make_user(services.db, "viewer", "vera")
    sign_in(client, "vera")
    body = {"output": "shell-nav-collapse.is_open", "outputs": {"id": "shell-nav-collapse", "property": "is_open"},
            "inputs": [{"id": "shell-nav-toggler", "property": "n_clicks", "value": 1}],
            "state": [{"id": "shell-nav-collapse", "property": "is_open", "value": False}],
            "changedPropIds": ["shell-nav-toggler.n_clicks"]}
    assert client.post("/_dash-update-component", json=body).status_code == 403
    ok = client.post("/_dash-update-component", json=body, headers=csrf_header(client))
    assert ok.status_code == 200, ok.get_data(as_text=True)[:200]


def test_rate_limit_on_sign_in(dash_app, client, services):
    dash_app.server.config["FLEETLIGHT_RATE_LIMITS_IN_TESTS"] = True
    limiter = dash_app.server.extensions["fleetlight_limiter"]
    limiter.reset()
    try:
        page = client.get("/login")
        token = csrf_from_form(page.get_data(as_text=True))
        codes = [client.post("/login", data={"username": f"u{i}", "password": "x" * 12, "csrf_token": token}).status_code
                 for i in range(12)]
    finally:
        dash_app.server.config["FLEETLIGHT_RATE_LIMITS_IN_TESTS"] = False
        limiter.reset()
    assert codes[:10] == [401] * 10
    assert codes[10:] == [429, 429]


def test_idle_and_absolute_timeouts(client, services):
    make_user(services.db, "viewer", "vera")
    sign_in(client, "vera")
    with client.session_transaction() as sess:
        sess["fl_seen_at"] = time.time() - services.settings.session_idle_minutes * 60 - 5
    assert client.get("/").status_code == 302
    assert _events(services.db, "user.signed_out")[0].payload == {"reason": "idle timeout"}
    sign_in(client, "vera")
    with client.session_transaction() as sess:
        sess["fl_auth_at"] = time.time() - services.settings.session_absolute_hours * 3600 - 5
    assert client.get("/").status_code == 302
    assert _events(services.db, "user.signed_out")[1].payload == {"reason": "absolute timeout"}


def test_interval_polls_do_not_keep_a_session_alive(client, services):
    make_user(services.db, "viewer", "vera")
    sign_in(client, "vera")
    stale = time.time() - 120
    with client.session_transaction() as sess:
        sess["fl_seen_at"] = stale
    body = {"output": "shell-nav-collapse.is_open", "outputs": {"id": "shell-nav-collapse", "property": "is_open"},
            "inputs": [{"id": "shell-nav-toggler", "property": "n_clicks", "value": None}],
            "state": [{"id": "shell-nav-collapse", "property": "is_open", "value": False}],
            "changedPropIds": ["ov-refresh.n_intervals"]}
    client.post("/_dash-update-component", json=body, headers=csrf_header(client))
    with client.session_transaction() as sess:
        assert sess["fl_seen_at"] == stale
    client.get("/")
    with client.session_transaction() as sess:
        assert sess["fl_seen_at"] > stale


def test_password_change_ends_existing_sessions(client, services):
    from security.users import find_user, update_user

    make_user(services.db, "viewer", "vera")
    sign_in(client, "vera")
    assert client.get("/").status_code == 200
    update_user(services.db, find_user(services.db, "vera").id, "admin", password="another-good-passw0rd")
    assert client.get("/").status_code == 302


def test_deactivated_user_is_signed_out_at_once(client, services):
    from security.users import find_user, update_user

    make_user(services.db, "admin", "root-admin")
    make_user(services.db, "viewer", "vera")
    sign_in(client, "vera")
    update_user(services.db, find_user(services.db, "vera").id, "root-admin", is_active=False)
    assert client.get("/").status_code == 302


def test_cookie_flags_and_security_headers(dash_app, services):
    make_user(services.db, "viewer", "vera")
    client = dash_app.server.test_client()
    page = client.get("/login", base_url="https://fleet.example")
    token = csrf_from_form(page.get_data(as_text=True))
    response = client.post("/login", base_url="https://fleet.example", headers={"Origin": "https://fleet.example"},
                           data={"username": "vera", "password": PASSWORD, "csrf_token": token})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "Secure" in session_cookie and "SameSite=Lax" in session_cookie
    csrf_cookie = next(c for c in cookies if c.startswith("_csrf_token="))
    assert "HttpOnly" not in csrf_cookie and "SameSite=Strict" in csrf_cookie and "Secure" in csrf_cookie
    headers = client.get("/", base_url="https://fleet.example").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split(
        "script-src")[1].split(";")[0]
    assert "'sha256-" in csp  # Dash's inline scripts are allowed by hash only
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    plain = dash_app.server.test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers


def test_role_is_read_from_the_database_on_every_request(client, services):
    from security.users import find_user, update_user

    make_user(services.db, "admin", "root-admin")
    make_user(services.db, "admin", "second-admin")
    sign_in(client, "second-admin")
    assert client.get("/api/v1/admin/users").status_code == 200
    update_user(services.db, find_user(services.db, "second-admin").id, "root-admin", role=Role.viewer)
    assert client.get("/api/v1/admin/users").status_code == 403
    changes = _events(services.db, "user.role_changed")
    assert changes[0].payload["from"] == "admin" and changes[0].payload["to"] == "viewer"
