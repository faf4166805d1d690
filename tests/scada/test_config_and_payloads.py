"""The SCADA configuration file and MQTT payloads: what is accepted, and the named refusals."""
from __future__ import annotations

import pytest

from scada.config import ConfigError, parse_config
from scada.payloads import PayloadError, asset_for, payload_rows, wildcard_levels

GOOD = """
mqtt:
  - name: plant-broker
    port: 1883
    subscriptions:
      - {topic: "fleet/+/+/telemetry", asset: "{1}-{2}"}
      - {topic: "spb/#", asset: "t-wind-{1}", format: sparkplug}
modbus:
  - {name: inv-1, port: 5020, asset_id: t-sol-INV-01, model: generic-inverter, poll_s: 1}
register_maps:
  generic-inverter:
    - {metric: power_kw, address: 0, type: float32}
    - {metric: temperature_c, address: 2, type: int16, scale: 0.1}
"""


def test_a_good_file_is_read():
    config = parse_config(GOOD)
    assert [b.name for b in config.mqtt] == ["plant-broker"]
    assert config.modbus[0].model == "generic-inverter"
    assert config.register_maps["generic-inverter"][1].scale == 0.1


@pytest.mark.parametrize(("change", "named"), [
    (("model: generic-inverter", "model: nope"), "modbus.0.model: no register map named 'nope'"),
    (("metric: power_kw", "metric: power_mw"), "unknown metric 'power_mw'"),
    (("type: float32", "type: float16"), "register_maps.generic-inverter.0.type"),
    (("port: 5020", "port: 99999"), "modbus.0.port"),
    (("poll_s: 1", "poll_s: 1, colour: red"), "modbus.0.colour"),
    (("name: inv-1", "name: plant-broker"), "adapter names must be unique; repeated: plant-broker"),
    (("subscriptions:", "subscriptions: []\n    x:"), "mqtt.0"),
])
def test_mistakes_are_refused_by_field(change, named):
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(".", r"\.")):
        parse_config(GOOD.replace(*change))


def test_not_yaml_is_refused():
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_config("mqtt: [")


def test_topic_levels_and_asset_templates():
    assert wildcard_levels("fleet/+/+/telemetry", "fleet/t-sol/INV-01/telemetry") == ["t-sol", "INV-01"]
    assert wildcard_levels("spb/#", "spb/WTG-01/data") == ["WTG-01/data"]
    assert wildcard_levels("fleet/+/telemetry", "fleet/a/b/telemetry") is None
    assert wildcard_levels("fleet/+/telemetry", "other/a/telemetry") is None
    assert asset_for("{1}-{2}", ["t-sol", "INV-01"]) == "t-sol-INV-01"
    with pytest.raises(PayloadError, match="names a level"):
        asset_for("{1}-{3}", ["a", "b"])


def test_json_payloads():
    rows = payload_rows("t", b'{"ts": "2026-06-01T10:00:00Z", "power_kw": 12.5, "temperature_c": 30}', "a", "json")
    assert rows == [{"asset_id": "a", "metric": "power_kw", "ts": "2026-06-01T10:00:00Z", "value": 12.5},
                    {"asset_id": "a", "metric": "temperature_c", "ts": "2026-06-01T10:00:00Z", "value": 30}]
    many = payload_rows("t", b'[{"ts": "2026-06-01T10:00:00Z", "power_kw": 1}, {"ts": "2026-06-01T10:00:10Z", '
                             b'"power_kw": 2}]', "a", "json")
    assert [r["value"] for r in many] == [1, 2]


def test_sparkplug_payloads_take_epoch_milliseconds():
    body = b'{"timestamp": 1780308000000, "metrics": [{"name": "power_kw", "value": 5.5}, ' \
           b'{"name": "wind_speed_ms", "value": 7.25, "timestamp": 1780308001500}]}'
    rows = payload_rows("t", body, "w", "sparkplug")
    assert rows[0]["ts"] == "2026-06-01T10:00:00Z" and rows[1]["ts"] == "2026-06-01T10:00:01.500000Z"
    assert [(r["metric"], r["value"]) for r in rows] == [("power_kw", 5.5), ("wind_speed_ms", 7.25)]


@pytest.mark.parametrize(("payload", "fmt", "named"), [
    (b"not json", "json", "payload is not JSON"),
    (b'{"power_kw": 1}', "json", "field 'ts' missing"),
    (b'{"ts": "2026-06-01T10:00:00Z", "power": 1}', "json", "'power' is not a metric"),
    (b'{"ts": "2026-06-01T10:00:00Z"}', "json", "no metric field besides 'ts'"),
    (b'"just text"', "json", "expected an object"),
    (b'{"metrics": {"name": "power_kw"}}', "sparkplug", "with a 'metrics' list"),
    (b'{"metrics": [{"name": "power_kw", "value": 1}]}', "sparkplug", "no timestamp"),
    (b'{"timestamp": "1780308000000", "metrics": [{"name": "power_kw", "value": 1}]}', "sparkplug",
     "must be an integer of epoch milliseconds, got str"),
    (b'{"timestamp": true, "metrics": [{"name": "power_kw", "value": 1}]}', "sparkplug", "got bool"),
    (b'{"timestamp": 1, "metrics": [{"name": "pwr", "value": 1}]}', "sparkplug", "'pwr' is not a metric"),
    (b'{"timestamp": 1, "metrics": []}', "sparkplug", "'metrics' is empty"),
    (b"x" * (256 * 1024 + 1), "json", "exceeds 262144"),
])
def test_payloads_that_are_no_telemetry_are_refused_by_name(payload, fmt, named):
    with pytest.raises(PayloadError, match=named):
        payload_rows("fleet/a/b/telemetry", payload, "a", fmt)


def test_the_web_process_builds_the_adapters_of_the_file(tmp_path, db):
    from bootstrap.build import build
    from core.settings import load_settings

    config = tmp_path / "scada.yaml"
    config.write_text(GOOD)
    settings = load_settings(database_url=db.engine.url.render_as_string(hide_password=False),
                             instance_dir=tmp_path / "i", simulator_enabled=False, seed_on_start=False,
                             provider_polling_enabled=False, scada_config=config, secret_key="x" * 32)
    services = build(settings, "web", db=db)
    try:
        (scada,) = [c for c in services.components if c.name == "scada"]
        assert [a.name for a in scada.adapters] == ["mqtt:plant-broker", "modbus:inv-1"]
        config.write_text(GOOD.replace("model: generic-inverter", "model: nope"))
        with pytest.raises(ConfigError, match="modbus.0.model"):
            build(settings, "web", db=db)
    finally:
        services.bus.close()
        if services.gateway is not None:
            services.gateway.close()
