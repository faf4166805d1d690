"""The ``backtest`` click command on CSV files written from the real demo data."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from forecasting.cli import backtest_command


@pytest.fixture(scope="module")
def pv_csv(tmp_path_factory, pv_data):
    sel = (pv_data.y.index >= "2012-04-01") & (pv_data.y.index < "2012-07-01")
    frame = pv_data.weather[sel].assign(power_kw=pv_data.y[sel]).reset_index(names="time")
    path = tmp_path_factory.mktemp("cli") / "pv.csv"
    frame.to_csv(path, index=False)
    return path


def test_backtest_prints_metrics_per_model_and_horizon(pv_csv):
    result = CliRunner().invoke(backtest_command, [
        "--csv", str(pv_csv), "--time-col", "time", "--target", "power_kw", "--features", "ghi",
        "--horizon", "24h", "--freq", "1h", "--capacity", "3.0", "--models", "persistence,climatology,xgboost",
        "--kind", "pv", "--lat", "39.74", "--lon", "-105.18", "--irradiance-col", "ghi",
    ])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["input"]["freq"] == "1h" and body["input"]["horizon_steps"] == 24
    assert set(body["models"]) == {"persistence", "climatology", "xgboost"}
    rows = body["models"]["xgboost"]["per_horizon"]
    assert [r["h"] for r in rows] == list(range(1, 25))
    for key in ("mae", "rmse", "nmae", "bias", "pinball", "skill_rmse", "coverage_p10_p90"):
        assert key in rows[0]
    assert body["models"]["xgboost"]["summary"]["all"]["skill_rmse"] > 0.2
    assert len(body["folds"]) == 3
    cal = body["models"]["xgboost"]["band_calibration"]
    assert len(cal["scale"]) == 4 and set(cal["model_band_coverage"]) == {"intraday", "day_ahead", "all"}


def test_band_step_zero_keeps_the_models_fixed_bands(pv_csv):
    result = CliRunner().invoke(backtest_command, [
        "--csv", str(pv_csv), "--time-col", "time", "--target", "power_kw", "--horizon", "24",
        "--models", "climatology", "--band-step", "0",
    ])
    assert result.exit_code == 0, result.output
    assert "band_calibration" not in json.loads(result.output)["models"]["climatology"]


@pytest.mark.parametrize(("args", "message"), [
    (["--target", "nope"], "column(s) ['nope'] not found"),
    (["--target", "power_kw", "--capacity", "-1"], "--capacity must be positive"),
    (["--target", "power_kw", "--freq", "7 parsecs"], "is not a frequency"),
    (["--target", "power_kw", "--models", "magic"], "unknown model(s) ['magic']"),
])
def test_bad_input_exits_2_with_a_named_problem(pv_csv, args, message):
    result = CliRunner().invoke(backtest_command, ["--csv", str(pv_csv), "--time-col", "time", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_duplicated_rows_need_a_policy(tmp_path, pv_csv):
    text = pv_csv.read_text().splitlines()
    path = tmp_path / "dup.csv"
    path.write_text("\n".join([*text, text[100]]) + "\n")
    base = ["--csv", str(path), "--time-col", "time", "--target", "power_kw", "--models", "climatology"]
    bad = CliRunner().invoke(backtest_command, base)
    assert bad.exit_code == 2 and "duplicated timestamps" in bad.output
    ok = CliRunner().invoke(backtest_command, [*base, "--duplicates", "first"])
    assert ok.exit_code == 0, ok.output
