"""``flask --app app create-user`` and ``flask --app app rotate-keys``."""
from __future__ import annotations

import sys

import click
from flask import Flask

from core.runtime import services

ROLE_CHOICES = ["viewer", "wall", "analyst", "operator", "manager", "admin"]


def register_cli(server: Flask) -> None:
    """Attach the security commands to ``server.cli``."""

    @server.cli.command("create-user")
    @click.option("--username", required=True, help="sign-in name (letters, digits, _ . @ -)")
    @click.option("--role", type=click.Choice([r for r in ROLE_CHOICES if r != "wall"]), default="viewer",
                  show_default=True)
    @click.option("--email", default="", help="contact address (optional)")
    @click.option("--portfolio", "portfolios", multiple=True, help="limit the user to this portfolio id (repeatable)")
    @click.option("--password-stdin", is_flag=True, help="read the password from the first line of standard input")
    def create_user_command(username: str, role: str, email: str, portfolios: tuple[str, ...], password_stdin: bool) -> None:
        """Create a user; the password is prompted for (never echoed) or read from stdin."""
        from data.migrate import upgrade_to_head
        from data.models import Role
        from security.passwords import WeakPassword
        from security.users import UserError, create_user

        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        upgrade_to_head(services().db)
        try:
            user = create_user(services().db, username, password, Role(role), email, list(portfolios), actor="cli")
        except (UserError, WeakPassword) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"created user {user.username!r} (id {user.id}, role {user.role.value})")

    @server.cli.command("rotate-keys")
    @click.option("--generate", is_flag=True,
                  help="instance key file only: prepend a newly generated key before re-encrypting")
    @click.option("--retire", is_flag=True,
                  help="instance key file only: after re-encrypting, drop every key but the primary")
    def rotate_keys_command(generate: bool, retire: bool) -> None:
        """Re-encrypt every stored secret with the primary encryption key (no downtime)."""
        from cryptography.fernet import Fernet

        from data.migrate import upgrade_to_head
        from security.vault import VaultError, get_vault, key_file, parse_keys

        svc = services()
        upgrade_to_head(svc.db)
        path = key_file(svc.settings)
        if (generate or retire) and path is None:
            raise click.ClickException("--generate/--retire manage the instance key file; with "
                                       "FLEETLIGHT_ENCRYPTION_KEYS set, edit that variable instead")
        vault = get_vault()
        if generate and path is not None:
            keys = parse_keys(path.read_text()) if path.exists() else []
            path.write_text(",".join([Fernet.generate_key().decode()] + [k.decode() for k in keys]))
            path.chmod(0o600)
            click.echo(f"added a new primary key to {path}")
        try:
            count = vault.rotate_all(actor="cli")
        except VaultError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"re-encrypted {count} secret(s) with the primary key")
        if retire and path is not None:
            keys = parse_keys(path.read_text())
            path.write_text(keys[0].decode())
            click.echo(f"retired {len(keys) - 1} old key(s)")
