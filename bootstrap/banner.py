"""What the server says when it starts: where it serves, and how to sign in the first time."""
from __future__ import annotations

from sqlalchemy import func, select

from core.settings import Settings
from data.db import Database
from data.models import Role, User

CREATE_ADMIN = "flask --app app create-user --username admin --role admin"


def serving_url(settings: Settings) -> str:
    """Return the URL a browser on this machine opens (a wildcard host is reached on loopback)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def startup_lines(settings: Settings, db: Database) -> list[str]:
    """Return the start-up message: the URL, and while no administrator exists, how to create one
    (the CLI command, or the first-run page the sign-in form links to from this machine)."""
    url = serving_url(settings)
    lines = [f"Fleetlight is serving at {url}"]
    with db.read_session() as session:
        admins = session.execute(select(func.count()).select_from(User).where(User.role == Role.admin)).scalar_one()
    if not admins:
        lines.append(f"No administrator yet: create one with `{CREATE_ADMIN}` (it asks for the password), "
                     f"or open {url}/setup from this machine")
    return lines
