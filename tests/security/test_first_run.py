"""First run: the first administrator is created from this machine, once."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from data.models import Role, User


def _csrf(client, path):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_first_admin_from_loopback_then_closed(client, services):
    login = client.get("/login").get_data(as_text=True)
    assert 'id="login-first-run"' in login
    token = _csrf(client, "/setup")
    weak = client.post("/setup", data={"csrf_token": token, "username": "root", "password": "short", "confirm": "short"})
    assert weak.status_code == 400
    differ = client.post("/setup", data={"csrf_token": token, "username": "root", "password": "a-long-passphrase-1",
                                         "confirm": "a-long-passphrase-2"})
    assert differ.status_code == 400 and "differ" in differ.get_data(as_text=True)
    ok = client.post("/setup", data={"csrf_token": token, "username": "root", "password": "a-long-passphrase-1",
                                      "confirm": "a-long-passphrase-1"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/")
    with services.db.session() as s:
        user = s.execute(select(User)).scalar_one()
        assert user.username == "root" and user.role == Role.admin
    assert client.get("/", follow_redirects=False).status_code == 200  # signed in
    # once an account exists the form is gone
    other = client.application.test_client()
    assert other.get("/setup").status_code == 302
    assert 'id="login-first-run"' not in other.get("/login").get_data(as_text=True)


def test_setup_refused_from_another_machine(client, services):
    response = client.get("/setup", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    posted = client.post("/setup", data={"username": "x", "password": "a-long-passphrase-1", "confirm": "a-long-passphrase-1"},
                         environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert posted.status_code in (302, 400, 403)
    with services.db.session() as s:
        assert s.execute(select(func.count()).select_from(User)).scalar_one() == 0


def test_admin_ids_beyond_32_bits_are_not_found(client, services):
    from security.tokens import create_token

    admin = create_token(services.db, "admin", ["*"], Role.admin)
    for path in ("/api/v1/admin/tokens/7551253944", "/api/v1/admin/tokens/99999999999999"):
        assert client.delete(path, headers={"Authorization": f"Bearer {admin}"}).status_code == 404
    assert client.patch("/api/v1/admin/users/7551253944", json={"role": "viewer"},
                        headers={"Authorization": f"Bearer {admin}"}).status_code == 404
