"""A slow browser never slows the others: it is dropped, the others keep their pace."""
from __future__ import annotations

import queue
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
def served(dash_app, live_hub):
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
    ws.send(f'40/live,{{"token":"{token}","rooms":["live"]}}')
    return ws


def test_slow_client_is_dropped_and_others_keep_up(served, live_hub, viewer_token, monkeypatch):
    # 200 pushes of 100 kB: the stalled client's queue passes 100 and stays there (its socket
    # buffers hold only a few); the fast one may fall behind on a loaded machine but drains
    monkeypatch.setattr(hub_module, "SLOW_CLIENT_QUEUE", 100)
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
    wait_for(lambda: len(received) == 200, 60, what="the fast client to receive all 200 pushes")
    elapsed = received[-1] - start
    # the flush loop checks every second and drops a client after SLOW_CLIENT_GRACE_S without draining
    wait_for(lambda: stalled_sid not in eio.sockets or eio.sockets[stalled_sid].closed, 15,
             what="the stalled client to be dropped")
    members = live_hub.socketio.server.manager.rooms.get(NAMESPACE, {}).get("live", {})
    assert all(live_hub.socketio.server.manager.eio_sid_from_sid(s, NAMESPACE) != stalled_sid for s in members)
    fast_sid_kept = fast.connected
    fast.disconnect()
    stalled.close()
    assert fast_sid_kept, "the fast client was dropped although it kept reading"
    assert elapsed < 30.0, f"the fast client needed {elapsed:.1f} s for 200 pushes"


class _Socket:
    """The part of an engine.io socket the hub reads: its send queue, and close()."""

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue()
        self.closed = False

    def close(self, wait: bool = True, abort: bool = False) -> None:
        self.closed = True


def test_a_client_catching_up_is_kept_and_a_stalled_one_dropped(live_hub, monkeypatch):
    monkeypatch.setattr(hub_module, "SLOW_CLIENT_QUEUE", 10)
    monkeypatch.setattr(hub_module, "SLOW_CLIENT_GRACE_S", 0.2)
    live_hub.stop()  # the test drives the checks
    catching_up, stalled = _Socket(), _Socket()
    for _ in range(50):
        catching_up.queue.put(b"x")
        stalled.queue.put(b"x")
    eio = live_hub.socketio.server.eio
    monkeypatch.setattr(eio, "sockets", {"catching-up": catching_up, "stalled": stalled})
    assert live_hub._drop_slow_clients() == []
    dropped = []
    for _ in range(4):
        time.sleep(0.1)
        for _ in range(5):
            catching_up.queue.get()
        dropped += live_hub._drop_slow_clients()
    assert dropped == ["stalled"] and stalled.closed
    assert not catching_up.closed
    # once under the limit it is forgotten; a later backlog starts a new grace period
    while catching_up.queue.qsize() > 5:
        catching_up.queue.get()
    assert live_hub._drop_slow_clients() == []
    assert "catching-up" not in live_hub._backlogged
