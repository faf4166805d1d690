"""The SCADA configuration file (YAML): MQTT brokers with topic-to-asset mappings, Modbus TCP
devices with register maps per device model. Validated whole at start-up; a mistake is refused
with the path of the field that is wrong."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ingest.metrics import METRICS


class ConfigError(ValueError):
    """The SCADA configuration file is unreadable or invalid; the message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MqttSubscription(_Strict):
    """One topic filter and how its messages map to assets."""

    topic: str = Field(min_length=1, description="MQTT topic filter, e.g. fleet/+/+/telemetry")
    # asset id from the topic's levels: {1} is the first level matched by a wildcard, {2} the second...
    asset: str = Field(min_length=1, description="asset id or a template of the wildcard levels, e.g. {1}-{2}")
    format: Literal["json", "sparkplug"] = "json"
    qos: Literal[0, 1, 2] = 1


class MqttBroker(_Strict):
    """An MQTT broker and its subscriptions."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password_env: str | None = Field(None, description="environment variable holding the password")
    keepalive_s: int = Field(30, ge=5, le=3600)
    subscriptions: list[MqttSubscription] = Field(min_length=1)


class Register(_Strict):
    """One measurement in a device model's register map."""

    metric: str
    address: int = Field(ge=0, le=65535)
    table: Literal["holding", "input"] = "holding"
    type: Literal["int16", "uint16", "int32", "uint32", "float32", "int64", "uint64", "float64"] = "uint16"
    word_order: Literal["big", "little"] = "big"
    scale: float = 1.0
    offset: float = 0.0

    @model_validator(mode="after")
    def _known_metric(self) -> Register:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; known: {', '.join(sorted(METRICS))}")
        return self


class ModbusDevice(_Strict):
    """A Modbus TCP device polled for one asset."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    host: str = "127.0.0.1"
    port: int = Field(502, ge=1, le=65535)
    device_id: int = Field(1, ge=0, le=247)
    asset_id: str = Field(min_length=1)
    model: str = Field(min_length=1, description="a key of register_maps")
    poll_s: float = Field(5.0, ge=0.1, le=3600)
    timeout_s: float = Field(2.0, gt=0, le=60)


class ScadaConfig(_Strict):
    """The whole file."""

    mqtt: list[MqttBroker] = Field(default_factory=list)
    modbus: list[ModbusDevice] = Field(default_factory=list)
    register_maps: dict[str, list[Register]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _models_exist(self) -> ScadaConfig:
        for i, device in enumerate(self.modbus):
            if device.model not in self.register_maps:
                raise ValueError(f"modbus.{i}.model: no register map named {device.model!r} in register_maps")
        names = [b.name for b in self.mqtt] + [d.name for d in self.modbus]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"adapter names must be unique; repeated: {', '.join(repeated)}")
        return self


def parse_config(text: str, source: str = "SCADA config") -> ScadaConfig:
    """Return the configuration in YAML ``text``; raise ConfigError naming what is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    try:
        return ScadaConfig.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{source}: {where}: {first['msg']}") from None


def load_config(path: Path) -> ScadaConfig:
    """Return the configuration in the file at ``path``; raise ConfigError naming what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"SCADA config {path}: cannot be read: {exc}") from None
    return parse_config(text, f"SCADA config {path}")
