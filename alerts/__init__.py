"""Alerts: rules as data (:mod:`alerts.rules`), evaluated on what the bus carries
(:mod:`alerts.evaluator`), raised, suppressed, acknowledged and resolved by :mod:`alerts.lifecycle`,
which publishes every change as one ``alert.changed`` message (docs/alerts.md)."""
