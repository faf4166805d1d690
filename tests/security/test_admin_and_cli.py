"""Admin API (users, tokens, wall displays, secrets, audit export) and the CLI commands."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from data.models import Event, Role
from tests.security.conftest import csrf_header


def test_create_user_cli_reads_the_password_from_stdin(dash_app, services):
    runner = dash_app.server.test_cli_runner()
    result = runner.invoke(args=["create-user", "--username", "first-admin", "--role", "admin", "--password-stdin"],
                           input="a-long-enough-secret-1\n")
    assert result.exit_code == 0, result.output
    assert "a-long-enough-secret-1" not in result.output
    from security.users import find_user

    assert find_user(services.db, "first-admin").role == Role.admin
    weak = runner.invoke(args=["create-user", "--username", "weak", "--password-stdin"], input="short\n")
    assert weak.exit_code != 0 and "at least 12" in weak.output
    prompted = runner.invoke(args=["create-user", "--username", "prompted", "--role", "operator"],
                             input="prompted-password-1\nprompted-password-1\n")
    assert prompted.exit_code == 0 and "prompted-password-1" not in prompted.output


def test_admin_manages_users_and_tokens_over_the_api(signed_in, services, client):
    admin = signed_in("admin")
    h = csrf_header(admin)
    made = admin.post("/api/v1/admin/users", json={"username": "ops1", "password": "operator-pass-123",
                                                   "role": "operator"}, headers=h)
    assert made.status_code == 201 and "password" not in made.json
    assert admin.post("/api/v1/admin/users", json={"username": "ops1", "password": "x"}, headers=h).status_code == 400
    changed = admin.patch(f"/api/v1/admin/users/{made.json['id']}", json={"role": "manager"}, headers=h)
    assert changed.json["role"] == "manager"
    # the last admin cannot demote themself
    me = next(u for u in admin.get("/api/v1/admin/users").json["users"] if u["role"] == "admin")
    assert admin.patch(f"/api/v1/admin/users/{me['id']}", json={"role": "viewer"}, headers=h).status_code == 409
    # session API calls that change state need the CSRF header
    assert admin.post("/api/v1/admin/tokens", json={"name": "x"}).status_code == 403

    created = admin.post("/api/v1/admin/tokens", json={"name": "gw-1", "role": "operator",
                                                       "scopes": ["telemetry:write"]}, headers=h)
    assert created.status_code == 201
    token = created.json["token"]
    listed = admin.get("/api/v1/admin/tokens").json["tokens"]
    assert token not in str(listed) and listed[0]["prefix"] == token[:10]
    ok = client.post("/api/v1/telemetry", json={"points": []}, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code not in (401, 403)
    assert admin.delete(f"/api/v1/admin/tokens/{created.json['id']}", headers=h).status_code == 204
    revoked = client.post("/api/v1/telemetry", json={"points": []}, headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    with services.db.session() as s:
        kinds = [e.kind for e in s.execute(select(Event).order_by(Event.id)).scalars()]
    for kind in ("user.created", "user.role_changed", "token.created", "token.revoked"):
        assert kind in kinds


def test_wall_display_activation_and_revocation(signed_in, services, dash_app, small_fleet):
    admin = signed_in("admin")
    made = admin.post("/api/v1/admin/tokens", json={"name": "control-room-wall", "role": "wall", "scopes": ["read"]},
                      headers=csrf_header(admin)).json
    assert made["activation_url"].endswith("/wall/activate?token=" + made["token"])
    screen = dash_app.server.test_client()
    go = screen.get("/wall/activate", query_string={"token": made["token"]})
    assert go.status_code == 302 and go.headers["Location"] == "/wall"
    assert screen.get("/wall").status_code == 200
    assert screen.get("/api/v1/sites").status_code == 403  # a wall shows /wall only, not the REST API (issue 11)
    assert screen.get("/").status_code == 403  # viewer pages are not for the wall
    assert screen.get("/api/v1/admin/users").status_code == 403
    admin.delete(f"/api/v1/admin/tokens/{made['id']}", headers=csrf_header(admin))
    assert screen.get("/api/v1/sites").status_code == 401  # revocation ends the screen's session at once
    # a person's token cannot activate a wall, and a signed-in person is not replaced by a wall
    person = admin.post("/api/v1/admin/tokens", json={"name": "p", "role": "viewer"}, headers=csrf_header(admin)).json
    assert dash_app.server.test_client().get("/wall/activate", query_string={"token": person["token"]}).status_code == 403
    wall2 = admin.post("/api/v1/admin/tokens", json={"name": "w2", "role": "wall"}, headers=csrf_header(admin)).json
    assert admin.get("/wall/activate", query_string={"token": wall2["token"]}).status_code == 409


def test_audit_export_csv(signed_in, services):
    admin = signed_in("admin")
    signed_in("viewer")
    response = admin.get("/api/v1/admin/audit.csv", query_string={"kind": "user."})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["kind"] for r in rows} >= {"user.created", "user.signed_in"}
    assert all(r["ts"].endswith("+00:00") for r in rows)
    bad = admin.get("/api/v1/admin/audit", query_string={"start": "2026-01-01T00:00:00"})
    assert bad.status_code == 400 and "time zone" in bad.json["error"]["message"]


def test_audit_csv_neutralises_formulas():
    import datetime as dt

    from security.audit import to_csv

    text = to_csv([{"id": 1, "ts": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "actor": "=HYPERLINK(1)",
                    "kind": "user.sign_in_failed", "entity_type": "", "entity_id": "", "payload": {}}])
    assert "'=HYPERLINK(1)" in text


def test_secrets_api_never_returns_values(signed_in, services):
    admin = signed_in("admin")
    h = csrf_header(admin)
    assert admin.put("/api/v1/admin/secrets/provider:entsoe", json={"value": "entsoe-old"}, headers=h).status_code == 204
    assert admin.put("/api/v1/admin/secrets/provider:entsoe", json={"value": "entsoe-new"}, headers=h).status_code == 204
    listed = admin.get("/api/v1/admin/secrets").json["secrets"]
    assert "entsoe-" not in str(listed) and listed[0]["versions"] == 2
    from security.vault import fingerprint, provider_key

    assert provider_key("entsoe") == "entsoe-new"
    old = fingerprint("entsoe-old")
    assert admin.delete(f"/api/v1/admin/secrets/provider:entsoe/versions/{old}", headers=h).status_code == 204
    assert admin.get("/api/v1/admin/secrets").json["secrets"][0]["versions"] == 1
