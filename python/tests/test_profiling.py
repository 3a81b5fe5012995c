"""mlx_runtime.profiling: a few steps under torch.profiler, their phases timed, a summary whose shares add up,
and a trace TensorBoard's PyTorch profiler plugin reads."""

import tempfile

import pytest
import torch
from torch import nn

from mlx_runtime.profiling import NoProfiler, format_summary, hints, step_profiler


def steps(profiler, count: int, data_seconds: float = 0.0) -> None:
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(count):
        profiler.phase("data")
        batch = torch.randn(8, 16)
        if data_seconds:
            import time

            time.sleep(data_seconds)
        profiler.phase("forward")
        loss = model(batch).pow(2).mean()
        profiler.phase("backward")
        loss.backward()
        profiler.phase("optimizer")
        optimizer.step()
        optimizer.zero_grad()
        profiler.step()


def test_a_summary_whose_shares_add_up_and_a_trace_tensorboard_reads(tmp_path):
    profiler = step_profiler('{"wait": 1, "warmup": 1, "active": 3}', tmp_path, torch.device("cpu"), 0,
                             {"num_workers": 0}, {"compile": False})
    steps(profiler, 6)
    summary = profiler.close()
    assert summary["steps"]["recorded"] == 3
    assert sum(row["cpu_share"] for row in summary["operators"]) == pytest.approx(1.0)
    assert sum(phase["share"] for phase in summary["phases"].values()) == pytest.approx(1.0)
    assert any(row["name"] == "aten::addmm" for row in summary["operators"])
    assert "a step: data" in format_summary(summary)

    from torch_tb_profiler.profiler.data import RunProfileData
    from torch_tb_profiler.profiler.run_generator import RunGenerator

    data = RunProfileData.parse("rank0", None, str(tmp_path / summary["trace"]), tempfile.mkdtemp())
    views = [view.display_name for view in RunGenerator("rank0", None, data).generate_run_profile().views]
    assert {"Overview", "Operator", "Trace"} <= set(views)


def test_waiting_for_data_is_the_hint(tmp_path):
    profiler = step_profiler('{"wait": 0, "warmup": 1, "active": 2}', tmp_path, torch.device("cpu"), 0,
                             {"num_workers": 0}, {})
    steps(profiler, 3, data_seconds=0.05)
    summary = profiler.close()
    assert summary["phases"]["data"]["share"] > 0.5
    assert summary["hints"][0].startswith("data-bound") and "data.num_workers (now 0)" in summary["hints"][0]


def test_hints_say_nothing_when_nothing_dominates():
    balanced = {name: {"share": share} for name, share in
                [("data", 0.1), ("forward", 0.3), ("backward", 0.3), ("optimizer", 0.2), ("other", 0.1)]}
    assert hints(balanced, 50, 10.0, torch.device("cpu"), {}, {}) == []


def test_without_mlx_profile_nothing_is_profiled(tmp_path):
    profiler = step_profiler(None, tmp_path / "profile", torch.device("cpu"), 0, {}, {})
    assert isinstance(profiler, NoProfiler)
    steps(profiler, 2)
    assert profiler.close() is None and not (tmp_path / "profile").exists()
