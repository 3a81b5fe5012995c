"""The rl-dqn template, run in-process on CartPole-v1: the metrics an RL run logs, greedy
evaluation, vectorised environments, soft and hard target updates, exact resume (replay buffer,
environments mid-episode and every generator in the checkpoint), and environments DQN cannot play.

Configs are resolved by mlx itself (``mlx validate --json``); they need the TypeScript build."""

import pytest
from recipe_helpers import REPO, resolve_config, run_recipe

TEMPLATE = REPO / "templates" / "rl-dqn" / "train.py"


def config(tmp_path, *overrides):
    return resolve_config("name: t\ntask: rl-dqn\ndata: {steps_per_epoch: 300, learning_starts: 100, replay_size: 2000, "
                          "batch_size: 32, eval_episodes: 3, exploration: {decay_steps: 400}}\n"
                          "model: {hidden: [32], target_every: 50}\ntrain: {epochs: 2, log_every: 20}\n", tmp_path, *overrides)


def values(metrics, key):
    return [m["values"][key] for m in metrics if key in m["values"]]


def test_an_rl_run_logs_returns_epsilon_q_values_and_greedy_evaluations(tmp_path):
    metrics, events, run_dir = run_recipe(TEMPLATE, config(tmp_path), tmp_path / "run", train={"artifacts": True})
    start = next(e for e in events if e["event"] == "start")
    # 600 env steps; updates from the 100th, one per step: 501.
    assert (start["total_steps"], start["env_steps_per_epoch"], start["units"]["step"]) == (501, 300, "update")
    assert max(m["step"] for m in metrics) == 501
    epsilon = values(metrics, "epsilon")
    assert epsilon[0] > epsilon[-1] and epsilon[-1] == pytest.approx(0.05)
    for key in ("train/loss", "train/q_mean", "train/return", "train/episode_length", "perf/samples_per_sec"):
        assert values(metrics, key), key
    evaluations = [m["values"] for m in metrics if "val/return" in m["values"]]
    assert len(evaluations) == 2 and all(e["val/return"] >= 8 and e["val/length"] == e["val/return"] for e in evaluations)
    assert [e["env_steps"] for e in events if e["event"] == "epoch_end"] == [300, 600]
    assert (run_dir / "returns.png").read_bytes()[:4] == b"\x89PNG"
    assert len(next(e for e in events if e["event"] == "returns")["evaluation"]) == 3


def test_vectorised_environments_and_a_soft_target(tmp_path):
    cfg = config(tmp_path, "data.num_envs=3", "model.target_update=soft", "model.tau=0.05", "loss.double=false")
    metrics, events, _ = run_recipe(TEMPLATE, cfg, tmp_path / "run")
    start = next(e for e in events if e["event"] == "start")
    # 100 iterations of 3 envs per epoch; updates from iteration 34: 167 in all.
    assert (start["num_envs"], start["env_steps_per_epoch"], start["total_steps"]) == (3, 300, 167)
    assert [e["env_steps"] for e in events if e["event"] == "epoch_end"] == [300, 600]
    assert values(metrics, "train/return")


@pytest.mark.parametrize("env,message", [("NoSuchEnv-v0", "is not a gymnasium environment here"),
                                         ("Pendulum-v1", "DQN needs discrete actions")])
def test_an_environment_dqn_cannot_play_is_a_clear_error(tmp_path, env, message):
    with pytest.raises(SystemExit, match=message):
        run_recipe(TEMPLATE, config(tmp_path, f"data.env={env}"), tmp_path / "run")
