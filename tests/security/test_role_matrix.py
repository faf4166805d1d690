"""The role matrix, table-driven over every page, every server callback and every API route.

Run with ``-s`` to see the matrix (A = allowed, - = denied; anonymous is always denied).
Expected cells come from the tables below for the pages and callbacks this package knows, and
from each page's declared ``min_role`` / each route's ``required_permission`` for the rest.
"""
from __future__ import annotations

import json
import re

import dash
import pytest

from data.models import Role
from security.access import PERMISSIONS, ROLE_ORDER, role_at_least
from security.guard import page_min_role
from tests.security.conftest import csrf_header

ROLES = [r.value for r in ROLE_ORDER]  # wall, viewer, analyst, operator, manager, admin

# pages this package defines or relies on: path -> min role expected
EXPECTED_PAGES = {"/": "viewer", "/sites/<site_id>": "viewer", "/404": "viewer", "/admin": "admin"}
# callbacks: module -> min role expected ("any" = any signed-in caller, wall included)
EXPECTED_CALLBACK_MODULES = {"callbacks.shell": "any", "dash.dash": "any", "callbacks.overview": "viewer",
                             "callbacks.site": "viewer", "callbacks.admin": "admin"}
PUBLIC_API = {"/api/v1/health", "/api/v1/health/live", "/api/v1/health/ready", "/api/v1/openapi.json"}
PATH_VALUES = {"site_id": "t-sol", "asset_id": "t-sol-INV-01", "user_id": "1", "token_id": "999", "name": "x"}

MATRIX: list[tuple[str, str, dict[str, str]]] = []
CALLBACK_ERRORS: set[str] = set()


def _cell(ok: bool) -> str:
    return "A" if ok else "-"


def _print_matrix() -> None:
    header = f"{'kind':9} {'target':58} {'anon':>4} " + " ".join(f"{r[:5]:>5}" for r in ROLES)
    lines = [header, "-" * len(header)]
    for kind, target, cells in MATRIX:
        lines.append(f"{kind:9} {target[:58]:58} {cells.get('anonymous', '-'):>4} "
                     + " ".join(f"{cells.get(r, '?'):>5}" for r in ROLES))
    print("\n" + "\n".join(lines))
    if CALLBACK_ERRORS:
        print("callbacks that raised when run with all-None inputs (past the guard):")
        print("\n".join(f"  {e}" for e in sorted(CALLBACK_ERRORS)))


@pytest.fixture()
def clients(signed_in, wall_client, dash_app):
    """Return {role: test client signed in with it} plus 'anonymous'."""
    out = {role: signed_in(role) for role in ROLES if role != "wall"}
    out["wall"] = wall_client[0]
    out["anonymous"] = dash_app.server.test_client()
    return out


def _router_key(app) -> str:
    return next(k for k in app.callback_map if "_pages_content.children" in k)


def _route_page(client, app, pathname: str):
    body = {"output": _router_key(app), "outputs": [{"id": "_pages_content", "property": "children"},
                                                      {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"]}
    headers = csrf_header(client) if client.get_cookie("_csrf_token") else {}
    return client.post("/_dash-update-component", json=body, headers=headers)


def _concrete(path: str) -> str:
    return re.sub(r"<(?:([a-z_]+)(?:\([^)]*\))?:)?([a-z_]+)>",
                  lambda m: "1" if m.group(1) in ("int", "float") else PATH_VALUES.get(m.group(2), "x"), path)


def test_every_page(dash_app, clients, small_fleet):
    app = dash_app
    clients["admin"].get("/")  # first request registers Dash's router
    checked = 0
    for page in list(dash.page_registry.values()):
        template = page.get("path_template") or page["path"]
        declared = page_min_role(page)
        if template in EXPECTED_PAGES:
            assert declared is not None and declared.value == EXPECTED_PAGES[template], template
        minimum = (declared or Role.admin).value
        path = _concrete(template)
        cells = {}
        for who, client in clients.items():
            allowed = who != "anonymous" and role_at_least(who, minimum)
            got = client.get(path)
            if who == "anonymous":
                assert got.status_code == 302 and got.headers["Location"].startswith("/login"), path
            else:
                assert got.status_code == (200 if allowed else 403), (path, who, got.status_code)
            routed = _route_page(client, app, path)
            if who == "anonymous":
                assert routed.status_code == 401
            else:
                text = routed.get_data(as_text=True)
                assert ("sec-denied" in text) is (not allowed), (path, who, routed.status_code, text[:200])
            cells[who] = _cell(allowed)
        MATRIX.append(("page", f"{template}  (min {minimum})", cells))
        checked += 1
    assert checked >= 3


def test_page_without_min_role_is_admin_only(dash_app, clients):
    clients["admin"].get("/")

    def layout(**_kwargs):
        return dash.html.Div("secret page body", id="undeclared-body")

    dash.page_registry["tests.undeclared"] = {
        "module": "tests.undeclared", "path": "/undeclared-test", "path_template": None, "name": "Undeclared",
        "title": "Undeclared", "layout": layout, "supplied_path": "/undeclared-test", "relative_path": "/undeclared-test",
        "nav_hidden": True, "order": 99, "description": "", "image": None, "image_url": None, "redirect_from": None,
        "supplied_name": "Undeclared", "supplied_title": "Undeclared", "supplied_order": 99, "supplied_layout": layout,
        "supplied_image": None,
    }
    try:
        from security.guard import guard_page_layouts

        guard_page_layouts()
        cells = {"anonymous": "-"}
        for who in ROLES:
            text = _route_page(clients[who], dash_app, "/undeclared-test").get_data(as_text=True)
            assert ("secret page body" in text) is (who == "admin"), who
            assert clients[who].get("/undeclared-test").status_code == (200 if who == "admin" else 403)
            cells[who] = _cell(who == "admin")
        MATRIX.append(("page", "/undeclared-test  (no min_role)", cells))
    finally:
        dash.page_registry.pop("tests.undeclared", None)


def _callback_body(key: str, spec: dict) -> dict:
    from security.guard import output_ids_of

    outputs = []
    inner = key[2:-2].split("...") if key.startswith("..") else [key]
    for part, comp in zip(inner, output_ids_of(key), strict=True):
        prop = part.rsplit(".", 1)[1]
        outputs.append({"id": json.loads(comp) if comp.startswith("{") else comp, "property": prop})
    inputs = [{"id": i["id"], "property": i["property"], "value": None} for i in spec["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": None} for s in spec.get("state", [])]
    return {"output": key, "outputs": outputs if key.startswith("..") else outputs[0], "inputs": inputs,
            "state": state, "changedPropIds": []}


def test_every_callback(dash_app, clients, small_fleet):
    app = dash_app
    clients["admin"].get("/")
    roles = app.server.extensions["fleetlight_callback_roles"]
    server_callbacks = {k: v for k, v in app.callback_map.items() if "callback" in v}
    assert len(server_callbacks) >= 4
    for key, spec in sorted(server_callbacks.items()):
        module = spec["callback"].__module__
        minimum = roles.min_role(key)
        if module in EXPECTED_CALLBACK_MODULES:
            assert minimum == EXPECTED_CALLBACK_MODULES[module], (key, module, minimum)
        if key == _router_key(app):
            continue  # the page router: covered page by page above
        body = _callback_body(key, spec)
        cells = {}
        for who, client in clients.items():
            allowed = who != "anonymous" and (minimum == "any" or role_at_least(who, minimum))
            headers = csrf_header(client) if who != "anonymous" else {}
            try:
                got = client.post("/_dash-update-component", json=body, headers=headers)
            except Exception as exc:
                assert allowed, (key, who, exc)
                CALLBACK_ERRORS.add(f"{key[:60]}: {type(exc).__name__}")
                cells[who] = "A"
                continue
            if who == "anonymous":
                assert got.status_code == 401, key
            elif allowed:
                assert got.status_code not in (401, 403), (key, who, got.status_code)
            else:
                assert got.status_code == 403, (key, who, got.status_code)
            cells[who] = _cell(allowed)
        label = ",".join(o.split(".")[0] for o in key.strip(".").split("...")[:2])
        MATRIX.append(("callback", f"{label}  ({module}, min {minimum})", cells))


def test_unknown_callback_module_is_admin_only(dash_app):
    from security.guard import CallbackRoles

    roles = CallbackRoles(dash_app)
    assert roles.min_role_for_module("somebody.elses.module", ["zz-thing"]) == "admin"
    assert roles.min_role_for_module("callbacks.shell", ["shell-x"]) == "any"


def _api_rules(app) -> list[tuple[str, str, object]]:
    out = []
    for rule in app.server.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in PUBLIC_API or rule.rule.startswith("/api/v1/webhooks/"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.rule, method, app.server.view_functions[rule.endpoint]))
    return out


def test_every_api_route(dash_app, clients, small_fleet):
    rules = _api_rules(dash_app)
    assert len(rules) >= 8
    for rule, method, view in rules:
        path = _concrete(rule)
        permission = getattr(view, "required_permission", None)
        cells = {}
        for who, client in clients.items():
            headers = csrf_header(client) if who != "anonymous" else {}
            got = client.open(path, method=method, json={} if method != "GET" else None, headers=headers)
            if who == "anonymous":
                assert got.status_code == 401, (rule, method, got.status_code)
                cells[who] = "-"
                continue
            if permission is None:
                cells[who] = "A" if got.status_code not in (401, 403) else "-"
                assert who != "wall" or got.status_code == 403, (rule, method, got.status_code)
                continue
            # wall screens show /wall only: the REST API refuses them whatever the permission (issue 11)
            allowed = who != "wall" and Role(who) in PERMISSIONS[permission]
            assert (got.status_code not in (401, 403)) is allowed, (rule, method, who, got.status_code)
            cells[who] = _cell(allowed)
        MATRIX.append(("api", f"{method} {rule}  ({permission or 'checked in view'})", cells))


def test_api_tokens_follow_their_scopes(client, services, small_fleet):
    from security.tokens import create_token

    read_only = create_token(services.db, "reader", ["read"], Role.viewer)
    ingest_only = create_token(services.db, "ingest", ["telemetry:write"], Role.viewer)
    auth = lambda t: {"Authorization": f"Bearer {t}"}  # noqa: E731
    assert client.get("/api/v1/sites", headers=auth(read_only)).status_code == 200
    assert client.get("/api/v1/sites", headers=auth(ingest_only)).status_code == 403
    assert client.post("/api/v1/telemetry", json={"points": []}, headers=auth(read_only)).status_code == 403
    assert client.get("/api/v1/admin/users", headers=auth(read_only)).status_code == 403
    assert client.get("/api/v1/sites", headers=auth("fl_" + "x" * 43)).status_code == 401


def test_print_matrix():
    """Prints the collected matrix (run with -s)."""
    _print_matrix()


# --- the scoped-user column (issue 11, item 6) ------------------------------------------------------

OTHER_PORTFOLIO = ("t-sol", "t-wind", "Test Solar", "Test Wind")  # the "test" portfolio's sites


@pytest.fixture()
def scoped_client(signed_in, small_fleet):
    """Return a viewer limited to a portfolio "partner" holding one site, p-sol."""
    from data.models import Portfolio, Site, SiteKind

    with small_fleet.db.session() as s:
        s.add(Portfolio(id="partner", name="Partner portfolio"))
        s.flush()
        s.add(Site(id="p-sol", portfolio_id="partner", name="Partner Solar", kind=SiteKind.solar, capacity_mw=2.0,
                   market="ERCOT"))
    return signed_in("viewer", scope=["partner"])


def _leaks(text: str) -> list[str]:
    return [needle for needle in OTHER_PORTFOLIO if needle in text]


def test_scoped_user_api_routes_show_no_other_portfolio(dash_app, scoped_client):
    """Every GET route of the REST API, as the scoped viewer: no id or name of the other portfolio."""
    checked, leaks = 0, []
    for rule, method, _view in _api_rules(dash_app):
        if method != "GET":
            continue
        # ids of the caller's own portfolio (an error echoing a requested other id is not a leak)
        path = _concrete(rule.replace("<site_id>", "p-sol").replace("<asset_id>", "p-sol-INV-01"))
        got = scoped_client.get(path)
        found = _leaks(got.get_data(as_text=True))
        cell = "-" if got.status_code in (401, 403) else ("LEAK" if found else "A")
        MATRIX.append(("scoped", f"GET {rule}", {"viewer": cell}))
        if found:
            leaks.append((rule, got.status_code, found))
        checked += 1
    assert checked >= 8
    # the other portfolio's site itself is not found, not forbidden (its existence is not disclosed)
    assert scoped_client.get("/api/v1/sites/t-sol").status_code == 404
    assert scoped_client.get("/api/v1/assets/t-sol-INV-01").status_code == 404
    assert leaks == [], leaks


def test_scoped_user_socket_rooms(scoped_client, dash_app):
    from security.access import authorize_room

    with dash_app.server.test_request_context("/", headers={"Cookie": f"session={scoped_client.get_cookie('session').value}"}):
        for room in ("live", "overview", "map", "markets", "wall", "alerts", "site:t-sol", "site:t-wind"):
            assert not authorize_room(room), room
        assert authorize_room("site:p-sol")


SITE_INPUT = re.compile(r"(^|-)site$")  # the site pickers: lv-site, fc-site, wx-site ...


def _site_inputs(body: dict, site_id: str) -> dict:
    """Return ``body`` with every site-picker input set to ``site_id``."""
    inputs = [{**i, "value": site_id} if isinstance(i["id"], str) and SITE_INPUT.search(i["id"]) else i
              for i in body["inputs"]]
    state = [{**st, "value": site_id} if isinstance(st["id"], str) and SITE_INPUT.search(st["id"]) else st
             for st in body["state"]]
    return {**body, "inputs": inputs, "state": state}


@pytest.mark.parametrize("role", ["viewer", "analyst", "manager"])
def test_scoped_user_pages_and_callbacks(dash_app, signed_in, small_fleet, role):
    """Page router and server callbacks as a scoped user of each role that reaches more pages: no id
    or name of another portfolio's site; a callback asked for another portfolio's site answers as
    for an unknown site (its series stay out)."""
    from data.models import Portfolio, Site, SiteKind

    with small_fleet.db.session() as s:
        s.add(Portfolio(id="partner", name="Partner portfolio"))
        s.flush()
        s.add(Site(id="p-sol", portfolio_id="partner", name="Partner Solar", kind=SiteKind.solar, capacity_mw=2.0,
                   market="ERCOT"))
    scoped_client = signed_in(role, scope=["partner"])
    scoped_client.get("/")
    leaks = []
    pages = 0
    for page in list(dash.page_registry.values()):
        path = _concrete((page.get("path_template") or page["path"]).replace("<site_id>", "p-sol"))
        text = _route_page(scoped_client, dash_app, path).get_data(as_text=True)
        pages += "sec-denied" not in text
        found = _leaks(text)
        if found:
            leaks.append(("page", path, found))
    targeted = 0
    for key, spec in sorted(dash_app.callback_map.items()):
        if "callback" not in spec or key == _router_key(dash_app):
            continue
        body = _callback_body(key, spec)
        try:
            got = scoped_client.post("/_dash-update-component", json=body, headers=csrf_header(scoped_client))
        except Exception:
            got = None  # raised past the guard with all-None inputs: no output to leak
        found = _leaks(got.get_data(as_text=True)) if got is not None else []
        if found:
            leaks.append(("callback", key[:70], found))
        other = _site_inputs(body, "t-sol")
        if other == body:
            continue
        answers = []
        for site_id in ("t-sol", "zz-no-such-site"):
            try:
                got = scoped_client.post("/_dash-update-component", json=_site_inputs(body, site_id),
                                         headers=csrf_header(scoped_client))
                answers.append((got.status_code, got.get_data(as_text=True).replace(site_id, "<site>")))
            except Exception as exc:
                answers.append((500, type(exc).__name__))
        targeted += 1
        if _leaks(answers[0][1]) or answers[0] != answers[1]:
            leaks.append(("callback(t-sol)", key[:70], _leaks(answers[0][1]) or ["differs from an unknown site"]))
    for kind, target, found in leaks:
        MATRIX.append(("scoped", f"{kind} {target}", {role: "LEAK " + ",".join(found)}))
    assert pages >= 3 and (role == "viewer" or targeted >= 2), (pages, targeted)
    assert leaks == [], leaks


# --- the README's role table (issue 11, item 9) -----------------------------------------------------

def _readme_role_table() -> dict[str, list[list[str]]]:
    """Return {role: [pages, permissions, rooms]} (backticked names per cell) of the README's role table."""
    from pathlib import Path

    text = Path(__file__).resolve().parents[2].joinpath("README.md").read_text(encoding="utf-8")
    start = text.index("| role | pages it adds | permissions it adds | socket rooms it adds |")
    rows: dict[str, list[list[str]]] = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = [re.findall(r"`([^`]+)`", c) for c in cells[1:]]
    return rows


def test_readme_role_table_is_the_role_matrix(dash_app, client):
    """Each row of the README's table names exactly the pages and permissions whose lowest role is that
    role, and rooms whose first allowed role it is (so the roles are cumulative as documented)."""
    from security.access import PERMISSION_MIN_ROLE, Caller, authorize_room

    client.get("/")
    table = _readme_role_table()
    assert list(table) == ROLES
    for role, (pages, permissions, rooms) in table.items():
        declared = {page.get("path_template") or page["path"] for page in dash.page_registry.values()
                    if (found := page_min_role(page)) is not None and found.value == role}
        assert set(pages) == declared, (role, pages, declared)
        assert set(permissions) == {p for p, r in PERMISSION_MIN_ROLE.items() if r.value == role}, role
        for room in rooms:
            concrete = room.replace("<id>", "t-sol")
            first = next((r for r in ROLES if authorize_room(concrete, Caller("x", Role(r), None, "session"))), None)
            assert first == role, (room, role, first)
        MATRIX.append(("readme", f"{role}: {len(pages)} pages, {len(permissions)} permissions, {len(rooms)} rooms",
                       {r: _cell(role_at_least(r, role)) for r in ROLES}))
    # the table names exactly the rooms the live hub serves
    from live.hub import ROOMS_STATIC, valid_room

    named = [room for _p, _perm, rooms in table.values() for room in rooms]
    assert all(valid_room(room.replace("<id>", "t-sol")) for room in named), named
    assert set(named) == {*ROOMS_STATIC, "site:<id>"}, named
