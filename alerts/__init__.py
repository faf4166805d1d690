"""Alerts: raised from operational events (anomalies, integration failures), acknowledged and
resolved by operators through the API, every change audited."""
