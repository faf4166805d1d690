"""Regression tests of issue 11: bearer tokens on Dash endpoints, open redirect, wall sessions on
the REST API, the Dash catch-all behind public prefixes, component-suite errors."""
from __future__ import annotations

import pytest

from data.models import Role
from security.tokens import create_token
from tests.security.conftest import make_user, sign_in
from tests.security.test_role_matrix import _callback_body, _route_page


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _key_of(app, module: str, output_fragment: str) -> tuple[str, dict]:
    for key, spec in app.callback_map.items():
        if "callback" in spec and spec["callback"].__module__ == module and output_fragment in key:
            return key, spec
    raise AssertionError(f"no callback of {module} with an output {output_fragment!r}")


# --- 1. bearer tokens on Dash endpoints -----------------------------------------------------------


def test_read_scoped_admin_token_cannot_run_the_admin_token_callback(dash_app, client, services):
    client.get("/")  # registers Dash's router
    admin_read = create_token(services.db, "r", ["read"], Role.admin)
    assert client.get("/api/v1/admin/users", headers=_bearer(admin_read)).status_code == 403
    from callbacks.admin import IDS

    key, spec = _key_of(dash_app, "callbacks.admin", IDS["t_result"])
    body = _callback_body(key, spec)
    got = client.post("/_dash-update-component", json=body, headers=_bearer(admin_read))
    assert got.status_code == 403, got.get_data(as_text=True)[:300]
    assert "REST API" in got.json["error"]["message"]
    assert client.get("/_dash-layout", headers=_bearer(admin_read)).status_code == 403
    assert client.get("/admin", headers=_bearer(admin_read)).status_code == 403


def test_ingest_token_cannot_read_the_overview_or_route_pages(dash_app, client, services, small_fleet):
    client.get("/")
    ingest = create_token(services.db, "ingest-only", ["telemetry:write"], Role.viewer)
    key, spec = _key_of(dash_app, "callbacks.overview", "table.rowData")
    got = client.post("/_dash-update-component", json=_callback_body(key, spec), headers=_bearer(ingest))
    assert got.status_code == 403
    headers = _bearer(ingest)
    for path in ("/live", "/", "/sites/t-sol"):
        assert client.get(path, headers=headers).status_code == 403, path

    class BearerClient:  # _route_page reads cookies and posts; give it the token instead
        def __init__(self, inner):
            self.inner = inner

        def get_cookie(self, _name):
            return None

        def post(self, url, json, headers):
            return self.inner.post(url, json=json, headers={**headers, **_bearer(ingest)})

    assert _route_page(BearerClient(client), dash_app, "/live").status_code == 403
    # the REST API still honours the token's scope
    assert client.post("/api/v1/telemetry", json={"points": []}, headers=headers).status_code not in (401, 403)


def test_wall_token_reaches_only_what_the_wall_needs(dash_app, client, services, small_fleet):
    client.get("/")
    wall = create_token(services.db, "wall-bearer", ["read"], Role.wall)
    assert client.get("/wall", headers=_bearer(wall)).status_code == 200
    assert client.get("/_dash-layout", headers=_bearer(wall)).status_code == 200
    assert client.get("/live", headers=_bearer(wall)).status_code == 403
    key, spec = _key_of(dash_app, "callbacks.overview", "table.rowData")
    assert client.post("/_dash-update-component", json=_callback_body(key, spec),
                       headers=_bearer(wall)).status_code == 403


# --- 5. open redirect -------------------------------------------------------------------------------

EVIL_NEXT = ["/%09/evil.example", "/\t/evil.example", "/%0a/x", "/\n/x", "//x", "/\\x", "/%5cx", "/%2f/x",
             "https://evil.example/", "https:evil.example", "javascript:alert(1)", " /x", "/x\r\nSet-Cookie: a=b",
             "%2f%2fevil.example", "/%252f%252fevil.example", "http:/\\evil.example"]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_sign_in_never_redirects_off_site(dash_app, services, target):
    make_user(services.db, "viewer", "redirected")
    client = dash_app.server.test_client()
    got = sign_in(client, "redirected", next_url=target)
    assert got.status_code == 302, got.status_code
    assert got.headers["Location"] == "/", (target, got.headers["Location"])
    page = client.get("/login", query_string={"next": target})  # signed in: straight to next
    assert page.status_code == 302 and page.headers["Location"] == "/"


def test_raw_query_string_redirects_are_safe(dash_app, services):
    make_user(services.db, "viewer", "raw-next")
    client = dash_app.server.test_client()
    sign_in(client, "raw-next")
    for raw in ("next=/%09/evil.example", "next=/%0a/x", "next=//x", "next=/%5C/x"):
        got = client.get("/login?" + raw)
        assert got.status_code == 302 and got.headers["Location"] == "/", (raw, got.status_code)


def test_a_local_next_is_kept(dash_app, services):
    make_user(services.db, "viewer", "local-next")
    client = dash_app.server.test_client()
    got = sign_in(client, "local-next", next_url="/sites/t-sol?tab=assets")
    assert got.headers["Location"] == "/sites/t-sol?tab=assets"


# --- 8. wall sessions and the REST API --------------------------------------------------------------

WALL_FORBIDDEN_API = ["/api/v1/sites", "/api/v1/sites/t-sol", "/api/v1/assets", "/api/v1/integrations",
                      "/api/v1/live/state", "/api/v1/alerts", "/api/v1/telemetry?asset_id=t-sol-INV-01"]


def test_wall_session_cannot_read_the_rest_api(wall_client, small_fleet):
    client, _token_id = wall_client
    assert client.get("/wall").status_code == 200
    for path in WALL_FORBIDDEN_API:
        got = client.get(path)
        assert got.status_code == 403, (path, got.status_code)
    assert client.get("/api/v1/health").status_code in (200, 503)  # the public liveness probe


# --- 9. smaller findings ----------------------------------------------------------------------------


def test_double_slash_asset_path_does_not_serve_the_shell(client):
    for path in ("/assets//admin", "/assets//", "/_dash-component-suites//admin", "/static//admin"):
        got = client.get(path)
        assert got.status_code == 404, (path, got.status_code)
        assert "_dash-config" not in got.get_data(as_text=True)


def test_invalid_component_suite_paths_are_404(client):
    for path in ("/_dash-component-suites/dash/nope.js", "/_dash-component-suites/no_such_pkg/x.js",
                 "/_dash-component-suites/dash/../../etc/passwd", "/_dash-component-suites/dash/dcc/x.v9_9m1.js",
                 "/_dash-component-suites/dash/deps/nothing.min.js"):
        got = client.get(path)
        assert got.status_code == 404, (path, got.status_code)


def test_favicon_is_the_icon_not_the_shell(client):
    got = client.get("/favicon.ico")
    assert got.status_code == 302 and got.headers["Location"] == "/_favicon.ico"
    assert client.get("/_favicon.ico").status_code == 200
