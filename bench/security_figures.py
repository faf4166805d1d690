"""Figures of the security note (issue 11), measured on the app served as ``python app.py``:

    .venv/bin/python bench/security_figures.py [--trials 20]

1. **Revocation -> socket disconnect:** a real Socket.IO client (websocket transport) on ``/live``;
   its identity is ended (API token revoked, wall token revoked, user disabled, password changed,
   sign-out) and the time to the server's disconnect is taken; p50/p95/max over ``--trials``.
2. **CSWSH from a foreign origin:** a signed-in analyst's cookie sent from foreign origins on
   both Engine.IO transports (polling GET, websocket upgrade), and from the app's own origin.
3. **The role matrix:** every page (through Dash's page router, as the browser loads it), every GET
   route of the REST API and every socket room, for anonymous, each role and a viewer scoped to
   one portfolio. A = allowed, - = refused; the scoped column says ``LEAK`` if the answer names a
   site of another portfolio, and which room a scoped caller joined (``live@p:partner``).

Pages and rooms come from the README's role table (a test holds it to the code), API routes from
``/api/v1/openapi.json``. Everything goes over HTTP to the running app; users and tokens are
created in its SQLite file as ``flask create-user`` would.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import threading
import time

import httpx
import socketio
import websocket
from live_common import REPO, BenchApp

from data.db import Database
from data.models import Asset, AssetKind, Portfolio, Role, Site, SiteKind
from security.tokens import create_token, revoke_token, verify_token
from security.users import create_user, update_user

PASSWORD = "figures-password-long-enough-7"
NAMESPACE = "/live"
ROLES = ["wall", "viewer", "analyst", "operator", "manager", "admin"]
FOREIGN = ["http://evil.example", "http://127.0.0.1:1", "null"]
OTHER = re.compile(r"bench-\d{3}|Bench site|bench-probe|AAA probe")  # the "bench" portfolio's sites


class Figures:
    """The served app plus the database handle used to make identities in it."""

    def __init__(self) -> None:
        self.app = BenchApp(sites=4, assets_per_site=2, port=18571,
                            extra_env={"FLEETLIGHT_LOGIN_RATE_LIMIT": "100000/minute;100000/hour"})
        self.url = self.app.url
        self.db = Database(f"sqlite:///{self.app.tmp.name}/bench.db")
        with self.db.session() as s:
            s.add(Portfolio(id="partner", name="Partner"))
            s.flush()
            s.add(Site(id="partner-sol", portfolio_id="partner", name="Partner Solar", kind=SiteKind.solar,
                       capacity_mw=2.0, market="ERCOT", pricing_node="HB_WEST"))
            s.flush()
            s.add(Asset(id="partner-sol-INV", site_id="partner-sol", name="inv", kind=AssetKind.inverter,
                        capacity_kw=2000.0))
        self.n = 0

    def person(self, role: str, scope: list[str] | None = None) -> tuple[httpx.Client, int]:
        """Return (an HTTP client signed in through the form as a new user of ``role``, the user id)."""
        self.n += 1
        user = create_user(self.db, f"fig-{role}-{self.n}", PASSWORD, Role(role), portfolio_scope=scope)
        client = httpx.Client(base_url=self.url, timeout=20)
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, "no csrf_token on /login"
        done = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "csrf_token": token.group(1), "next": "/"})
        assert done.status_code == 302, (done.status_code, done.text[:200])
        return client, user.id

    def wall(self) -> tuple[httpx.Client, int]:
        """Return (a client activated as a wall screen, the wall token's id)."""
        self.n += 1
        token = create_token(self.db, f"fig-wall-{self.n}", ["read"], Role.wall)
        identity = verify_token(self.db, token)
        assert identity is not None
        client = httpx.Client(base_url=self.url, timeout=20)
        assert client.get("/wall/activate", params={"token": token}).status_code == 302
        return client, identity.token_id

    def close(self) -> None:
        """Stop the app."""
        self.db.dispose()
        self.app.close()


def cookie_of(client: httpx.Client) -> str:
    """Return the Cookie header of ``client``'s session."""
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def socket(url: str, rooms: list[str], *, cookie: str | None = None, token: str | None = None,
           received: list | None = None) -> tuple[socketio.Client | None, threading.Event]:
    """Return (a connected Socket.IO client or None if refused, an event set on server disconnect)."""
    gone = threading.Event()
    sio = socketio.Client(reconnection=False)
    sio.on("disconnect", lambda *_a: gone.set(), namespace=NAMESPACE)
    if received is not None:
        sio.on("*", lambda event, *args: received.append((event, json.dumps(args))), namespace=NAMESPACE)
    try:
        sio.connect(url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=5,
                    headers={"Cookie": cookie} if cookie else {},
                    auth={"rooms": rooms, **({"token": token} if token else {})})
    except socketio.exceptions.ConnectionError:
        return None, gone
    deadline = time.monotonic() + 5
    while NAMESPACE not in sio.namespaces and time.monotonic() < deadline and sio.connected:
        time.sleep(0.02)
    if NAMESPACE not in sio.namespaces:
        sio.disconnect()
        return None, gone
    return sio, gone


# --- 1. revocation -------------------------------------------------------------------------------

def revocation(fig: Figures, trials: int) -> None:
    kinds = ["API token revoked", "wall token revoked", "user disabled", "password changed", "signed out"]
    timings: dict[str, list[float]] = {k: [] for k in kinds}
    for n in range(trials):
        kind = kinds[n % len(kinds)]
        if kind == "API token revoked":
            token = create_token(fig.db, f"fig-machine-{n}", ["read"], Role.viewer)
            token_id = verify_token(fig.db, token).token_id  # type: ignore[union-attr]
            client, gone = socket(fig.url, ["live"], token=token)
            action = lambda t=token_id: revoke_token(fig.db, t)  # noqa: E731
        elif kind == "wall token revoked":
            screen, token_id = fig.wall()
            client, gone = socket(fig.url, ["live"], cookie=cookie_of(screen))
            action = lambda t=token_id: revoke_token(fig.db, t)  # noqa: E731
        else:
            browser, user_id = fig.person("analyst")
            client, gone = socket(fig.url, ["live"], cookie=cookie_of(browser))
            if kind == "user disabled":
                action = lambda u=user_id: update_user(fig.db, u, "bench", is_active=False)  # noqa: E731
            elif kind == "password changed":
                action = lambda u=user_id, i=n: update_user(fig.db, u, "bench", password=f"another-horse-{i}-battery")  # noqa: E731
            else:
                action = lambda b=browser: b.post("/logout", headers={  # noqa: E731
                    "X-CSRFToken": b.cookies.get("_csrf_token") or "", "Origin": fig.url, "Referer": fig.url + "/"})
        assert client is not None, f"{kind}: the socket did not connect"
        time.sleep(0.1 * (n % 10))  # spread the revocations over the hub's check period
        start = time.monotonic()
        action()
        ok = gone.wait(10)
        timings[kind].append(time.monotonic() - start if ok else float("inf"))
        client.disconnect()
    every = sorted(t for ts in timings.values() for t in ts)
    p95 = statistics.quantiles(every, n=20, method="inclusive")[18]
    print(f"1. revocation -> socket disconnect, {len(every)} trials: p50 {statistics.median(every):.2f} s, "
          f"p95 {p95:.2f} s, max {every[-1]:.2f} s")
    for kind, ts in timings.items():
        print(f"   {kind:20} " + " ".join(f"{t:.2f}" for t in ts))


# --- 2. cross-site websocket hijacking -------------------------------------------------------------

def cswsh(fig: Figures) -> None:
    analyst, _ = fig.person("analyst")
    cookie = cookie_of(analyst)
    polling = fig.url + "/socket.io/?EIO=4&transport=polling"
    ws_url = fig.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    print("\n2. CSWSH: a signed-in analyst's cookie sent with a foreign Origin (Engine.IO handshake)")
    print(f"   {'origin':24} {'polling':>14} {'websocket':>14}")
    for origin in FOREIGN + [fig.url]:
        got = httpx.get(polling, headers={"Origin": origin, "Cookie": cookie}, timeout=5)
        poll = f"HTTP {got.status_code}" + (" open" if got.status_code == 200 and got.text.startswith("0") else "")
        try:
            ws = websocket.create_connection(ws_url, header=[f"Cookie: {cookie}"], origin=origin, timeout=5)
            first = ws.recv()
            ws.send('40/live,{"rooms":["live"]}')
            joined = ws.recv()
            ws.close()
            wsr = "101 open" + (", joined" if str(joined).startswith("40/live,") else "") if str(first).startswith("0") else "101 ?"
        except websocket.WebSocketBadStatusException as exc:
            wsr = f"HTTP {exc.status_code}"
        label = origin + ("  (own)" if origin == fig.url else "")
        print(f"   {label:24} {poll:>14} {wsr:>14}")


# --- 3. the role matrix ----------------------------------------------------------------------------

def readme_table() -> dict[str, tuple[list[str], list[str]]]:
    """Return {role: (pages, rooms)} of the README's role table."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("| role | pages it adds |")
    out = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        out[cells[0].strip("`")] = (re.findall(r"`([^`]+)`", cells[1]), re.findall(r"`([^`]+)`", cells[3]))
    return out


def router_body(deps: list[dict], path: str) -> dict:
    """Return the _dash-update-component body of Dash's page router for ``path``."""
    key = next(d["output"] for d in deps if "_pages_content.children" in d["output"])
    return {"output": key, "outputs": [{"id": "_pages_content", "property": "children"},
                                       {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"]}


def matrix(fig: Figures) -> None:
    callers: dict[str, httpx.Client] = {"anon": httpx.Client(base_url=fig.url, timeout=20)}
    callers["wall"] = fig.wall()[0]
    for role in ROLES[1:]:
        callers[role] = fig.person(role)[0]
    callers["scoped"] = fig.person("viewer", scope=["partner"])[0]
    table = readme_table()
    rows: list[tuple[str, dict[str, str]]] = []
    admin = callers["admin"]
    admin.get("/")
    deps = admin.get("/_dash-dependencies").json()

    def page_cell(who: str, client: httpx.Client, path: str) -> str:
        got = client.get(path, follow_redirects=False)
        if got.status_code != 200:
            return "-"
        headers = {"X-CSRFToken": client.cookies.get("_csrf_token") or "", "Origin": fig.url}
        routed = client.post("/_dash-update-component", json=router_body(deps, path), headers=headers)
        if routed.status_code != 200 or "sec-denied" in routed.text:
            return "-"
        return "LEAK" if who == "scoped" and OTHER.search(routed.text) else "A"

    for _role, (pages, _rooms) in table.items():
        for template in pages:
            cells = {}
            for who, client in callers.items():
                own = "partner-sol" if who == "scoped" else "bench-000"
                cells[who] = page_cell(who, client, template.replace("<site_id>", own))
            rows.append((f"page   {template}", cells))
    spec = callers["viewer"].get("/api/v1/openapi.json").json()
    for path, ops in sorted(spec.get("paths", {}).items()):
        if "get" not in ops or path.startswith("/webhooks"):
            continue
        cells = {}
        for who, client in callers.items():
            own_site, own_asset = ("partner-sol", "partner-sol-INV") if who == "scoped" else ("bench-000", "bench-000-INV-000")
            concrete = (path.replace("{site_id}", own_site).replace("{asset_id}", own_asset)
                        .replace("{kind}", "daily").replace("{topic}", "telemetry.v1"))
            concrete = re.sub(r"\{[a-z_]+\}", "1", concrete)
            got = client.get("/api/v1" + concrete)
            allowed = got.status_code not in (401, 403)
            cells[who] = ("LEAK" if who == "scoped" and allowed and OTHER.search(got.text) else "A") if allowed else "-"
        rows.append((f"api    GET {path}", cells))
    rooms = [r for _role, (_p, rs) in table.items() for r in rs] + ["no-such-room"]
    for room in rooms:
        cells = {}
        for who, client in callers.items():
            concrete = room.replace("<id>", "partner-sol" if who == "scoped" else "bench-000")
            received: list = []
            sio, _gone = socket(fig.url, [concrete], cookie=cookie_of(client) if who != "anon" else None,
                                received=received)
            if sio is None:
                cells[who] = "-"
                continue
            time.sleep(0.25)  # the full state follows the handshake
            sio.disconnect()
            leak = who == "scoped" and any(OTHER.search(text) for _e, text in received)
            cells[who] = "LEAK" if leak else ("A@scope" if who == "scoped" and concrete in
                                              ("live", "overview", "map", "markets") else "A")
        rows.append((f"room   {room}", cells))
    rows.append(("push   live_sites after new telemetry", pushes(fig, callers)))
    columns = list(callers)
    width = max(len(r[0]) for r in rows) + 2
    print("\n3. role matrix (A allowed, - refused; scoped = viewer limited to portfolio 'partner';"
          " A@scope = joined its per-scope room, pushes cut to its sites)")
    print(f"   {'target':{width}}" + "".join(f"{c:>9}" for c in columns))
    for label, cells in rows:
        print(f"   {label:{width}}" + "".join(f"{cells[c]:>9}" for c in columns))
    leaks = [label for label, cells in rows if cells["scoped"] == "LEAK"]
    print(f"   {len(rows)} rows; scoped leaks: {len(leaks)}" + (f" {leaks}" if leaks else ""))


def pushes(fig: Figures, callers: dict[str, httpx.Client]) -> dict[str, str]:
    """Return per caller what the live_sites pushes after a telemetry batch for a bench site and the
    partner's site carried: A (its sites), LEAK (another portfolio's), - (no socket)."""
    import datetime as dt

    sockets = {}
    for who, client in callers.items():
        received: list = []
        sio, _gone = socket(fig.url, ["live"], cookie=cookie_of(client) if who != "anon" else None, received=received)
        sockets[who] = (sio, received)
    time.sleep(0.5)
    for _sio, received in sockets.values():
        received.clear()  # the full state on connect is counted in the room rows above
    now = dt.datetime.now(dt.UTC).isoformat()
    fig.app.post([{"asset_id": "bench-000-INV-000", "metric": "power_kw", "ts": now, "value": 612.0},
                  {"asset_id": "partner-sol-INV", "metric": "power_kw", "ts": now, "value": 321.0}])
    time.sleep(1.5)
    cells = {}
    for who, (sio, received) in sockets.items():
        if sio is None:
            cells[who] = "-"
            continue
        sio.disconnect()
        texts = [text for event, text in received if event == "live_sites"]
        if who == "scoped":
            cells[who] = "LEAK" if any(OTHER.search(t) for t in texts) else ("A" if any("partner-sol" in t for t in texts) else "none")
        else:
            cells[who] = "A" if any("bench-000" in t for t in texts) else "none"
    return cells


def main() -> None:
    """Measure and print the three figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    fig = Figures()
    try:
        revocation(fig, args.trials)
        cswsh(fig)
        matrix(fig)
    finally:
        fig.close()


if __name__ == "__main__":
    main()
