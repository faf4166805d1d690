"""A slow browser never slows the others: it is dropped, the others keep their pace."""
from __future__ import annotations

import socket
import threading
import time

import pytest
import socketio
import websocket
from werkzeug.serving import make_server

from live import hub as hub_module
from live.hub import NAMESPACE
from tests.support.live_services import free_port, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture()
def served(dash_app, live_hub):  # noqa: ANN001, ANN201
    """Serve the app (with Socket.IO) on a real port in a thread."""
    port = free_port()
    server = make_server("127.0.0.1", port, dash_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()


def _stalled_client(port: int, token: str) -> websocket.WebSocket:
    """Open a Socket.IO websocket with a tiny receive buffer, join room live, then never read again."""
    ws = websocket.WebSocket()
    ws.connect(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
               sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
    assert ws.recv().startswith("0")  # engine.io open packet
    ws.send('40/live,{"token":"%s","rooms":["live"]}' % token)
    return ws


def test_slow_client_is_dropped_and_others_keep_up(served, live_hub, viewer_token, monkeypatch):
    monkeypatch.setattr(hub_module, "SLOW_CLIENT_QUEUE", 40)
    eio = live_hub.socketio.server.eio
    before = set(eio.sockets)
    stalled = _stalled_client(served, viewer_token)
    wait_for(lambda: len(set(eio.sockets) - before) == 1, 5, what="the stalled client to connect")
    stalled_sid = (set(eio.sockets) - before).pop()
    fast = socketio.Client(reconnection=False)
    received: list[float] = []
    fast.on("bulk", lambda _p: received.append(time.monotonic()), namespace=NAMESPACE)
    fast.connect(f"http://127.0.0.1:{served}", namespaces=[NAMESPACE], auth={"token": viewer_token, "rooms": ["live"]},
                 transports=["websocket"])
    payload = {"blob": "x" * 100_000}
    start = time.monotonic()
    for _ in range(200):  # 20 MB to everyone in room live
        live_hub.socketio.emit("bulk", payload, to="live", namespace=NAMESPACE)
        time.sleep(0.005)
    wait_for(lambda: len(received) == 200, 20, what="the fast client to receive all 200 pushes")
    elapsed = received[-1] - start
    live_hub._drop_slow_clients()  # noqa: SLF001 - the flush loop runs it too; make it deterministic here
    wait_for(lambda: stalled_sid not in eio.sockets or eio.sockets[stalled_sid].closed, 10,
             what="the stalled client to be dropped")
    members = live_hub.socketio.server.manager.rooms.get(NAMESPACE, {}).get("live", {})
    assert all(live_hub.socketio.server.manager.eio_sid_from_sid(s, NAMESPACE) != stalled_sid for s in members)
    fast.disconnect()
    stalled.close()
    assert elapsed < 10.0, f"the fast client needed {elapsed:.1f} s for 200 pushes"
