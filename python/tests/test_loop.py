"""The training loop (mlx_runtime.loop), tested once against every recipe: resuming exactly at an
epoch's end and mid-epoch after Ctrl-C, accumulation, clipping and a step limit, early stopping, and
the checkpoints kept. Each recipe runs in-process on a config resolved by mlx itself, small enough
for a few seconds a run."""

import math
import signal

import pytest
import torch
from recipe_helpers import REPO, resolve_config, run_recipe

import mlx_runtime.metrics


def image(tmp_path):
    return resolve_config("name: t\ntask: image-classification\ndata: {batch_size: 128}\n"
                          "train: {epochs: 2, log_every: 1}\n", tmp_path)


def tabular(tmp_path):
    return resolve_config("name: t\ntask: tabular\nscheduler: {name: step, step_size: 1, gamma: 0.8}\n"
                          "train: {epochs: 2, log_every: 1}\n", tmp_path)


def text(tmp_path):
    sports = ["the team won the match", "a goal in the final minute", "the striker scored twice",
              "fans cheered the team", "the coach praised the defence", "a penalty decided the match"]
    food = ["bake the bread for an hour", "the soup needs more salt", "fresh pasta with tomato sauce",
            "a cake with chocolate cream", "roast the vegetables in oil", "the bread and the soup were warm"]
    rows = [(line, "sports") for line in sports] + [(line, "food") for line in food]
    (tmp_path / "texts.csv").write_text("text,label\n" + "".join(f'"{t}",{label}\n' for t, label in rows * 2))
    return resolve_config(f"name: t\ntask: text-classification\ndata: {{source: csv, path: {tmp_path / 'texts.csv'}, "
                          "batch_size: 4, val_fraction: 0.34, vocab: {min_freq: 1}}\noptim: {lr: 0.05}\n"
                          "scheduler: {name: step, step_size: 1, gamma: 0.8}\ntrain: {epochs: 2, log_every: 1}\n",
                          tmp_path)


def speech(tmp_path):
    from test_speech_recipe import tone_manifest

    manifest = tone_manifest(tmp_path, ["ab", "ba"] * 6)
    return resolve_config(f"name: t\ntask: speech-recognition\ndata: {{source: manifest, path: {manifest}, "
                          "sample_rate: 8000, batch_size: 4, val_fraction: 0.25, "
                          "features: {n_mels: 16, n_fft: 200, hop_length: 80}}\n"
                          "model: {channels: 4, hidden: 16, layers: 1}\noptim: {lr: 0.01}\n"
                          "train: {epochs: 2, log_every: 1}\n", tmp_path)


def dlrm(tmp_path):
    return resolve_config(f"name: t\ntask: recsys-dlrm\ndata: {{source: synthetic, root: {tmp_path / 'data'}, "
                          "rows: 1500, val_rows: 500, hash_size: 500, batch_size: 256, shuffle_buffer: 1024}\n"
                          "model: {embedding_dim: 8, bottom_mlp: [16, 8], top_mlp: [16]}\n"
                          "optim: {lr: 0.01}\ntrain: {epochs: 2, log_every: 1}\n", tmp_path)


def dqn(tmp_path):
    return resolve_config("name: t\ntask: rl-dqn\ndata: {steps_per_epoch: 150, learning_starts: 50, replay_size: 2000, "
                          "batch_size: 32, eval_episodes: 2, exploration: {decay_steps: 200}}\n"
                          "model: {hidden: [32], target_every: 50}\ntrain: {epochs: 2, log_every: 1}\n", tmp_path)


RECIPES = {"image-classification": image, "tabular": tabular, "text-classification": text,
           "speech-recognition": speech, "recsys-dlrm": dlrm, "rl-dqn": dqn}


@pytest.fixture(params=sorted(RECIPES))
def recipe(request, tmp_path):
    """(template, resolved config) of one recipe."""
    task = request.param
    folder = tmp_path / "config"
    folder.mkdir()
    return REPO / "templates" / task / "train.py", RECIPES[task](folder)


def by_step(metrics, key, after=0):
    return {m["step"]: m["values"][key] for m in metrics if key in m["values"] and m["step"] > after}


def event(events, name):
    return [e for e in events if e["event"] == name]


def test_a_resumed_run_goes_on_exactly_as_an_uninterrupted_one(recipe, tmp_path):
    template, cfg = recipe
    primary = cfg["metrics"]["primary"]
    first, _, first_dir = run_recipe(template, cfg, tmp_path / "first", train={"epochs": 1})
    resumed, events, _ = run_recipe(template, cfg, first_dir, resume=first_dir / "checkpoints" / "last.pt",
                                    train={"epochs": 3})
    whole, _, _ = run_recipe(template, cfg, tmp_path / "whole", train={"epochs": 3})
    resumed_at = max(m["step"] for m in first)
    assert event(events, "resume")[0]["from_step"] == resumed_at
    # The resumed run's file holds the first part's lines too: compare what came after.
    assert by_step(resumed, "train/loss", resumed_at) and by_step(resumed, "train/loss", resumed_at) == \
        by_step(whole, "train/loss", resumed_at)
    assert by_step(resumed, primary, resumed_at) == by_step(whole, primary, resumed_at)
    # What training cost, at the end of every run; a resumed run's time counts its earlier attempt too.
    cost = {key: value for m in whole for key, value in m["values"].items() if key.startswith("cost/")}
    assert set(cost) == {"cost/params", "cost/model_bytes", "cost/train_seconds", "cost/step_seconds",
                         "cost/samples_per_sec", "cost/peak_memory_bytes"}
    assert cost["cost/params"] > 0 and cost["cost/model_bytes"] >= 4 * cost["cost/params"]
    assert cost["cost/peak_memory_bytes"] > 2**20 and cost["cost/train_seconds"] > 0
    first_seconds = [m["values"]["cost/train_seconds"] for m in first if "cost/train_seconds" in m["values"]]
    resumed_seconds = [m["values"]["cost/train_seconds"] for m in resumed if "cost/train_seconds" in m["values"]]
    assert resumed_seconds[-1] > first_seconds[-1]


@pytest.fixture
def interrupt_after_step():
    """Sends this process SIGINT (Ctrl-C) once the loop has logged train metrics at step ``n``."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    log = mlx_runtime.metrics.MetricsWriter.log
    at = {"step": None}

    def log_then_interrupt(self, values, step=None, **fields):
        log(self, values, step=step, **fields)
        if at["step"] is not None and step == at["step"] and "train/loss" in values:
            at["step"] = None
            signal.raise_signal(signal.SIGINT)

    mlx_runtime.metrics.MetricsWriter.log = log_then_interrupt
    yield lambda step: at.update(step=step)
    mlx_runtime.metrics.MetricsWriter.log = log
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_ctrl_c_mid_epoch_saves_and_a_resumed_run_redraws_the_same_epoch(recipe, tmp_path, interrupt_after_step):
    template, cfg = recipe
    interrupt_after_step(2)
    with pytest.raises(SystemExit) as stopped:
        run_recipe(template, cfg, tmp_path / "first")
    assert stopped.value.code == 130
    first_dir = tmp_path / "first"
    saved = torch.load(first_dir / "checkpoints" / "last.pt", weights_only=False)
    assert saved["step"] == 2 and saved["epochs_done"] == 0
    resumed, events, _ = run_recipe(template, cfg, first_dir, resume=first_dir / "checkpoints" / "last.pt")
    whole, _, _ = run_recipe(template, cfg, tmp_path / "whole")
    assert event(events, "interrupted")[0]["signal"] == "SIGINT" and event(events, "resume")[0]["from_step"] == 2
    assert by_step(resumed, "train/loss", 2) == by_step(whole, "train/loss", 2)
    primary = cfg["metrics"]["primary"]
    assert by_step(resumed, primary) == by_step(whole, primary)


def test_accumulation_clipping_and_a_step_limit(recipe, tmp_path):
    template, cfg = recipe
    # DQN makes one update per sampled batch: no accumulation there.
    accum = 1 if cfg["task"] == "rl-dqn" else 2
    metrics, events, _ = run_recipe(template, cfg, tmp_path / "run",
                                    train={"grad_accum_steps": accum, "grad_clip": 0.1, "max_steps": 5, "epochs": 50})
    start = event(events, "start")[0]
    _, plain, _ = run_recipe(template, cfg, tmp_path / "plain", train={"epochs": 1})
    batches = event(plain, "start")[0]["steps_per_epoch"]
    assert start["steps_per_epoch"] == math.ceil(batches / accum) and start.get("grad_accum_steps", 1) == accum
    assert start["total_steps"] == 5
    assert sorted(by_step(metrics, "train/loss")) == [1, 2, 3, 4, 5]
    assert [e["epoch"] for e in event(events, "epoch_end")] == list(range(1, math.ceil(5 / start["steps_per_epoch"]) + 1))
    assert all(0 <= norm < math.inf for norm in by_step(metrics, "train/grad_norm").values())


def test_early_stopping_stops_at_the_right_epoch(recipe, tmp_path):
    template, cfg = recipe
    primary, goal = cfg["metrics"]["primary"], cfg["metrics"]["goal"]
    metrics, events, _ = run_recipe(template, cfg, tmp_path / "run", train={
        "epochs": 10, "early_stopping": {"monitor": primary, "mode": goal, "patience": 2, "min_delta": 1e9}})
    # Epoch 1 improves on infinity; epochs 2 and 3 cannot improve by 1e9: stop after epoch 3.
    assert sorted(m["epoch"] for m in metrics if primary in m["values"]) == [1, 2, 3]
    stop = event(events, "early_stop")
    assert len(stop) == 1 and stop[0]["epoch"] == 3 and stop[0]["patience"] == 2


def test_checkpoints_keep_the_last_k_the_best_and_the_last(recipe, tmp_path):
    template, cfg = recipe
    primary, goal = cfg["metrics"]["primary"], cfg["metrics"]["goal"]
    _, events, run_dir = run_recipe(template, cfg, tmp_path / "run", train={
        "epochs": 4, "checkpoint": {"every_epochs": 1, "best": True, "monitor": primary, "mode": goal, "keep_last": 2}})
    names = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert names == ["best.pt", "epoch3.pt", "epoch4.pt", "last.pt"]
    last = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=False)
    assert set(last) >= {"model", "optimizer", "scheduler", "scaler", "epochs_done", "step", "batches_done",
                         "early_stopping", "best_checkpoint", "divergence", "rng", "config"}
    start = event(events, "start")[0]
    assert last["epochs_done"] == 4 and last["step"] == start["total_steps"] and last["batches_done"] == 0
    best_events = [e for e in events if e["event"] == "checkpoint" and e["path"] == "checkpoints/best.pt"]
    assert best_events and best_events[-1]["metric"] == primary
