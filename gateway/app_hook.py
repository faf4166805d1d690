"""Wires the gateway into the app: process gateway, background polling, health probe, clean exit.

Imported by core.factory (feature hook): registers an APP_HOOK that installs the gateway built
from the app's settings, adds ``start_polling`` to the background starters (it runs when the app
serves, never on import or in tests) and an ``integrations`` health probe.
"""
from __future__ import annotations

import atexit
from typing import Any

from core.factory import APP_HOOKS


def _hook(app: Any, services: Any) -> None:
    from gateway.core import Gateway, install_gateway

    gateway = Gateway(services.settings)
    previous = install_gateway(gateway)
    if previous is not None:
        previous.close()
    services.extras["gateway"] = gateway
    atexit.register(gateway.close)

    def probe() -> dict[str, Any]:
        states = {row["provider"]: row["state"] for row in gateway.status()}
        bad = [p for p, s in states.items() if s in ("breaker open", "degraded")]
        return {"status": "degraded" if bad else "ok", "providers": states}

    services.extras.setdefault("health_probes", {})["integrations"] = probe

    def start(svc: Any) -> None:
        from connectors.polling import start_polling

        start_polling(svc, gateway=gateway)

    services.extras.setdefault("background_starters", []).append(start)


APP_HOOKS.append(_hook)
