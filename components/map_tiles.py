"""Tile sources of the fleet map and the server-side tile proxy for keyed providers.

* Street map: ``settings.map_tile_url`` (OpenStreetMap by default; empty string = none, for
  air-gapped sites that rely on the bundled outlines).
* Google Maps roadmap/satellite (Map Tiles API, https://developers.google.com/maps/documentation/tile/2d-tiles-overview)
  when ``settings.google_maps_api_key`` is set.
* OpenWeatherMap weather layers clouds/precipitation/wind (https://openweathermap.org/api/weathermaps)
  when ``settings.openweathermap_api_key`` is set.

Keyed tiles are fetched by the server (``/_map/tiles/...``) so API keys never reach the browser,
through the integration gateway (providers ``google_maps_tiles`` and ``openweathermap_tiles``:
rate limit, breaker, call log, a row on /integrations). Base URLs are overridable with
``FLEETLIGHT_PROVIDER_BASE_URLS`` keys ``google_maps_tiles`` and ``openweathermap_tiles`` (tests
point them at a local server). Tiles are kept in a small LRU cache.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from gateway.errors import ProviderError

GOOGLE_LAYERS = {"roadmap": "Google roadmap", "satellite": "Google satellite"}
OWM_LAYERS = {"clouds_new": "Clouds", "precipitation_new": "Precipitation", "wind_new": "Wind"}
MAX_ZOOM = 19


class TileError(RuntimeError):
    """A tile could not be served; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class TileLayerSpec:
    """A tile layer the map offers: name shown in the layer control, URL template, attribution."""

    key: str
    name: str
    url: str
    attribution: str
    overlay: bool = False
    max_zoom: int = MAX_ZOOM


def tile_layers(settings: Any) -> list[TileLayerSpec]:
    """Return the tile layers available with ``settings`` (base layers first, then overlays)."""
    layers: list[TileLayerSpec] = []
    if settings.map_tile_url:
        layers.append(TileLayerSpec("street", "Street map", settings.map_tile_url, settings.map_tile_attribution))
    if settings.google_maps_api_key is not None:
        for layer, name in GOOGLE_LAYERS.items():
            layers.append(TileLayerSpec(f"google-{layer}", name, f"/_map/tiles/google/{layer}/{{z}}/{{x}}/{{y}}",
                                        "Map data &copy; Google", max_zoom=20 if layer == "roadmap" else 19))
    if settings.openweathermap_api_key is not None:
        for layer, name in OWM_LAYERS.items():
            layers.append(TileLayerSpec(f"owm-{layer}", name, f"/_map/tiles/owm/{layer}/{{z}}/{{x}}/{{y}}",
                                        "Weather &copy; OpenWeatherMap", overlay=True))
    return layers


def check_tile(z: int, x: int, y: int) -> None:
    """Raise TileError(400) unless (z, x, y) is a valid web-mercator tile address."""
    if not 0 <= z <= 22:
        raise TileError(f"zoom {z} out of range 0-22", 400)
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise TileError(f"tile {x},{y} out of range at zoom {z}", 400)


class TileProxy:
    """Fetches keyed tiles server-side (Google session token handled here) with an LRU cache.

    ``gateway`` (a :class:`gateway.core.Gateway`) sends every request; it owns the HTTP client.
    """

    def __init__(self, settings: Any, gateway: Any, max_tiles: int = 2000) -> None:
        self.settings = settings
        self.gateway = gateway
        self._cache: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._max = max_tiles
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[str, float]] = {}

    def _send(self, provider: str, method: str, path: str, endpoint: str, **kwargs: Any) -> Any:
        """Return the gateway's response to ``method path`` of ``provider``; raises TileError."""
        try:
            return self.gateway.request(provider, method, path, endpoint=endpoint, fallback=False, **kwargs)
        except ProviderError as exc:
            status = exc.status_code if exc.status_code in (400, 404) else 502
            raise TileError(f"{provider}: {exc.problem}", status) from None

    def _google_session(self, layer: str) -> str:
        """Return a Map Tiles API session token for ``layer`` (created once, renewed before expiry)."""
        now = time.time()
        cached = self._sessions.get(layer)
        if cached and cached[1] > now + 60:
            return cached[0]
        key = self.settings.google_maps_api_key.get_secret_value()
        body = {"mapType": layer, "language": "en-US", "region": "US"}
        r = self._send("google_maps_tiles", "POST", "/v1/createSession", "createSession", params={"key": key}, json=body)
        try:
            data = r.json()
        except ValueError:
            raise TileError("Google createSession answered a body that is not JSON") from None
        if not isinstance(data, dict):
            raise TileError("Google createSession answered JSON that is not an object")
        token, expiry = data.get("session"), data.get("expiry")
        if not token:
            raise TileError("Google createSession response has no session token")
        self._sessions[layer] = (token, float(expiry) if expiry else now + 3600)
        return token

    def tile(self, provider: str, layer: str, z: int, x: int, y: int) -> tuple[bytes, str]:
        """Return (image bytes, content type) of one tile; raises TileError."""
        check_tile(z, x, y)
        cache_key = f"{provider}/{layer}/{z}/{x}/{y}"
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None:
                self._cache.move_to_end(cache_key)
                return hit
        if provider == "google":
            if self.settings.google_maps_api_key is None:
                raise TileError("no Google Maps key configured (FLEETLIGHT_GOOGLE_MAPS_API_KEY)", 404)
            if layer not in GOOGLE_LAYERS:
                raise TileError(f"unknown Google layer {layer!r}", 404)
            gateway_provider, path, endpoint = "google_maps_tiles", f"/v1/2dtiles/{z}/{x}/{y}", "2dtiles"
            params = {"session": self._google_session(layer), "key": self.settings.google_maps_api_key.get_secret_value()}
        elif provider == "owm":
            if self.settings.openweathermap_api_key is None:
                raise TileError("no OpenWeatherMap key configured (FLEETLIGHT_OPENWEATHERMAP_API_KEY)", 404)
            if layer not in OWM_LAYERS:
                raise TileError(f"unknown OpenWeatherMap layer {layer!r}", 404)
            gateway_provider, path, endpoint = "openweathermap_tiles", f"/map/{layer}/{z}/{x}/{y}.png", f"map/{layer}"
            params = {"appid": self.settings.openweathermap_api_key.get_secret_value()}
        else:
            raise TileError(f"unknown tile provider {provider!r}", 404)
        r = self._send(gateway_provider, "GET", path, endpoint, params=params)
        if r.status_code != 200:
            raise TileError(f"{provider} tile answered HTTP {r.status_code}")
        result = (r.content, r.headers.get("content-type", "image/png"))
        with self._lock:
            self._cache[cache_key] = result
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return result

    def close(self) -> None:
        """Forget the cached tiles and sessions (the gateway, not the proxy, owns the HTTP client)."""
        with self._lock:
            self._cache.clear()
        self._sessions.clear()
