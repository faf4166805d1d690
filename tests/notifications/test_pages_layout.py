"""Both pages build their layout (every component prop valid) on an empty and on a filled directory."""
from __future__ import annotations

import datetime as dt

from notifications import directory
from tests.notifications.conftest import make_user


def test_layouts_build(dash_app, services, gateway):
    import pages.notifications
    import pages.oncall

    with dash_app.server.test_request_context("/"):
        assert "No contact method yet" in str(pages.notifications.layout())
        assert "No schedule yet" in str(pages.oncall.layout())
    user = make_user(services.db, "olga")
    directory.add_contact_method(services.db, "t", user, "email", "olga@example.com", gateway=gateway)
    schedule = directory.save_schedule(services.db, "t", "ops", [user], dt.datetime.now(dt.UTC), 24)
    directory.save_policy(services.db, "t", "p", [{"targets": [{"type": "schedule", "id": schedule}]}])
    with dash_app.server.test_request_context("/"):
        text = str(pages.oncall.layout())
    assert "on call: ops" in text and "olga" in text
