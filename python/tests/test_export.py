"""mlx_runtime.export on small models: parity found where it holds and where it does not, a format that cannot
export reported while the others go on, the shapes that vary made dynamic, latency and metrics recorded."""

import json
import sys

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from mlx_runtime.export import (
    ExportRequest,
    ExportUsageError,
    differences,
    run_export,
    validation_inputs,
    varying_dims,
)


def rows_of(count: int, first: int) -> tuple:
    generator = torch.Generator().manual_seed(first)
    return (torch.randn(count, 5, generator=generator),)


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))

    def forward(self, x):
        return self.body(x)


class CountsCalls(Small):
    """Eager answers depend on how often it was called: a traced or exported graph bakes one count in."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.body(x) * self.calls


class BranchesOnValues(Small):
    """Python control flow on a tensor's value: torch.export cannot capture it (it asks for torch.cond)."""

    def forward(self, x):
        if x.sum() > 0:
            return self.body(x)
        return -self.body(x)


def export(model, tmp_path, formats, **options):
    request = ExportRequest(out_dir=str(tmp_path / "export"), formats=formats, batch_size=8, **options)
    metrics = tmp_path / "metrics.jsonl"
    status = run_export(model, rows_of, request, torch.device("cpu"), step=7, metrics_path=metrics)
    report = json.loads((tmp_path / "export" / "report.json").read_text())
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    return status, report, lines


def test_every_format_matches_eager_and_is_timed(tmp_path):
    status, report, lines = export(Small(), tmp_path, ["onnx", "torchscript", "export"])
    assert status == 0
    for name in ("onnx", "torchscript", "export"):
        entry = report["formats"][name]
        assert entry["ok"], entry
        assert entry["parity"]["unseen"]["ok"] and entry["max_abs"] <= 1e-4
        assert (tmp_path / "export" / entry["file"]).stat().st_size > 0
    assert report["unseen_batch_size"] != report["batch_size"]  # a batch the exporter never saw, of another size
    assert report["inputs"][0]["dynamic_dims"] == [0]
    values = lines[0]["values"]
    for form in ("eager", "onnx", "torchscript", "export"):
        assert 0 < values[f"cost/latency_ms_b1/{form}"] <= values[f"cost/latency_p95_ms_b1/{form}"]
        assert values[f"cost/throughput/{form}"] > 0
    assert lines[0]["step"] == 7
    assert lines[1]["event"] == "export" and lines[1]["formats"]["onnx"]["ok"] is True


def test_answers_that_differ_fail_and_name_the_output(tmp_path):
    status, report, _ = export(CountsCalls(), tmp_path, ["torchscript"], bench=False)
    assert status == 1
    entry = report["formats"]["torchscript"]
    assert not entry["ok"] and entry["worst_output"] == "output_0" and entry["max_abs"] > 1e-4


def test_a_format_that_cannot_export_is_reported_and_the_others_go_on(tmp_path):
    status, report, _ = export(BranchesOnValues(), tmp_path, ["export", "torchscript"], bench=False)
    failed = report["formats"]["export"]
    assert status == 1 and failed["ok"] is False and "parity" not in failed
    assert failed["error"] and (tmp_path / "export" / "export.error.txt").exists()
    assert not (tmp_path / "export" / "model.pt2").exists()
    assert "parity" in report["formats"]["torchscript"]


def test_a_fixed_batch_is_exported_at_the_batch_size(tmp_path):
    status, report, lines = export(Small(), tmp_path, ["torchscript"], dynamic_batch=False)
    assert status == 0 and report["inputs"][0]["dynamic_dims"] == []
    assert "cost/latency_ms_b1/torchscript" not in lines[0]["values"]  # a graph of 8 rows takes no batch of one
    assert "cost/latency_ms_batch/torchscript" in lines[0]["values"]


class Recurrent(nn.Module):
    """An LSTM that takes its state as an input, sequence first: inputs nest (a tuple inside the arguments)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 4)

    def forward(self, x, state):
        output, (h, c) = self.lstm(x, state)
        return output, (h, c)


def windows(count: int, first: int) -> tuple:
    generator = torch.Generator().manual_seed(first)
    return torch.randn(6, count, 5, generator=generator), (torch.zeros(1, count, 4), torch.zeros(1, count, 4))


def test_nested_inputs_batch_on_another_dim(tmp_path):
    request = ExportRequest(out_dir=str(tmp_path / "export"), formats=["onnx", "torchscript"], batch_size=4,
                            bench=False)
    status = run_export(Recurrent(), windows, request, torch.device("cpu"), step=0)
    report = json.loads((tmp_path / "export" / "report.json").read_text())
    assert status == 0, report
    assert [item["dynamic_dims"] for item in report["inputs"]] == [[1], [1], [1]]
    assert report["outputs"] == ["output_0", "output_1", "output_2"]


def test_differences_are_absolute_and_relative():
    want, got = [torch.tensor([1.0, 100.0])], [torch.tensor([1.0, 100.001])]
    checked = differences(want, got, ["logits"], tolerance=1e-4)
    assert checked["ok"] and checked["max_abs"] == pytest.approx(0.001, rel=1e-3)
    assert not differences(want, [torch.tensor([1.001, 100.0])], ["logits"], 1e-4)["ok"]
    assert differences(want, [torch.ones(3)], ["logits"], 1e-4)["problem"].startswith("logits has shape")


def test_validation_inputs_collate_rows_and_wrap_round():
    dataset = TensorDataset(torch.arange(10.0).unsqueeze(1), torch.arange(10))
    make = validation_inputs(dataset)
    (features,) = make(4, 8)
    assert features.squeeze(1).tolist() == [8.0, 9.0, 0.0, 1.0]
    assert varying_dims(make(4, 0), make(3, 0)) == ({0},)


def test_unknown_formats_and_missing_packages_are_usage_errors(monkeypatch):
    with pytest.raises(ExportUsageError, match="unknown export format tflite"):
        ExportRequest.from_json(json.dumps({"out_dir": "x", "formats": ["tflite"]}))
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what Python makes of a package it cannot import
    with pytest.raises(ExportUsageError, match="onnxruntime") as raised:
        ExportRequest.from_json(json.dumps({"out_dir": "x", "formats": ["onnx"]}))
    assert "make setup" in raised.value.hint


def test_a_script_without_example_inputs_is_told_what_to_do(tmp_path):
    request = ExportRequest(out_dir=str(tmp_path / "export"), formats=["torchscript"])
    with pytest.raises(ExportUsageError, match="made before mlx export existed") as raised:
        run_export(Small(), None, request, torch.device("cpu"), step=0)
    assert "mlx run --from RUN" in raised.value.hint
