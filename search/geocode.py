"""Place search through the Google Geocoding API (used by the fleet map's search box).

Upstream: https://developers.google.com/maps/documentation/geocoding/requests-geocoding
(``GET /maps/api/geocode/json?address=...&key=...``; body ``{"status", "results": [...]}``).

:func:`parse_geocode` turns a response body into :class:`Place` records (pure, tested on the
recorded fixtures); :func:`geocode` sends the request through the integration gateway (provider
``google_maps``), whose base URL comes from ``settings.provider_base_urls["google_maps"]`` (default
``https://maps.googleapis.com``) so tests and on-premise proxies can point it elsewhere.
Only called when ``settings.google_maps_api_key`` is set.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

OK_STATUSES = {"OK", "ZERO_RESULTS"}


class GeocodeError(RuntimeError):
    """The geocoder could not answer: bad key, quota, transport error or malformed body (message says which)."""


@dataclass(frozen=True)
class Place:
    """A geocoded place: label, WGS84 position (degrees), a zoom level that frames its viewport."""

    label: str
    lat: float
    lon: float
    zoom: int
    kinds: tuple[str, ...]
    place_id: str

    def as_hit(self) -> dict[str, Any]:
        """Return the place as a map search hit (same keys as :func:`data.map_queries.search`)."""
        d = asdict(self)
        return {"type": "place", "id": self.place_id, "label": self.label,
                "detail": "place · " + ", ".join(self.kinds[:2]), "lat": self.lat, "lon": self.lon,
                "zoom": self.zoom, "site_id": None, "on_map": True, "kinds": list(d["kinds"])}


def zoom_for_viewport(viewport: dict[str, Any] | None, default: int = 11) -> int:
    """Return a web-map zoom (3-17) that roughly frames a Google ``viewport`` (northeast/southwest)."""
    try:
        ne, sw = viewport["northeast"], viewport["southwest"]  # type: ignore[index]
        span = max(abs(float(ne["lat"]) - float(sw["lat"])), abs(float(ne["lng"]) - float(sw["lng"])) / 2, 1e-6)
    except (TypeError, KeyError, ValueError):
        return default
    return int(max(3, min(17, round(math.log2(360.0 / span)) - 1)))


def parse_results(results: Any) -> list[Place]:
    """Return Places from the ``results`` array of a Geocoding response; raises GeocodeError if malformed."""
    if not isinstance(results, list):
        raise GeocodeError("geocoding response: 'results' is not a list")
    places = []
    for i, r in enumerate(results):
        try:
            loc = r["geometry"]["location"]
            lat, lon = float(loc["lat"]), float(loc["lng"])
        except (TypeError, KeyError, ValueError):
            raise GeocodeError(f"geocoding response: result {i} has no geometry.location lat/lng") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise GeocodeError(f"geocoding response: result {i} has an impossible position {lat}, {lon}")
        places.append(Place(label=str(r.get("formatted_address") or r.get("place_id") or f"{lat:.4f}, {lon:.4f}"),
                            lat=lat, lon=lon, zoom=zoom_for_viewport(r["geometry"].get("viewport")),
                            kinds=tuple(str(t) for t in r.get("types", [])), place_id=str(r.get("place_id", ""))))
    return places


def parse_geocode(body: Any) -> list[Place]:
    """Return the Places of a full Geocoding response body (``ZERO_RESULTS`` gives []).

    Raises GeocodeError naming the status (``OVER_QUERY_LIMIT``, ``REQUEST_DENIED``, ...) otherwise.
    """
    if not isinstance(body, dict) or "status" not in body:
        raise GeocodeError("geocoding response is not a JSON object with a 'status'")
    status = body["status"]
    if status not in OK_STATUSES:
        message = body.get("error_message", "")
        raise GeocodeError(f"geocoding failed: {status}" + (f" ({message})" if message else ""))
    return parse_results(body.get("results", []))


def geocode(query: str, settings: Any, gateway: Any, limit: int = 5) -> list[Place]:
    """Return up to ``limit`` Places for ``query`` from Google; [] when no key is configured.

    The request goes through ``gateway`` (a :class:`gateway.core.Gateway`, provider
    ``google_maps``: rate limit, breaker, call log with the key masked). Raises GeocodeError
    (never with the key in the message) when Google answers with an error or cannot be reached.
    """
    from gateway.errors import ProviderError

    query = (query or "").strip()
    if not query or settings.google_maps_api_key is None:
        return []
    if len(query) > 200:
        raise GeocodeError("search text is longer than 200 characters")
    params = {"address": query, "key": settings.google_maps_api_key.get_secret_value()}
    try:
        response = gateway.request("google_maps", "GET", "/maps/api/geocode/json", endpoint="geocode/json",
                                   fallback=False, params=params)
    except ProviderError as exc:
        raise GeocodeError(f"geocoding request failed: {exc.problem}") from None
    try:
        body = response.json()
    except ValueError:
        raise GeocodeError("geocoding response is not JSON") from None
    return parse_geocode(body)[:limit]
