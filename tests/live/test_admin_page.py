"""The admin bus page renders dead letters and schemas from the store and the registry."""
from __future__ import annotations

from bus.deadletter import dead_letter
from callbacks.admin_bus import dead_letter_rows, schema_view


def test_rows_and_schema_view(dash_app, services):
    dead_letter(services.db, "bus.store", "telemetry.v1", "schema: telemetry.v1 v1: ts_ms.0: Input should be a valid integer",
                {"v": 1, "source": "x"})
    rows = dead_letter_rows("telemetry.v1", "open")
    assert len(rows) == 1 and "ts_ms.0" in rows[0]["reason"] and rows[0]["replayed_at"] == ""
    assert dead_letter_rows(None, "replayed") == []
    view = schema_view("telemetry.v1")
    assert "telemetry.v1 · version 1 (current)" in str(view[0].children)
    import dash

    page = next(p for p in dash.page_registry.values() if p["path"] == "/admin/dead-letters")
    assert page["min_role"] == "admin"
    assert "sec-denied" in str(page["layout"]())  # anonymous: the role guard answers
    assert "Dead letters" in str(page["layout"].__wrapped__())  # the page itself
