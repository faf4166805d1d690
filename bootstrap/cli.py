"""``flask --app app <command>``: database, demo fleet and token administration.

Feature packages own their commands: ``backtest`` and ``retrain`` (forecasting.cli),
``create-user`` and ``rotate-keys`` (security.cli).
"""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask

from core.runtime import services


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

    @server.cli.command("backup")
    @click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(target: Path) -> None:
        """Write a consistent backup of the whole database to TARGET (the app may keep running)."""
        from data.backup import BackupError, backup

        try:
            result = backup(services().settings.resolved_database_url(), target)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{result.kind} backup written to {result.path} ({result.bytes:,} bytes)")

    @server.cli.command("restore")
    @click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="confirm: everything in the configured database is replaced")
    def restore_command(source: Path, yes: bool) -> None:
        """Replace the whole database by the backup SOURCE (stop the app and the workers first)."""
        from data.backup import BackupError, restore

        if not yes:
            raise click.ClickException("restore replaces everything in the database; stop the app and the workers, "
                                       "then run again with --yes")
        try:
            result = restore(services().settings.resolved_database_url(), source)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"restored the {result.kind} backup {result.path} ({result.bytes:,} bytes)")

    from forecasting.cli import backtest_command, retrain_command
    from security.cli import register_cli as register_security_cli

    server.cli.add_command(backtest_command, "backtest")
    server.cli.add_command(retrain_command, "retrain")
    register_security_cli(server)
