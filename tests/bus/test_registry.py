"""The bus schema registry: snapshots, validation errors, compatibility checks."""
from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from bus.registry import REGISTRY, IncompatibleSchema, Registry, SchemaError, check_compatible, snapshot_drift
from bus.registry.topics import TelemetryV1


def test_published_schemas_match_their_snapshots():
    assert snapshot_drift(REGISTRY) == []


def test_validate_names_the_bad_field():
    good = {"v": 1, "source": "t", "asset_id": ["a"], "metric": ["power_kw"], "ts_ms": [1_700_000_000_000], "value": [1.5]}
    REGISTRY.validate("telemetry.v1", good)
    with pytest.raises(SchemaError, match=r"ts_ms\.0"):
        REGISTRY.validate("telemetry.v1", {**good, "ts_ms": ["yesterday"]})
    with pytest.raises(SchemaError, match="differ in length"):
        REGISTRY.validate("telemetry.v1", {**good, "value": [1.0, 2.0]})
    with pytest.raises(SchemaError, match="field 'v'"):
        REGISTRY.validate("telemetry.v1", {**good, "v": 7})
    with pytest.raises(SchemaError, match="must be a JSON object"):
        REGISTRY.validate("telemetry.v1", ["not", "an", "object"])
    with pytest.raises(SchemaError, match="finite"):
        REGISTRY.validate("telemetry.v1", {**good, "value": [float("nan")]})


class _V2Optional(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: Literal[1, 2]
    source: str = Field(max_length=120)
    asset_id: list[str]
    metric: list[str]
    ts_ms: list[int]
    value: list[float]
    quality: list[str] | None = None


class _V2Required(_V2Optional):
    site_id: str


class _V2Narrowed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: Literal[1, 2]
    source: str = Field(max_length=20)
    asset_id: list[str]
    metric: list[str]
    ts_ms: list[int]
    value: list[int]


def test_compatible_change_is_accepted_and_breaking_ones_refused():
    registry = Registry()
    registry.register("telemetry.v1", 1, TelemetryV1)
    registry.register("telemetry.v1", 2, _V2Optional)  # an optional field: old messages stay valid
    assert registry.current("telemetry.v1").version == 2
    with pytest.raises(IncompatibleSchema, match="site_id: newly required"):
        registry.register("telemetry.v1", 3, _V2Required)
    problems = check_compatible(TelemetryV1.model_json_schema(), _V2Narrowed.model_json_schema())
    assert any("maxLength tightened" in p for p in problems)
    assert any("value[]" in p and "narrowed" in p for p in problems)


def test_published_version_cannot_be_replaced():
    registry = Registry()
    registry.register("telemetry.v1", 1, TelemetryV1)
    with pytest.raises(IncompatibleSchema, match="already registered"):
        registry.register("telemetry.v1", 1, _V2Optional)


def test_schema_api_lists_topics(client, ingest_token):
    response = client.get("/api/v1/bus/schemas", headers={"Authorization": f"Bearer {ingest_token}"})
    assert response.status_code == 200
    topics = {t["topic"]: t for t in response.get_json()["topics"]}
    assert {"telemetry.v1", "prices.v1", "events.v1"} <= set(topics)
    one = client.get("/api/v1/bus/schemas/telemetry.v1/1", headers={"Authorization": f"Bearer {ingest_token}"})
    assert one.get_json()["required"] == ["v", "source", "asset_id", "metric", "ts_ms", "value"]
    assert client.get("/api/v1/bus/schemas/nope/1", headers={"Authorization": f"Bearer {ingest_token}"}).status_code == 404
