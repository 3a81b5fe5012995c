"""The metrics stream's contract: MetricsWriter writes, for each call in the shared fixture, exactly the
line that mlx's reader is tested against (test/unit/metrics-contract.test.ts reads the same file)."""

import json
import math
from pathlib import Path

import pytest

import mlx_runtime.metrics as metrics_module
from mlx_runtime import MetricsWriter

CONTRACT = json.loads((Path(__file__).resolve().parents[2] / "test/fixtures/metrics-contract.json").read_text())
WRITTEN = [case for case in CONTRACT["cases"] if "write" in case]


def python_value(value):
    """The fixture's stand-ins for what JSON cannot hold: {"$float": "nan"} and {"$bool": true}."""
    if isinstance(value, dict) and set(value) == {"$float"}:
        return float(value["$float"])
    if isinstance(value, dict) and set(value) == {"$bool"}:
        return bool(value["$bool"])
    if isinstance(value, dict):
        return {key: python_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [python_value(item) for item in value]
    return value


def test_the_fixture_covers_every_writer_call_and_non_finite_numbers():
    calls = {next(iter(case["write"])) for case in WRITTEN}
    assert calls == {"log", "event", "warning"}
    assert math.isnan(python_value({"$float": "nan"})) and python_value({"$float": "-inf"}) == -math.inf


@pytest.mark.parametrize("case", WRITTEN, ids=[case["name"] for case in WRITTEN])
def test_the_writer_writes_the_contract_line(case, tmp_path, monkeypatch):
    monkeypatch.setattr(metrics_module.time, "time", lambda: CONTRACT["t"])
    (call, arguments), = case["write"].items()
    arguments = python_value(arguments)
    with MetricsWriter(str(tmp_path / "metrics.jsonl")) as writer:
        if call == "log":
            writer.log(arguments["values"], step=arguments["step"], epoch=arguments.get("epoch"))
        elif call == "event":
            writer.event(arguments["name"], **arguments["fields"])
        else:
            writer.warning(arguments["message"], **arguments["fields"])
    assert (tmp_path / "metrics.jsonl").read_text() == case["line"] + "\n"
