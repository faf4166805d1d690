"""The Socket.IO hub: Flask-SocketIO (threading mode) on the Dash server, namespace ``/live``.

Rooms and events (payload times are epoch milliseconds UTC unless named ``ts`` as ISO text):

* ``live``      -> ``live_sites``  ``{"full": bool, "now_ms": ms, "sites": {site_id: figures}, "fleet": <kpi payload>}``
  (figures: :meth:`domain.kpis.SiteFigures.push_dict`; ``<kpi payload>``: :func:`domain.kpis.kpi_payload`,
  values and their display texts; ``full`` marks the whole state, sent on (re)connect and every
  ``FULL_RESYNC_S``, and carries ``"constants"`` (statuses, status order, stale_after_s) for the
  JS; otherwise the sites that changed within the last ``REPEAT_S`` second, so a push the browser
  skipped is repeated by the next ones).
* ``overview``  -> ``overview_kpis`` ``{"now_ms", "fleet": <kpi payload>}`` (at most once a second) and
  ``overview_refresh`` (a nudge for the server-rendered charts and table, at most every 15 s).
* ``map``       -> ``map.status`` and ``map_status`` (same payload) ``{"ts": iso, "changed": {site_id: {"status": str, "output_mw": float}}}``
  (only the sites whose status or output changed since the last emit; all sites on connect).
* ``site:<id>`` -> ``site_live`` ``{"site_id", "now_ms", "kpis": <kpi payload>, "assets": {asset_id: {metric: [ms, value]}}}``
  (at most once a second).
* ``markets``   -> ``market_kpis`` ``{"now_ms", "markets": {market: <kpi payload>}}`` (with the
  overview's) and ``markets_prices`` (see :mod:`live.price_feed`).

A caller scoped to some portfolios who asks for ``live``, ``overview``, ``map`` or ``markets``
joins ``<room>@<scope key>`` instead (:func:`security.access.room_for`): every push to a
fleet-wide room names, besides its payload, how to cut it to a scope, and the hub sends each
scope with connected clients its own copy holding only its sites (an emit that names no cut
reaches no scoped room: it fails closed). Without scoped clients the push path is one emit. When pushes
are shared through Redis (several web processes, or the store worker, which serves no connections)
a hub sends to the scopes of every active scoped user as well, re-read with the state
(:func:`security.scope.user_scopes`), since other processes' clients are not seen here.

Pushes are batched: stored rows only mark sites dirty; a flush thread emits every
``settings.live_push_interval_ms`` (leading edge: an idle hub pushes at once). With
``settings.redis_url`` set, emits go through Redis (``message_queue``) so a client connected to
any server process receives pushes made by any process (the store worker included).
A client whose send queue stays above ``SLOW_CLIENT_QUEUE`` packets for ``SLOW_CLIENT_GRACE_S``
seconds without draining is disconnected: it reconnects and receives the full state, and it never
holds back the others. A client that is behind but catching up (its queue shrinks) is kept.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import request
from flask_socketio import SocketIO, join_room

from core import runtime
from data.db import Database
from domain.kpis import SiteFigures, kpi_payload, scope_kpis
from domain.status import status_constants
from live.state import LiveState
from observability.metrics import SOCKET_CLIENTS
from security.access import SCOPED_ROOMS, room_for, socket_caller
from security.scope import EVERY_SITE, SiteScope, scope_of, user_scopes

log = logging.getLogger(__name__)

NAMESPACE = "/live"
# the map contract names the event "map.status"; Dash props cannot contain dots, so the same
# payload also goes out as "map_status" for dash-socketio (Input(socket_id, "data-map_status")).
MAP_EVENTS = ("map.status", "map_status")
ROOMS_STATIC = ("live", "overview", "map", "markets", "alerts")
PRICES_REFRESH_S = 15.0
FULL_RESYNC_S = 30.0
SITE_ROOM_INTERVAL_S = 1.0
OVERVIEW_KPI_INTERVAL_S = 1.0
OVERVIEW_REFRESH_S = 15.0
SWEEP_INTERVAL_S = 5.0
RELOAD_IDLE_S = 10.0
SLOW_CLIENT_QUEUE = 2000
SLOW_CLIENT_GRACE_S = 3.0
AUTH_CHECK_S = 1.0  # open sockets whose session or token ended are dropped within about this (issue 11)
REPEAT_S = 1.0


def _now_ms() -> int:
    return int(time.time() * 1000)


def valid_room(room: Any) -> bool:
    """Return True if ``room`` names a hub room (a static room or ``site:<id>``)."""
    return isinstance(room, str) and (room in ROOMS_STATIC or (room.startswith("site:") and 5 < len(room) <= 80))


class LiveHub:
    """Keeps the live state, batches pushes, answers (re)connects with the full state."""

    def __init__(self, socketio: SocketIO, db: Database, interval_s: float = 0.15, serving: bool = True,
                 shared: bool = False) -> None:
        self.socketio = socketio
        self.db = db
        self.interval_s = interval_s
        self.serving = serving
        # pushes reach clients of other processes too (a Redis message queue): scopes come from the users
        self.shared = shared or not serving
        self.state = LiveState()
        self._dirty: set[str] = set()
        self._dirty_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._figures: dict[str, SiteFigures] = {}
        self._prices: dict[tuple[str, str], tuple[float, str]] = {}
        self._prices_at = -1e9
        self._recent: dict[str, float] = {}
        self._map_sent: dict[str, tuple[str, float | None]] = {}
        self._site_dirty: set[str] = set()
        self._last_site_push = 0.0
        self._last_kpi_push = 0.0
        self._kpi_due = False
        self._last_refresh_push = 0.0
        self._refresh_due = False
        self._last_full = 0.0
        self._last_sweep = 0.0
        self._last_apply = 0.0
        self._loaded_at = 0.0
        self._load_lock = threading.Lock()
        # eio sid -> (monotonic time it was first seen over the limit without draining, last queue size)
        self._backlogged: dict[str, tuple[float, int]] = {}
        self.extra_full_state: dict[str, Callable[[], list[tuple[str, Any]]]] = {}
        self.pushes = 0
        # scope key -> site ids, for each portfolio scope with clients in per-scope rooms
        self._scopes: dict[str, frozenset[str]] = {}
        self.sessions = _socket_sessions()
        self._last_auth_check = 0.0

    # --- state -------------------------------------------------------------------------------

    def load(self) -> None:
        """(Re)load the live state from the store."""
        with self._load_lock:
            with self.db.session() as session:
                self.state.load(session, dt.datetime.now(dt.UTC))
            self._loaded_at = time.monotonic()
            self._prices_at = -1e9
            if self.shared:  # clients of other processes are not seen here: every active user's scope
                self._scopes = {**self._scopes, **user_scopes(self.db)}
            if not self._figures:
                self._figures = self.state.site_figures(None, _now_ms())
            else:
                # ``_figures`` are what the clients were last sent: push what the reload changed
                with self._dirty_lock:
                    self._dirty |= set(self.state.sites)
                self._wake.set()

    def on_stored(self, rows: list[tuple[str, str, dt.datetime, float]]) -> None:
        """Ingest listener: mark the sites of newly stored rows dirty and wake the flush thread."""
        touched, unknown = self.state.apply(rows)
        if unknown:
            self.load()  # new assets were seeded: pick them up
            touched, _ = self.state.apply([r for r in rows if r[0] in unknown])
        if touched:
            self._last_apply = time.monotonic()
            with self._dirty_lock:
                self._dirty |= touched
            self._wake.set()

    # --- flushing ----------------------------------------------------------------------------

    def start(self) -> None:
        """Load the state and start the flush thread (idempotent)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self.load()
        self._thread = threading.Thread(target=self._run, name="fleetlight-live-hub", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """Return True while the flush thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the flush thread, waiting up to ``timeout`` seconds for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _run(self) -> None:
        last_flush = 0.0
        while not self._stop.is_set():
            self._wake.wait(timeout=1.0)
            if self._stop.is_set():
                break
            wait = self.interval_s - (time.monotonic() - last_flush)
            if wait > 0:
                self._stop.wait(wait)
            self._wake.clear()
            try:
                self.flush()
                self._housekeeping()
            except Exception:
                log.exception("live hub flush failed")
            last_flush = time.monotonic()

    def flush(self) -> int:
        """Push the figures of every dirty site; return how many sites were pushed."""
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, set()
        if not dirty:
            return 0
        now = _now_ms()
        figures = self.state.site_figures(dirty, now)
        changed = {s: f for s, f in figures.items() if self._figures.get(s) != f}
        self._figures.update(figures)
        if not changed:
            return 0
        fleet = self.kpis("fleet", None)
        mono = time.monotonic()
        for site_id in changed:
            self._recent[site_id] = mono
        # repeat every site changed within REPEAT_S: a browser that missed a push (Dash keeps only
        # the newest value of a prop when pushes arrive faster than it runs callbacks) still converges
        window = {}
        for site_id, at in list(self._recent.items()):
            if mono - at > REPEAT_S:
                del self._recent[site_id]
            else:
                window[site_id] = self._figures[site_id].push_dict()
        self._emit("live_sites", {"full": False, "now_ms": now, "sites": window, "fleet": fleet}, "live",
                   lambda ids: {"full": False, "now_ms": now, "sites": {s: v for s, v in window.items() if s in ids},
                                "fleet": self.kpis("fleet", None, visible=set(ids))})
        self._push_map(changed)
        self._site_dirty |= set(changed)
        self._refresh_due = True
        self._kpi_due = True
        self._push_kpis_if_due(mono, fleet)
        return len(changed)

    def _push_kpis_if_due(self, mono: float, fleet: dict[str, Any] | None = None) -> None:
        # throttled with a trailing edge: the last change inside an interval is pushed when it ends
        # (housekeeping calls this too), so a tile never stays on a figure older than the newest
        if self._kpi_due and mono - self._last_kpi_push >= OVERVIEW_KPI_INTERVAL_S:
            self._last_kpi_push = mono
            self._kpi_due = False
            now = _now_ms()
            fleet = self.kpis("fleet", None) if fleet is None else fleet  # the flush passes the one it pushed
            self._emit("overview_kpis", {"now_ms": now, "fleet": fleet}, "overview",
                       lambda ids: {"now_ms": now, "fleet": self.kpis("fleet", None, visible=set(ids))})
            self._emit("market_kpis", self.market_payload(now, self._figures), "markets",
                       lambda ids: self.market_payload(now, figures=_only(self._figures, ids)))

    def _housekeeping(self) -> None:
        mono = time.monotonic()
        self._push_kpis_if_due(mono)
        if self._site_dirty and mono - self._last_site_push >= SITE_ROOM_INTERVAL_S:
            self._last_site_push = mono
            dirty, self._site_dirty = self._site_dirty, set()
            for site_id in dirty:
                self._emit("site_live", self.site_payload(site_id), f"site:{site_id}")
        if self._refresh_due and mono - self._last_refresh_push >= OVERVIEW_REFRESH_S:
            self._last_refresh_push = mono
            self._refresh_due = False
            nudge = {"now": _now_ms()}
            self._emit("overview_refresh", nudge, "overview", lambda _ids: nudge)
        if mono - self._last_sweep >= SWEEP_INTERVAL_S:
            self._last_sweep = mono
            self._sweep()
        if mono - self._last_full >= FULL_RESYNC_S:
            self._last_full = mono
            if mono - self._last_apply > RELOAD_IDLE_S and mono - self._loaded_at > RELOAD_IDLE_S:
                self.load()  # another process stores the data: catch up from the store
            figures = self.state.site_figures(None, _now_ms())
            self._figures.update(figures)
            self._emit("live_sites", self.live_payload(full=True, figures=figures), "live",
                       lambda ids: self.live_payload(full=True, figures=_only(figures, ids)))
        if self.serving:
            eio = getattr(getattr(self.socketio, "server", None), "eio", None)
            SOCKET_CLIENTS.set(len(eio.sockets) if eio is not None else 0)
            self._drop_slow_clients()
            if mono - self._last_auth_check >= AUTH_CHECK_S:
                self._last_auth_check = mono
                self._drop_revoked_clients()
                self._prune_scopes()

    def _sweep(self) -> None:
        """Recompute every site so ones that stopped reporting turn stale, and figures that move with
        time alone (the expectation follows the sun) reach screens although no data arrived."""
        figures = self.state.site_figures(None, _now_ms())
        # a change a screen shows (2 decimals of MW/MWh, the status), not every 0.1 kW the sun moves
        changed = {s: f for s, f in figures.items() if s not in self._figures or _shown(self._figures[s]) != _shown(f)}
        self._figures.update(figures)
        if changed:
            now = _now_ms()
            fleet = self.kpis("fleet", None)
            self._emit("live_sites", {"full": False, "now_ms": now,
                                      "sites": {s: f.push_dict() for s, f in changed.items()},
                                      "fleet": fleet}, "live",
                       lambda ids: {"full": False, "now_ms": now,
                                    "sites": {s: f.push_dict() for s, f in changed.items() if s in ids},
                                    "fleet": self.kpis("fleet", None, visible=set(ids))})
            self._push_map(changed)
            self._site_dirty |= set(changed)
            self._kpi_due = True

    def _push_map(self, figures: dict[str, SiteFigures]) -> None:
        changed = {}
        for site_id, f in figures.items():
            item = (f.status, _map_mw(f))
            if self._map_sent.get(site_id) != item:
                self._map_sent[site_id] = item
                changed[site_id] = {"status": f.status, "output_mw": item[1]}
        if changed:
            ts = dt.datetime.now(dt.UTC).isoformat()
            payload = {"ts": ts, "changed": changed}
            for event in MAP_EVENTS:
                self._emit(event, payload, "map", lambda ids: {"ts": ts, "changed": _only(changed, ids)})

    def prices_changed(self) -> None:
        """New real-time prices were stored: read them at the next KPI push, not after PRICES_REFRESH_S."""
        self._prices_at = -1e9
        self._kpi_due = True
        self._wake.set()

    def push(self, event: str, payload: Any, room: str,
             scoped: Callable[[frozenset[str]], Any] | None = None) -> None:
        """Emit ``event`` to ``room``; ``scoped(site_ids)`` gives the copy for each per-scope room.

        For a fleet-wide room (:data:`security.access.SCOPED_ROOMS`) without ``scoped`` the
        clients of a portfolio scope receive nothing (fail closed).
        """
        self._emit(event, payload, room, scoped)

    def _emit(self, event: str, payload: Any, room: str,
              scoped: Callable[[frozenset[str]], Any] | None = None) -> None:
        self.socketio.emit(event, payload, to=room, namespace=NAMESPACE)
        self.pushes += 1
        if scoped is not None and self._scopes:  # the unscoped path stays one emit
            for key, ids in list(self._scopes.items()):
                self.socketio.emit(event, scoped(ids), to=f"{room}@{key}", namespace=NAMESPACE)
                self.pushes += 1

    def _prune_scopes(self) -> None:
        """Forget the portfolio scopes none of whose per-scope rooms has a client left (not when shared:
        other processes' clients are not in this process's rooms)."""
        if not self._scopes or self.shared:
            return
        manager = getattr(getattr(self.socketio, "server", None), "manager", None)
        rooms = getattr(manager, "rooms", {}).get(NAMESPACE, {})
        for key in list(self._scopes):
            if not any(rooms.get(f"{room}@{key}") for room in SCOPED_ROOMS):
                del self._scopes[key]

    def _drop_slow_clients(self) -> list[str]:
        """Disconnect clients whose send queue stayed over the limit without draining; return their sids."""
        server = getattr(self.socketio, "server", None)
        eio = getattr(server, "eio", None)
        if eio is None:
            return []
        mono = time.monotonic()
        dropped = []
        sockets = dict(eio.sockets)
        for eio_sid in [s for s in self._backlogged if s not in sockets]:
            del self._backlogged[eio_sid]
        for eio_sid, sock in sockets.items():
            queue = getattr(sock, "queue", None)
            size = queue.qsize() if queue is not None else 0
            if size <= SLOW_CLIENT_QUEUE:
                self._backlogged.pop(eio_sid, None)
                continue
            since, last = self._backlogged.get(eio_sid, (mono, size))
            if size < last:
                since = mono  # draining: behind, but catching up
            self._backlogged[eio_sid] = (since, size)
            if mono - since < SLOW_CLIENT_GRACE_S:
                continue
            log.warning("disconnecting slow live client %s (%d packets queued for %.0f s)", eio_sid, size, mono - since)
            self._backlogged.pop(eio_sid, None)
            dropped.append(eio_sid)
            try:
                sock.close(wait=False, abort=True)
            except Exception:
                log.exception("could not drop slow client %s", eio_sid)
        return dropped

    def _drop_revoked_clients(self) -> list[str]:
        """Disconnect the sockets whose session, token or user no longer holds; return their sids."""
        if self.sessions is None or not len(self.sessions):
            return []
        manager = self.socketio.server.manager
        stale = self.sessions.revoked(self.db, lambda sid: manager.is_connected(sid, NAMESPACE))
        for sid in stale:
            self._disconnect(sid, "credentials ended")
        return stale

    def disconnect_identity(self, *, user_id: int | None = None, token_id: int | None = None,
                            session_id: str | None = None) -> int:
        """Disconnect at once this process's sockets of a user, token or session; return how many."""
        if self.sessions is None:
            return 0
        sids = self.sessions.sids_of(user_id=user_id, token_id=token_id, session_id=session_id)
        self.sessions.forget(sids)
        for sid in sids:
            self._disconnect(sid, "disconnected by identity")
        return len(sids)

    def _disconnect(self, sid: str, why: str) -> None:
        log.info("disconnecting live client %s: %s", sid, why)
        try:
            self.socketio.server.disconnect(sid, namespace=NAMESPACE)
        except Exception:
            log.exception("could not disconnect live client %s", sid)

    # --- full state --------------------------------------------------------------------------

    def prices(self) -> dict[tuple[str, str], tuple[float, str]]:
        """Return the latest real-time price per (market, node), re-read every ``PRICES_REFRESH_S``."""
        if time.monotonic() - self._prices_at >= PRICES_REFRESH_S:
            from data.fleet import latest_rt_prices

            with self.db.session() as session:
                self._prices = latest_rt_prices(session, dt.datetime.now(dt.UTC))
            self._prices_at = time.monotonic()
        return self._prices

    # ``_figures`` hold what the clients were last pushed (the flush compares against them); reads
    # recompute into a local copy and never write there, or a read between a batch and its flush
    # would swallow the push.

    def _fresh_figures(self, site_ids: list[str] | None = None) -> dict[str, SiteFigures]:
        """Return the last pushed figures with ``site_ids`` (None: every site) recomputed now."""
        return {**self._figures, **self.state.site_figures(site_ids, _now_ms())}

    def kpis(self, scope: str, scope_id: str | None, refresh: bool = False,
             visible: set[str] | None = None, figures: dict[str, SiteFigures] | None = None) -> dict[str, Any]:
        """Return the ``<kpi payload>`` of a scope (fleet, market, site) from the live state.

        ``refresh`` recomputes every site's figures (for a REST read or a full state); otherwise
        the figures of the last push are used, as the pushes do (or ``figures`` when given).
        ``visible`` limits the sites to those a caller may see (None: all).
        """
        if figures is None:
            figures = self._fresh_figures() if refresh or not self._figures else self._figures
        chosen = [f for f in figures.values() if visible is None or f.site_id in visible]
        return kpi_payload(scope_kpis(chosen, scope, scope_id, self.prices()))

    def current_figures(self, visible: set[str] | None = None) -> list[SiteFigures]:
        """Return every site's figures recomputed now (only ``visible`` sites when given)."""
        return [f for f in self._fresh_figures().values() if visible is None or f.site_id in visible]

    def market_payload(self, now: int | None = None, figures: dict[str, SiteFigures] | None = None) -> dict[str, Any]:
        """Return the ``market_kpis`` payload: one ``<kpi payload>`` per market, of ``figures`` (the
        push passes the figures it pushes) or, by default, every site recomputed now."""
        source = list((self._fresh_figures() if figures is None else figures).values())
        markets = sorted({f.market for f in source})
        prices = self.prices()
        return {"now_ms": _now_ms() if now is None else now,
                "markets": {m: kpi_payload(scope_kpis(source, "market", m, prices)) for m in markets}}

    def live_payload(self, full: bool = True, figures: dict[str, SiteFigures] | None = None) -> dict[str, Any]:
        """Return the full ``live_sites`` payload (every site, fleet KPIs, constants for the JS) of
        ``figures``, by default every site recomputed now."""
        now = _now_ms()
        if figures is None:
            figures = self._fresh_figures()
        return {"full": full, "now_ms": now, "sites": {s: f.push_dict() for s, f in figures.items()},
                "fleet": self.kpis("fleet", None, figures=figures),
                # the JS takes its thresholds from here; a full state comes at least every FULL_RESYNC_S
                "constants": {**status_constants(self.state.settings), "full_resync_s": FULL_RESYNC_S}}

    def map_payload(self) -> dict[str, Any]:
        """Return a ``map.status`` payload naming every site."""
        figures = self.state.site_figures(None, _now_ms())
        return {"ts": dt.datetime.now(dt.UTC).isoformat(),
                "changed": {s: {"status": f.status, "output_mw": _map_mw(f)} for s, f in figures.items()}}

    def site_payload(self, site_id: str) -> dict[str, Any]:
        """Return the ``site_live`` payload: the site's KPIs and every asset's latest live metrics."""
        now = _now_ms()
        figures = self._fresh_figures([site_id])
        with self.state._lock:
            assets = {a: {m: list(v) for m, v in s.values.items()} for a, s in self.state.assets.items() if s.site_id == site_id}
        return {"site_id": site_id, "now_ms": now, "kpis": self.kpis("site", site_id, figures=figures), "assets": assets}

    def full_state(self, room: str, scope: SiteScope = EVERY_SITE) -> list[tuple[str, Any]]:
        """Return the (event, payload) pairs a client of ``scope`` joining ``room`` receives."""
        messages = self._full_state(room, scope.site_ids)
        if scope.site_ids is None:
            return messages
        ids = scope.site_ids  # extra providers (markets_prices) may name sites: cut those too
        return [(e, {**p, "sites": _only(p["sites"], ids)} if isinstance(p, dict) and isinstance(p.get("sites"), dict)
                 else p) for e, p in messages]

    def _full_state(self, room: str, ids: frozenset[str] | None) -> list[tuple[str, Any]]:
        # catch up from the store (another process may be storing) at most every FULL_RESYNC_S:
        # a reload costs ~1 s of CPU at 100k assets, too much to pay on every (re)connect
        if time.monotonic() - self._last_apply > RELOAD_IDLE_S and time.monotonic() - self._loaded_at > FULL_RESYNC_S:
            self.load()
        if room == "live":
            return [("live_sites", self.live_payload(full=True, figures=_only(self._fresh_figures(), ids)))]
        if room == "map":
            payload = self.map_payload()
            payload["changed"] = _only(payload["changed"], ids)
            return [(event, payload) for event in MAP_EVENTS]
        if room == "overview":
            visible = None if ids is None else set(ids)
            return [("overview_kpis", {"now_ms": _now_ms(), "fleet": self.kpis("fleet", None, refresh=True, visible=visible)})]
        if room == "markets":
            provider = self.extra_full_state.get(room)
            return ([("market_kpis", self.market_payload(figures=_only(self._fresh_figures(), ids)))]
                    + (provider() if provider else []))
        if room.startswith("site:"):
            return [("site_live", self.site_payload(room[5:]))]
        provider = self.extra_full_state.get(room)
        return provider() if provider else []

    # --- connections -------------------------------------------------------------------------

    def on_connect(self, auth: Any) -> bool:
        """Join the rooms the client asks for (``auth.rooms``) and send it their full state."""
        rooms = auth.get("rooms") if isinstance(auth, dict) else None
        if not isinstance(rooms, list) or not rooms:
            rooms = ["live"]
        caller = socket_caller(auth if isinstance(auth, dict) else None)
        # (asked, joined): a scoped caller's fleet-wide rooms become per-scope rooms (room_for)
        pairs = [(r, room_for(r, caller)) for r in rooms[:20] if valid_room(r)]
        joined = [(asked, room) for asked, room in pairs if room is not None]
        if not joined:
            return False
        scope = EVERY_SITE
        if any(room != asked for asked, room in joined):
            scope = scope_of(caller)
            if scope.site_ids is not None:
                self._scopes[scope.key] = scope.site_ids
        sid = request.sid  # type: ignore[attr-defined]
        if self.sessions is not None:
            self.sessions.track(sid, auth)  # re-checked every AUTH_CHECK_S: revocation reaches open sockets
        for _asked, room in joined:
            join_room(room)
        messages = [m for asked, room in joined for m in self.full_state(asked, scope if room != asked else EVERY_SITE)]

        def send() -> None:
            for event, payload in messages:
                self.socketio.emit(event, payload, to=sid, namespace=NAMESPACE)

        # emit after the connect handshake has completed (emits inside the handler may be dropped)
        def send_soon() -> None:
            time.sleep(0.05)
            send()

        self.socketio.start_background_task(send_soon)
        return True


def _only(by_site: dict[str, Any], ids: frozenset[str] | None) -> dict[str, Any]:
    """Return the entries of ``by_site`` whose site id is in ``ids`` (all when None)."""
    return dict(by_site) if ids is None else {s: v for s, v in by_site.items() if s in ids}


_SHOWN_DIGITS = {"performance_pct": 0, "capacity_factor": 3}  # shown as whole % and 0.1 %; MW/MWh to 2 decimals


def _shown(f: SiteFigures) -> tuple:
    """Return the site's push entry at the precision screens show it."""
    return tuple(round(v, _SHOWN_DIGITS.get(k, 2)) if isinstance(v, float) else v for k, v in f.push_dict().items())


def _map_mw(f: SiteFigures) -> float:
    return round(f.output_mw, 4) if f.output_mw is not None else 0.0


def _socket_sessions() -> Any:
    """Return the tracker of socket identities (security.sessions)."""
    from security.sessions import SocketSessions

    return SocketSessions()


def current_hub() -> LiveHub | None:
    """Return the hub of the installed process services (None when there are none or no hub)."""
    services = runtime.installed()
    return None if services is None else services.hub


def _on_connect(auth: Any = None) -> bool:
    hub = current_hub()
    return False if hub is None else hub.on_connect(auth)


ALERT_EVENT = "alert_changed"


def push_alert_changed(hub: LiveHub, message: dict[str, Any]) -> None:
    """Push one ``alert.changed`` message to the ``alerts`` room (the /alerts page, by push).

    A client scoped to some portfolios receives the message only for its sites (fleet-wide alerts
    such as a failing integration, with no site, reach every scope); else ``{"alert_id": None}``,
    which tells the page nothing but that something it cannot see changed.
    """
    site_id = message.get("site_id")

    def scoped(ids: frozenset[str]) -> dict[str, Any]:
        return message if site_id is None or site_id in ids else {"alert_id": None}

    hub.push(ALERT_EVENT, message, "alerts", scoped)


def attach_hub(socketio: SocketIO, services: Any) -> LiveHub:
    """Build a serving hub on ``services`` (their settings, database and ingest), make it their hub; return it.

    ``services`` is a ``bootstrap.services.Services`` (tests attach a hub to their own services).
    """
    settings = services.settings
    hub = LiveHub(socketio, services.db, settings.live_push_interval_ms / 1000.0, serving=True,
                  shared=bool(settings.redis_url))
    services.ingest.add_listener(hub.on_stored)
    services.hub = hub
    return hub


def make_socketio() -> SocketIO:
    """Return the (unbound) SocketIO server, threading mode; :func:`bind_socketio` attaches it to Flask.

    The Redis message queue is given when binding: passing it here would build a write-only server.
    Only the app's own origin (plus FLEETLIGHT_ALLOWED_ORIGINS) may connect: ``[]`` would switch
    Engine.IO's origin check off.
    """
    from security.live_channel import origin_allowed

    return SocketIO(
        async_mode="threading", cors_allowed_origins=origin_allowed, ping_interval=10, ping_timeout=20,
        max_http_buffer_size=100_000, logger=False, engineio_logger=False,
    )


def bind_socketio(socketio: SocketIO, app_server: Any, redis_url: str) -> None:
    """Attach ``socketio`` to the Flask app (Redis message queue if configured) and route ``connect``."""
    from security.live_channel import LiveChannelHeaders

    socketio.on_event("connect", _on_connect, namespace=NAMESPACE)
    socketio.init_app(app_server, message_queue=redis_url or None)
    app_server.wsgi_app = LiveChannelHeaders(app_server.wsgi_app)


def make_emitter(redis_url: str) -> SocketIO:
    """Return a write-only SocketIO emitter through Redis (for worker processes without a web server)."""
    if not redis_url:
        raise ValueError("a worker process can push to browsers only through Redis: set FLEETLIGHT_REDIS_URL")
    return SocketIO(message_queue=redis_url)
