"""Both pages build their layout (every component prop valid) on an empty and on a filled directory."""
from __future__ import annotations

import datetime as dt

import dash

from notifications import directory
from tests.notifications.conftest import make_user


def _layout(path: str, user_id: int) -> str:
    from flask import g

    from data.models import Role
    from security.access import Caller

    g.fleetlight_caller = Caller("olga", Role.admin, None, "session", user_id=user_id)
    page = next(p for p in dash.page_registry.values() if p["path"] == path)  # the app's own registration
    return str(page["layout"]())


def test_layouts_build(dash_app, services, gateway):
    user = make_user(services.db, "olga", role="admin")
    with dash_app.server.test_request_context("/"):
        assert "No contact method yet" in _layout("/account/notifications", user)
        assert "No schedule yet" in _layout("/admin/on-call", user)
    directory.add_contact_method(services.db, "t", user, "email", "olga@example.com", gateway=gateway)
    schedule = directory.save_schedule(services.db, "t", "ops", [user], dt.datetime.now(dt.UTC), 24)
    directory.save_policy(services.db, "t", "p", [{"targets": [{"type": "schedule", "id": schedule}]}])
    with dash_app.server.test_request_context("/"):
        assert "olga@example.com" in _layout("/account/notifications", user)
        text = _layout("/admin/on-call", user)
    assert "on call: ops" in text and "olga" in text
