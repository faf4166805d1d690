"""Gunicorn settings for Fleetlight: ``gunicorn -c deploy/gunicorn.conf.py app:server``.

Socket.IO runs in Flask-SocketIO's threading mode with simple-websocket, so each gunicorn
process is ONE worker with many threads (``gthread``): a Socket.IO client's long-polling
requests and its websocket must reach the same process, and gunicorn cannot route by session
between its own workers. Scale out by running several gunicorn instances (one port each) behind
a load balancer with sticky sessions, all pointed at the same Redis (FLEETLIGHT_REDIS_URL) so a
push made by any process reaches every browser. docs/deployment.md shows the commands.

Every value can be overridden with the environment variables named below.
"""
from __future__ import annotations

import os

# FLEETLIGHT_BIND (gunicorn's host:port form) wins; otherwise FLEETLIGHT_HOST and FLEETLIGHT_PORT, as for python app.py
bind = os.environ.get("FLEETLIGHT_BIND") or (
    os.environ.get("FLEETLIGHT_HOST", "127.0.0.1") + ":" + os.environ.get("FLEETLIGHT_PORT", "8050"))
workers = 1  # one process per gunicorn instance (see above); run more instances for more processes
worker_class = "gthread"
threads = int(os.environ.get("FLEETLIGHT_GUNICORN_THREADS", "200"))  # each websocket holds a thread
timeout = 60  # worker heartbeat; gthread beats from its main loop, so long-lived websockets are fine
graceful_timeout = 20
keepalive = 30
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("FLEETLIGHT_LOG_LEVEL", "INFO").lower()
preload_app = False  # build the app (and its threads) inside the worker process


_BOOTED = __import__("threading").Event()


def post_fork(server, worker) -> None:
    """Tell the arbiter the worker is alive while it imports the app and runs the first start
    (migrations, seeding, back-fill): it kills a worker silent for ``timeout`` seconds, and on a
    loaded machine the import alone took 23 s."""
    import threading

    def heartbeat() -> None:
        while not _BOOTED.wait(5.0):
            worker.notify()

    threading.Thread(target=heartbeat, name="fleetlight-boot-heartbeat", daemon=True).start()


def post_worker_init(worker) -> None:
    """Start the components (migrations, seeding, live hub, bus consumer, simulator, jobs)."""
    import signal
    import threading

    from bootstrap.banner import startup_lines
    from bootstrap.build import start
    from bootstrap.web import disconnect_clients
    from core.runtime import services

    try:
        start(services())
    finally:
        _BOOTED.set()  # ends the heartbeat started in post_fork
    for line in startup_lines(services().settings, services().db):
        worker.log.info("%s", line)
    graceful_exit = signal.getsignal(signal.SIGTERM)  # gunicorn's: stop accepting, wait for open requests

    def on_sigterm(signum, frame) -> None:
        # open websockets are requests that never end: close them so the graceful exit can finish
        threading.Thread(target=disconnect_clients, args=(services(),), name="fleetlight-disconnect").start()
        if callable(graceful_exit):
            graceful_exit(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)


def worker_exit(server, worker) -> None:
    """Stop every component (reverse order), the scheduler, bus, gateway and database, within 10 s."""
    from bootstrap.build import stop
    from core.runtime import installed

    services = installed()
    if services is not None:
        stop(services, timeout=10.0)


def child_exit(server, worker) -> None:
    """Fold an exited process's live gauges out of the shared Prometheus metrics folder (if one is set)."""
    from core.settings import get_settings

    folder = get_settings().metrics_multiproc_dir
    if folder is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, str(folder))
