"""Place search through the Google Geocoding API (used by the fleet map's search box).

Upstream: https://developers.google.com/maps/documentation/geocoding/requests-geocoding
(``GET /maps/api/geocode/json?address=...&key=...``; body ``{"status", "results": [...]}``).

:func:`parse_geocode` turns a response body into :class:`Place` records (pure, tested on the
recorded fixtures); :func:`geocode` runs the request with the official ``googlemaps`` client, whose
base URL comes from ``settings.provider_base_urls["google_maps"]`` (default
``https://maps.googleapis.com``) so tests and on-premise proxies can point it elsewhere.
Only called when ``settings.google_maps_api_key`` is set.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import googlemaps
from googlemaps import exceptions as gm_exceptions

DEFAULT_BASE_URL = "https://maps.googleapis.com"
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


def make_client(api_key: str, base_url: str = DEFAULT_BASE_URL, timeout_s: float = 5.0) -> googlemaps.Client:
    """Return a googlemaps Client for ``base_url`` that fails fast instead of retrying for a minute."""
    return googlemaps.Client(key=api_key, base_url=base_url.rstrip("/"), timeout=timeout_s, retry_timeout=timeout_s,
                             retry_over_query_limit=False, queries_per_second=10)


def geocode(query: str, settings: Any, client: googlemaps.Client | None = None, limit: int = 5) -> list[Place]:
    """Return up to ``limit`` Places for ``query`` from Google; [] when no key is configured.

    Raises GeocodeError (never with the key in the message) when Google answers with an error.
    """
    query = (query or "").strip()
    if not query or settings.google_maps_api_key is None:
        return []
    if len(query) > 200:
        raise GeocodeError("search text is longer than 200 characters")
    if client is None:
        base = settings.provider_base_urls.get("google_maps", DEFAULT_BASE_URL)
        client = make_client(settings.google_maps_api_key.get_secret_value(), base)
    try:
        results = client.geocode(query)
    except gm_exceptions.ApiError as exc:
        raise GeocodeError(f"geocoding failed: {exc.status}" + (f" ({exc.message})" if exc.message else "")) from None
    except (gm_exceptions.TransportError, gm_exceptions.Timeout, gm_exceptions.HTTPError) as exc:
        raise GeocodeError(f"geocoding request failed: {type(exc).__name__}") from None
    return parse_results(results)[:limit]
