"""Builds the Dash app and the process's services, and starts the background workers.

``create_app`` never starts threads, so importing ``app`` (for the CLI, gunicorn or tests) is
cheap and side-effect free; :func:`start_background` is called by the serving entry points.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from dash import Dash

from core import runtime
from core.logging_setup import configure_logging
from core.settings import REPO_ROOT, Settings, get_settings
from data.db import Database

log = logging.getLogger(__name__)

# Feature packages hook in here (security, live hub, gateway pollers...): each is called with
# (app, services) once the app exists.
APP_HOOKS: list[Callable[[Dash, runtime.Services], None]] = []


def build_services(settings: Settings) -> runtime.Services:
    """Return the process's services: database, bus and ingest path, installed as current."""
    from bus import make_bus
    from ingest.service import IngestService

    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.resolved_database_url(), echo=settings.db_echo)
    bus = make_bus(settings, database)
    services = runtime.Services(settings=settings, db=database, bus=bus)
    ingest = IngestService(database, bus, settings.ingest_max_future_s, settings.ingest_max_age_days)
    ingest.start_consumer()
    services.extras["ingest"] = ingest
    return runtime.install(services)


def _load_feature_hooks() -> None:
    """Import the feature packages that append to APP_HOOKS (sign-in and guards, live hub, gateway)."""
    import gateway.app_hook  # noqa: F401
    import live.hub  # noqa: F401
    import security.web  # noqa: F401


def create_app(settings: Settings | None = None, services: runtime.Services | None = None) -> Dash:
    """Return the Dash app (multi-page) with the REST API and CLI registered on its Flask server."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    services = services or build_services(settings)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(REPO_ROOT / "pages"),
        assets_folder=str(REPO_ROOT / "assets"),
        title="Fleetlight",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    server = app.server
    server.config["SECRET_KEY"] = settings.resolved_secret_key()
    server.config["MAX_CONTENT_LENGTH"] = settings.ingest_max_body_bytes
    server.extensions["fleetlight"] = services

    from api import create_api_blueprint
    from components.shell import build_shell
    from core.cli import register_cli

    server.register_blueprint(create_api_blueprint())
    register_cli(server)
    from callbacks import register_all

    register_all(app)

    app.layout = build_shell
    _load_feature_hooks()
    for hook in APP_HOOKS:
        hook(app, services)
    return app


def start_background(services: runtime.Services) -> None:
    """Migrate, seed an empty store, and start the simulator and other workers (serving only)."""
    from data.migrate import upgrade_to_head

    settings = services.settings
    upgrade_to_head(services.db)
    services.db.start_maintenance()
    fresh_fleet = False
    if settings.seed_on_start:
        from data.fleet_admin import fleet_is_empty

        if fleet_is_empty(services.db):
            fresh_fleet = True
            from demo.fleet import seed_demo_fleet

            summary = seed_demo_fleet(services.db, settings.seed_assets)
            log.info("seeded the demo fleet: %s", summary)
    from ingest.retention import RetentionWorker

    retention = RetentionWorker(services.db, settings.raw_retention_days)
    services.extras["retention"] = retention
    retention.start()
    ingest = services.extras["ingest"]
    ingest.assets.refresh()
    simulator = None
    if settings.simulator_enabled:
        from simulator.runner import Simulator

        simulator = Simulator(ingest, services.db, settings.simulator_interval_s, settings.simulator_max_assets)
        services.extras["simulator"] = simulator
        simulator.start()
    from core.background import start_alert_raiser, start_history_and_forecasts

    start_alert_raiser(services)
    start_history_and_forecasts(services, simulator, fresh_fleet)
    for starter in services.extras.get("background_starters", []):
        starter(services)

