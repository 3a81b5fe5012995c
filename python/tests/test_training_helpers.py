import json
import math
import os
import signal

import pytest
import torch

from mlx_runtime import (
    CheckpointKeeper,
    DivergenceGuard,
    MetricsWriter,
    Monitor,
    StopRequest,
    clip_gradients,
    configure_determinism,
    rng_states,
    schedule_warnings,
)


def test_monitor_min_mode_with_patience_and_min_delta():
    monitor = Monitor("val/loss", "min", patience=2, min_delta=0.1)
    assert monitor.update(1.0) is True
    assert monitor.update(0.95) is False  # better, but by less than min_delta
    assert not monitor.should_stop
    assert monitor.update(0.8) is True
    assert monitor.update(0.8) is False
    assert monitor.update(float("nan")) is False
    assert monitor.should_stop
    assert monitor.best == 0.8


def test_monitor_max_mode_and_no_patience_never_stops():
    monitor = Monitor("val/acc", "max")
    for value in (0.5, 0.4, 0.3, 0.2):
        monitor.update(value)
    assert monitor.best == 0.5 and monitor.updates_since_best == 3
    assert not monitor.should_stop


def test_monitor_round_trips_its_state():
    first = Monitor("val/acc", "max", patience=3)
    first.update(0.7)
    first.update(0.6)
    second = Monitor("val/acc", "max", patience=3)
    second.load_state_dict(first.state_dict())
    assert (second.best, second.updates_since_best) == (0.7, 1)


def test_monitor_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode must be"):
        Monitor("x", "auto")


def test_keeper_keeps_the_last_k_periodic_checkpoints_and_reports_each(tmp_path):
    metrics = MetricsWriter(str(tmp_path / "metrics.jsonl"))
    keeper = CheckpointKeeper(tmp_path / "checkpoints", keep_last=2, metrics=metrics)
    for epoch in range(1, 6):
        keeper.save_periodic(epoch, {"epoch": epoch}, step=epoch * 10)
    keeper.save("best.pt", {"epoch": 3})
    metrics.close()
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["best.pt", "epoch4.pt", "epoch5.pt"]
    assert torch.load(tmp_path / "checkpoints" / "epoch5.pt")["epoch"] == 5
    events = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(events) == 6 and '"path":"checkpoints/epoch1.pt"' in events[0] and '"step":10' in events[0]


def test_a_diverged_loss_saves_the_last_good_state_records_the_step_and_exits(tmp_path):
    metrics = MetricsWriter(str(tmp_path / "metrics.jsonl"))
    keeper = CheckpointKeeper(tmp_path / "checkpoints", keep_last=2, metrics=metrics)
    with pytest.raises(SystemExit) as stopped:
        keeper.stop_diverged({"step": 41}, float("nan"), 41)
    assert str(stopped.value) == ("train/loss is nan at step 42: the run diverged. The last good state is in "
                                  "checkpoints/last.pt; lower optim.lr or set train.grad_clip (train.divergence says "
                                  "when a loss has diverged).")
    with pytest.raises(SystemExit, match="^train/loss diverged on another rank at update 8: "):
        keeper.stop_diverged({"step": 7}, 0.25, 7, unit="update")
    metrics.close()
    assert torch.load(tmp_path / "checkpoints" / "last.pt")["step"] == 7
    events = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(e["event"], e["step"]) for e in events] == [("checkpoint", 41), ("diverged", 42), ("checkpoint", 7),
                                                         ("diverged", 8)]
    assert events[1]["metric"] == "train/loss" and events[1]["value"] == "NaN" and events[3]["value"] == 0.25


def test_the_divergence_guard_catches_what_clipping_keeps_finite():
    guard = DivergenceGuard(factor=1000, early_steps=3)
    # The bound follows the mean of the losses so far from the second step: a run that explodes at once is caught.
    assert not guard.diverged(2.3)
    assert guard.diverged(2.3e8)
    assert guard.reason == "is 2.3e+08, more than train.divergence.factor (1000) times its mean over its first 1 step (2.3)"
    steady = DivergenceGuard(factor=1000, early_steps=3)
    assert [steady.diverged(value) for value in (2.3, 2.2, 2.1, 2000.0)] == [False, False, False, False]
    assert steady.diverged(2300.0)
    assert steady.reason.endswith("times its mean over its first 3 steps (2.2)")
    assert steady.diverged(float("nan")) and steady.reason == "is nan"
    assert DivergenceGuard(early_steps=50).diverged(float("inf"))


def test_the_divergence_guard_threshold_off_switches_and_state():
    absolute = DivergenceGuard(factor=None, threshold=10.0)
    assert not absolute.diverged(9.9) and absolute.diverged(10.5)
    assert absolute.reason == "is 10.5, above train.divergence.threshold (10)"
    off = DivergenceGuard.from_config({"divergence": None})
    assert [off.diverged(value) for value in (1.0, 1e30, 1e300)] == [False, False, False] and off.diverged(float("nan"))
    configured = DivergenceGuard.from_config({"divergence": {"factor": 10.0, "threshold": None, "early_steps": 2}})
    for value in (1.0, 1.0):
        configured.diverged(value)
    assert configured.diverged(11.0)
    # A resumed run keeps the bound it had: the early loss travels in the checkpoint.
    resumed = DivergenceGuard(factor=10.0, early_steps=2)
    resumed.load_state_dict(configured.state_dict())
    assert not resumed.diverged(9.0) and resumed.diverged(11.0)
    # An early loss of zero (a solved toy) sets no relative bound.
    zero = DivergenceGuard(factor=10.0, early_steps=1)
    assert not zero.diverged(0.0) and not zero.diverged(5.0)


def test_schedule_warnings_name_the_values_the_data_makes_pointless():
    train = {"grad_accum_steps": 1, "log_every": 10, "eval_every": 1, "epochs": 2}
    assert schedule_warnings(train, batches_per_epoch=23, total_steps=46) == []
    assert schedule_warnings({**train, "grad_accum_steps": 10**12}, 23, 2) == [
        "train.grad_accum_steps is 1000000000000, more than the 23 batches of an epoch: each epoch makes one optimiser "
        "step, over its 23 batches"]
    assert schedule_warnings(train, 0, 0) == ["the run makes no optimiser step (train.max_steps, or no batch to train on)"]
    assert schedule_warnings({**train, "eval_every": 5}, 23, 46)[0].startswith("train.eval_every is 5, more than the 2 epochs")


def test_a_stop_request_is_a_flag_that_sigterm_raises():
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stop = StopRequest()
        assert (stop.requested, stop.signal) == (False, None)
        os.kill(os.getpid(), signal.SIGTERM)  # Python runs the handler before the next bytecode
        assert (stop.requested, stop.signal) == (True, "SIGTERM")
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def test_rng_states_restore_the_same_draws():
    states = rng_states()
    first = torch.rand(3)
    torch.set_rng_state(states["torch"])
    assert torch.equal(first, torch.rand(3))


def test_determinism_switch():
    configure_determinism(True)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    configure_determinism(False)
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.benchmark


def test_compile_model_is_the_model_itself_when_off():
    from mlx_runtime import compile_model

    model = torch.nn.Linear(2, 2)
    assert compile_model(model, False) is model


def test_compile_model_names_the_switch_where_torch_compile_is_unavailable(monkeypatch):
    from mlx_runtime import compile_model

    def unavailable(_model):
        raise RuntimeError("Dynamo is not supported on this Python")

    monkeypatch.setattr(torch, "compile", unavailable)
    with pytest.raises(SystemExit, match="torch.compile is not available here: Dynamo is not supported.*set train.compile: false"):
        compile_model(torch.nn.Linear(2, 2), True)


def test_clip_gradients_measures_only_when_asked_and_clips_to_the_norm():
    layer = torch.nn.Linear(4, 3)
    layer(torch.ones(2, 4)).sum().mul(100).backward()
    before = torch.nn.utils.get_total_norm([p.grad for p in layer.parameters()])
    parameters = list(layer.parameters())
    assert clip_gradients(parameters, math.inf, measure=False) is None
    assert torch.equal(clip_gradients(parameters, math.inf, measure=True), before)
    assert torch.equal(torch.nn.utils.get_total_norm([p.grad for p in layer.parameters()]), before)  # unchanged
    assert torch.equal(clip_gradients(parameters, 1.0, measure=False), before)  # the norm before clipping
    assert torch.nn.utils.get_total_norm([p.grad for p in layer.parameters()]).item() == pytest.approx(1.0, rel=1e-5)


def test_clip_gradients_leaves_out_parameters_without_a_gradient():
    trained, frozen = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    trained(torch.ones(2, 4)).sum().backward()
    norm = clip_gradients([*frozen.parameters(), *trained.parameters()], math.inf, measure=True)
    assert torch.equal(norm, torch.nn.utils.get_total_norm([p.grad for p in trained.parameters()]))
