"""Remote inference adapters: TensorFlow Serving (REST) and Google Cloud Vertex AI endpoints.

Both take the model's feature rows ("instances") and return one prediction per row: a number
(used as p50) or a list of three numbers (p10, p50, p90).

* TensorFlow Serving REST API (https://www.tensorflow.org/tfx/serving/api_rest):
  ``GET /v1/models/{name}`` -> ``{"model_version_status": [{"state": "AVAILABLE", ...}]}``;
  ``POST /v1/models/{name}:predict`` with ``{"instances": [...]}`` -> ``{"predictions": [...]}``;
  errors come back as ``{"error": "..."}`` with a 4xx/5xx status.
* Vertex AI online prediction
  (https://cloud.google.com/vertex-ai/docs/predictions/get-online-predictions):
  ``POST {endpoint}:predict`` with ``{"instances": [...]}`` and a bearer token ->
  ``{"predictions": [...], "deployedModelId": "..."}``.

The HTTP transport is injected: any callable ``(method, url, **httpx_kwargs) -> httpx.Response``.
:func:`default_transport` routes through the integration gateway (providers ``tfserving`` and
``vertex``: rate limit, breaker, call log, a row on /integrations; the gateway owns and closes the
HTTP client, so no client is left open here).
Network I/O and parsing are separate: ``parse_*`` functions take a response body.
Failures raise :class:`RemoteInferenceError`; :func:`predict_with_fallback` turns them into a
local prediction and says which path served the request.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

log = logging.getLogger(__name__)

Transport = Callable[..., httpx.Response]
TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class RemoteInferenceError(RuntimeError):
    """A remote model could not serve a prediction (down, unknown model, bad reply)."""


def default_transport(provider: str, gateway: Any = None) -> Transport:
    """Return a transport calling ``provider`` ("tfserving" or "vertex") through ``gateway``
    (default: the process-wide gateway)."""
    from gateway import get_gateway
    from gateway.adapters import call_transport

    return call_transport(gateway if gateway is not None else get_gateway(), provider)


def _send(transport: Transport, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return transport(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise RemoteInferenceError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        # gateway.errors.ProviderError and subclasses (breaker open, timeout, ...)
        if type(exc).__module__.startswith("gateway"):
            raise RemoteInferenceError(f"{method} {url}: {exc}") from exc
        raise


def parse_predictions(body: Any) -> np.ndarray:
    """Return predictions from a ``{"predictions": [...]}`` body as an (n, 3) p10/p50/p90 array.

    A scalar per row fills p50 and leaves p10/p90 NaN. Raises RemoteInferenceError on an
    ``{"error": ...}`` body or any other shape.
    """
    if not isinstance(body, dict):
        raise RemoteInferenceError(f"prediction reply is not a JSON object: {str(body)[:100]!r}")
    if "error" in body:
        raise RemoteInferenceError(f"remote model error: {body['error']}")
    preds = body.get("predictions")
    if not isinstance(preds, list):
        raise RemoteInferenceError("prediction reply has no 'predictions' list")
    out = np.full((len(preds), 3), np.nan)
    for i, row in enumerate(preds):
        if isinstance(row, (int, float)) and not isinstance(row, bool):
            out[i, 1] = float(row)
        elif isinstance(row, list) and len(row) == 3 and all(isinstance(v, (int, float)) for v in row):
            out[i] = row
        elif isinstance(row, list) and len(row) == 1 and isinstance(row[0], (int, float)):
            out[i, 1] = float(row[0])
        else:
            raise RemoteInferenceError(f"prediction {i} has an unexpected shape: {str(row)[:80]!r}")
    return out


def parse_model_status(body: Any) -> dict[str, Any]:
    """Return ``{"available": bool, "versions": [...]}`` from a TF Serving model-status body."""
    if not isinstance(body, dict) or not isinstance(body.get("model_version_status"), list):
        raise RemoteInferenceError("model status reply has no 'model_version_status' list")
    versions = [
        {"version": str(v.get("version")), "state": v.get("state"),
         "error": (v.get("status") or {}).get("error_message", "")}
        for v in body["model_version_status"]
    ]
    return {"available": any(v["state"] == "AVAILABLE" for v in versions), "versions": versions}


def _json(response: httpx.Response, what: str) -> Any:
    try:
        body = response.json()
    except ValueError:
        raise RemoteInferenceError(f"{what}: HTTP {response.status_code}, body is not JSON") from None
    if response.status_code >= 400:
        detail = body.get("error") if isinstance(body, dict) else body
        raise RemoteInferenceError(f"{what}: HTTP {response.status_code}: {detail}")
    return body


@dataclass
class TFServingClient:
    """A model on TensorFlow Serving's REST port (default http://127.0.0.1:8501)."""

    base_url: str
    model: str
    transport: Transport | None = None
    version: str | None = None

    def _url(self, suffix: str = "") -> str:
        path = f"/v1/models/{self.model}" + (f"/versions/{self.version}" if self.version else "")
        return self.base_url.rstrip("/") + path + suffix

    def _transport(self) -> Transport:
        if self.transport is None:
            self.transport = default_transport("tfserving")
        return self.transport

    def status(self) -> dict[str, Any]:
        """Return the model's status (see :func:`parse_model_status`)."""
        response = _send(self._transport(), "GET", self._url(), timeout=TIMEOUT)
        return parse_model_status(_json(response, f"TF Serving status of {self.model}"))

    def predict(self, instances: np.ndarray | list) -> np.ndarray:
        """Return (n, 3) p10/p50/p90 for the feature rows (NaN features sent as null)."""
        payload = {"instances": _rows(instances)}
        response = _send(self._transport(), "POST", self._url(":predict"), json=payload, timeout=TIMEOUT)
        out = parse_predictions(_json(response, f"TF Serving predict on {self.model}"))
        _check_count(out, payload["instances"])
        return out


@dataclass
class VertexEndpointClient:
    """A Vertex AI endpoint, e.g. https://europe-west4-aiplatform.googleapis.com/v1/projects/P/locations/europe-west4/endpoints/123."""

    endpoint_url: str
    token: str | None = None
    transport: Transport | None = None

    def _transport(self) -> Transport:
        if self.transport is None:
            self.transport = default_transport("vertex")
        return self.transport

    def predict(self, instances: np.ndarray | list) -> np.ndarray:
        """Return (n, 3) p10/p50/p90 for the feature rows."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        payload = {"instances": _rows(instances)}
        response = _send(self._transport(), "POST", self.endpoint_url.rstrip("/") + ":predict",
                         json=payload, headers=headers, timeout=TIMEOUT)
        out = parse_predictions(_json(response, "Vertex AI predict"))
        _check_count(out, payload["instances"])
        return out


def _rows(instances: np.ndarray | list) -> list:
    arr = np.asarray(instances, dtype=float)
    if arr.ndim == 1:
        return [None if not np.isfinite(v) else float(v) for v in arr]
    return [[None if not np.isfinite(v) else float(v) for v in row] for row in arr]


def _check_count(out: np.ndarray, rows: list) -> None:
    if len(out) != len(rows):
        raise RemoteInferenceError(f"remote returned {len(out)} predictions for {len(rows)} instances")


def client_for(serving: str, model_name: str, settings: Any, transport: Transport | None = None):
    """Return the remote client configured for ``serving`` ("tfserving" or "vertex"), or None for "local"."""
    if serving == "local":
        return None
    if serving == "tfserving":
        return TFServingClient(settings.tfserving_base_url, f"fleetlight_{model_name}", transport=transport)
    if serving == "vertex":
        if not settings.vertex_endpoint_url:
            raise RemoteInferenceError("FLEETLIGHT_VERTEX_ENDPOINT_URL is not set")
        token = settings.vertex_access_token.get_secret_value() if settings.vertex_access_token else None
        return VertexEndpointClient(settings.vertex_endpoint_url, token, transport=transport)
    raise RemoteInferenceError(f"unknown serving {serving!r}; use local, tfserving or vertex")


def predict_with_fallback(remote: Any, instances: np.ndarray, local: Callable[[], np.ndarray]) -> tuple[np.ndarray, str]:
    """Return (predictions, source): the remote's answer, or ``local()`` when the remote fails.

    ``source`` is "remote" or "local-fallback: <reason>" (also logged as a warning).
    """
    if remote is None:
        return local(), "local"
    try:
        return remote.predict(instances), "remote"
    except RemoteInferenceError as exc:
        log.warning("remote inference failed, using the local model: %s", exc)
        return local(), f"local-fallback: {exc}"
