"""Fleetlight's entry point: the Dash app, its Flask ``server``, and the serving command.

    python app.py                 # migrate, seed if empty, start the components, serve on :8050
    flask --app app <command>     # CLI: seed, create-token, backtest, report, create-user, ...
    gunicorn -c deploy/gunicorn.conf.py app:server

The services are built by ``bootstrap.build`` (role "web"); nothing starts until :func:`main`
(or gunicorn's ``post_worker_init``) runs, and SIGTERM stops every component.
"""
from __future__ import annotations

import sys

from core.settings import SettingsError, get_settings

try:
    settings = get_settings()
except SettingsError as exc:
    sys.exit(f"Fleetlight cannot start: {exc}")

from core.runtime import services

try:
    from bootstrap.web import create_app, serve

    app = create_app(settings)
except ImportError as exc:  # a missing or broken part stops start-up, named, instead of running without it
    sys.exit(f"Fleetlight cannot start: a part failed to import ({exc.name or 'unknown module'}): {exc}")
server = app.server


def main() -> int:
    """Start the components and serve the app on the configured host and port until SIGTERM; return 0."""
    return serve(app, services())


if __name__ == "__main__":
    sys.exit(main())
