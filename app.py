"""Fleetlight composition root: the Dash app, its Flask ``server``, and the serving entry point.

    python app.py                 # migrate, seed if empty, start the simulator, serve on :8050
    flask --app app <command>     # CLI: seed, create-token, backtest, report, create-user, ...
    gunicorn -c deploy/gunicorn.conf.py app:server
"""
from __future__ import annotations

import sys

from core.settings import SettingsError, get_settings

try:
    settings = get_settings()
except SettingsError as exc:
    sys.exit(f"Fleetlight cannot start: {exc}")

from core.factory import create_app, start_background
from core.runtime import services

app = create_app(settings)
server = app.server


def main() -> None:
    """Start the background workers and serve the app on the configured host and port."""
    start_background(services())
    runner = services().extras.get("serve")
    if runner is not None:
        runner(app, settings)
    else:
        app.run(host=settings.host, port=settings.port, debug=settings.debug, use_reloader=False)


if __name__ == "__main__":
    main()
