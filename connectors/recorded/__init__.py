"""Recorded provider payloads replayed when a provider has no credentials (offline mode).

The files in the sub-folders are byte-exact copies of the recorded payloads in tests/fixtures/
(provenance: tests/fixtures/SOURCES.md). :func:`register_recordings` registers each connector's
replay handler with the gateway; ``bootstrap.build`` calls it.
"""
from __future__ import annotations

from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def recorded_path(provider: str, filename: str) -> Path:
    """Return the path of a recorded payload of ``provider``."""
    return HERE / provider / filename


def serve(
    request: httpx.Request,
    provider: str,
    filename: str | None,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> httpx.Response | None:
    """Return a 200 response carrying the recorded file, or None when ``filename`` is None/missing."""
    if filename is None:
        return None
    path = recorded_path(provider, filename)
    if not path.is_file():
        return None
    return httpx.Response(
        200,
        content=path.read_bytes(),
        headers={"content-type": content_type, "x-fleetlight-replay": filename, **(headers or {})},
        request=request,
    )


def register_recordings() -> None:
    """Register each connector's offline replay with the gateway (called by the composition root)."""
    from connectors.markets import caiso, entsoe, ercot
    from connectors.weather import noaa_ncei, noaa_nws, openweathermap
    from gateway.replay import register_replay

    for module in (openweathermap, noaa_nws, noaa_ncei, ercot, caiso, entsoe):
        register_replay(module.NAME, module.replay)
