"""Notifications and on-call: from an ``alert.changed`` message to a person, with nothing lost.

1. :mod:`notifications.outbox` consumes ``alert.changed``: an open alert starts the escalation
   policy that matches it (:mod:`notifications.oncall`: schedules, overrides, quiet hours), which
   writes one ``notifications`` row per person and contact method (the outbox), in one
   transaction; acknowledged or resolved stops the escalation and tells who was paged.
2. The relay publishes every due row on the bus as ``notification.v1``; a sender claims the row
   and calls the provider through its SDK and the gateway (:mod:`notifications.channels`).
   A transient failure puts the row back with a later ``next_attempt_at`` (back-off); a permanent
   one marks it failed, dead-letters it, and writes the person's next contact method.
3. Provider callbacks (``webhooks.twilio|sendgrid|slack`` from ``api/webhooks.py``, signatures
   verified there) update delivery status and turn keypad, SMS reply and Slack button
   acknowledgements into :meth:`alerts.lifecycle.AlertBook.acknowledge` (:mod:`notifications.receipts`).
"""
