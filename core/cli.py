"""``flask --app app <command>``: database, demo fleet and token administration.

Feature packages add their own commands (backtest, report, create-user, rotate-keys) through
modules listed in :data:`OPTIONAL_COMMAND_MODULES`, each exposing ``register_cli(server)`` or
click commands named ``<name>_command`` (registered as ``<name>``).
"""
from __future__ import annotations

import importlib
import json

import click
from flask import Flask

from core.runtime import services

OPTIONAL_COMMAND_MODULES = ("forecasting.cli", "security.cli", "reports.cli", "connectors.cli", "live.cli")


def register_cli(server: Flask) -> None:
    """Attach every Fleetlight command to ``server.cli``."""

    @server.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Apply pending database migrations."""
        from data.migrate import upgrade_to_head

        upgrade_to_head(services().db)
        click.echo(f"database at head: {services().db.engine.url.render_as_string(hide_password=True)}")

    @server.cli.command("seed")
    @click.option("--assets", "n_assets", type=click.IntRange(10, 100_000), default=None,
                  help="portfolio size in assets (10 to 100,000); default FLEETLIGHT_SEED_ASSETS")
    def seed(n_assets: int | None) -> None:
        """Build (or rebuild) the demo fleet from the real data in demo_data/."""
        from data.migrate import upgrade_to_head
        from demo.fleet import seed_demo_fleet

        svc = services()
        upgrade_to_head(svc.db)
        summary = seed_demo_fleet(svc.db, n_assets or svc.settings.seed_assets)
        click.echo(json.dumps(summary, default=str))

    @server.cli.command("create-token")
    @click.option("--name", required=True, help="a label for the client, e.g. 'scada-gateway-1'")
    @click.option("--scope", "scopes", multiple=True, default=("telemetry:write",), show_default=True,
                  help="permission granted (repeatable), e.g. telemetry:write, read")
    @click.option("--role", type=click.Choice(["viewer", "wall", "analyst", "operator", "manager", "admin"]),
                  default="operator", show_default=True)
    def create_token_command(name: str, scopes: tuple[str, ...], role: str) -> None:
        """Create an API token and print it once (store it; only its hash is kept)."""
        from data.migrate import upgrade_to_head
        from data.models import Role
        from security.tokens import create_token

        upgrade_to_head(services().db)
        click.echo(create_token(services().db, name, list(scopes), Role(role)))

    for module_name in OPTIONAL_COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        if hasattr(module, "register_cli"):
            module.register_cli(server)
            continue
        for attr, value in vars(module).items():
            if attr.endswith("_command") and isinstance(value, click.Command):
                server.cli.add_command(value, attr[: -len("_command")].replace("_", "-"))
