"""Remote inference against a local HTTP server speaking TensorFlow Serving's / Vertex AI's REST format."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from core.settings import load_settings
from forecasting.remote import RemoteInferenceError, TFServingClient, VertexEndpointClient, parse_predictions
from forecasting.service import issue_forecast, train_site
from tests.forecasting.test_service import NOW, SITE, seed_pv_site

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tensorflow_serving"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


class ModelServer(BaseHTTPRequestHandler):
    """TF Serving's REST surface for the recorded docs model plus a 'fleetlight_xgboost' model."""

    seen: list[dict] = []

    def log_message(self, *args):
        pass

    def _reply(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/v1/models/saved_model_half_plus_three":
            self._reply(200, fixture("model_status_response_docs_example.json"))
        else:
            self._reply(404, fixture("error_404_servable_not_found_docs_example.json"))

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if self.path == "/v1/models/saved_model_half_plus_three:predict":
            assert body == json.loads(fixture("predict_request_docs_example.json"))
            self._reply(200, fixture("predict_response_docs_example.json"))
        elif self.path == "/v1/models/fleetlight_xgboost:predict" or self.path.endswith("/endpoints/42:predict"):
            extra = ', "deployedModelId": "7"' if "endpoints" in self.path else ""
            self._reply(200, json.dumps({"predictions": [[0.0, 0.0, 0.0]] * len(body["instances"])})[:-1] + extra + "}")
        else:
            self._reply(404, fixture("error_404_servable_not_found_docs_example.json"))


@pytest.fixture()
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), ModelServer)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    ModelServer.seen = []
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_status_and_predict_in_tf_serving_format(server):
    client = TFServingClient(server, "saved_model_half_plus_three", transport=httpx.Client().request)
    assert client.status() == {"available": True, "versions": [{"version": "123", "state": "AVAILABLE", "error": ""}]}
    out = client.predict(np.array([1.0, 2.0, 5.0]))
    np.testing.assert_array_equal(out[:, 1], [3.5, 4.0, 5.5])
    assert np.isnan(out[:, [0, 2]]).all()


def test_unknown_model_raises_with_the_servers_message(server):
    client = TFServingClient(server, "half", transport=httpx.Client().request)
    with pytest.raises(RemoteInferenceError, match="HTTP 404: Servable not found for request: Latest\\(half\\)"):
        client.predict(np.array([[1.0]]))


def test_injected_transport_is_used(server):
    calls = []
    client = httpx.Client()

    def transport(method, url, **kw):
        calls.append((method, url))
        return client.request(method, url, **kw)

    TFServingClient(server, "saved_model_half_plus_three", transport=transport).status()
    assert calls == [("GET", f"{server}/v1/models/saved_model_half_plus_three")]


def test_vertex_endpoint_sends_instances_and_token(server):
    url = f"{server}/v1/projects/demo/locations/europe-west4/endpoints/42"
    out = VertexEndpointClient(url, token="t0ken", transport=httpx.Client().request).predict(np.array([[1.0, np.nan]]))
    assert out.shape == (1, 3)
    assert ModelServer.seen[-1]["body"] == {"instances": [[1.0, None]]}
    assert ModelServer.seen[-1]["auth"] == "Bearer t0ken"


def test_bad_bodies_are_named():
    with pytest.raises(RemoteInferenceError, match="no 'predictions' list"):
        parse_predictions({"outputs": [1]})
    with pytest.raises(RemoteInferenceError, match="unexpected shape"):
        parse_predictions({"predictions": [{"a": 1}]})


def test_forecast_served_remotely_and_falls_back_when_down(db, pv_data, server, tmp_path):
    seed_pv_site(db, pv_data, days=30, with_weather=False)
    train_site(db, SITE, "xgboost", now=NOW, history_days=30)
    settings = load_settings(forecast_serving={"xgboost": "tfserving"}, tfserving_base_url=server,
                             instance_dir=tmp_path)
    out = issue_forecast(db, SITE, "xgboost", now=NOW, settings=settings, transport=httpx.Client().request)
    assert out["source"] == "remote" and out["rows"] == 48
    assert ModelServer.seen[-1]["path"] == "/v1/models/fleetlight_xgboost:predict"
    assert len(ModelServer.seen[-1]["body"]["instances"]) == 48
    down = load_settings(forecast_serving={"xgboost": "tfserving"}, tfserving_base_url="http://127.0.0.1:9",
                         instance_dir=tmp_path)
    out = issue_forecast(db, SITE, "xgboost", now=NOW + pd.Timedelta("0h"), settings=down,
                         transport=httpx.Client(timeout=2).request)
    assert out["source"].startswith("local-fallback: ") and out["rows"] == 48


def test_default_transport_goes_through_the_gateway(server):
    """Without an injected transport the clients call through the gateway (issue 11, item 10): each
    call is in the call log under tfserving / vertex and the gateway owns (and closes) the client."""
    from forecasting.remote import default_transport
    from gateway.core import Gateway

    url = f"{server}/v1/projects/p/locations/l/endpoints/42"
    gw = Gateway(load_settings(tfserving_base_url=server, vertex_endpoint_url=url), db=None)
    try:
        tf = TFServingClient(server, "saved_model_half_plus_three", transport=default_transport("tfserving", gw))
        assert tf.status()["available"] is True
        assert tf.predict(np.array([1.0, 2.0, 5.0])).shape == (3, 3)
        with pytest.raises(RemoteInferenceError, match="Servable not found"):
            TFServingClient(server, "half", transport=default_transport("tfserving", gw)).status()
        out = VertexEndpointClient(url, token="t0ken", transport=default_transport("vertex", gw)).predict(
            np.array([[1.0, np.nan]]))
        assert out.shape == (1, 3) and ModelServer.seen[-1]["auth"] == "Bearer t0ken"
        stats = gw.call_log.snapshot()
        assert stats["tfserving"]["calls"] == 3 and stats["tfserving"]["errors"] == 1
        assert stats["vertex"]["calls"] == 1 and stats["vertex"]["ok"] == 1
        assert {r["provider"]: r["family"] for r in gw.status()}["tfserving"] == "ml"
    finally:
        gw.close()
