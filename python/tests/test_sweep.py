"""The sweep's sampler process (mlx_runtime.sweep) and the recipes' k-fold split: the protocol mlx speaks
to Optuna, a study rebuilt from finished trials, the grid never repeating a point the store holds, the
reference trial never pruned, a resumed sampler drawing new points, and folds that partition the data."""

import io
import json

import numpy as np

from mlx_runtime.data import holdout_split
from mlx_runtime.sweep import plot, serve

SPACE = {"optim.lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
         "data.batch_size": {"type": "categorical", "choices": [32, 64, 128]}}


def talk(*requests):
    out = io.StringIO()
    serve([json.dumps(request) for request in requests], out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def start(**fields):
    return {"op": "start", "method": "tpe", "directions": ["maximize"], "space": SPACE, "seed": 0,
            "prune": {"method": "asha", "min_epochs": 1, "reduction": 3}, **fields}


def test_ask_report_tell_and_errors_come_back_as_answers():
    answers = talk(start(), {"op": "ask", "number": 0}, {"op": "report", "number": 0, "step": 1, "value": 0.5},
                   {"op": "tell", "number": 0, "state": "complete", "values": [0.5]}, {"op": "ask", "number": 0})
    assert answers[0] == {}
    assert 1e-4 <= answers[1]["params"]["optim.lr"] <= 1e-1 and answers[1]["params"]["data.batch_size"] in (32, 64, 128)
    assert answers[2] == {"prune": False}
    assert answers[3] == {}
    assert answers[4]["params"]  # a number mlx reuses is its business: the sampler answers
    assert "error" in talk(start(), {"op": "tell", "number": 9, "state": "complete", "values": [1]})[1]


def test_the_config_as_written_is_the_first_trial_and_is_never_pruned():
    baseline = {"optim.lr": 0.003, "data.batch_size": 64}
    history = [{"number": n, "params": {"optim.lr": 0.01, "data.batch_size": 32}, "state": "complete",
                "values": [0.99], "intermediate": [[1, 0.99]]} for n in range(1, 6)]
    first = talk(start(baseline=baseline), {"op": "ask", "number": 0})
    assert first[1]["params"] == baseline
    # Trailing far behind five finished trials at epoch 1: trial 0 goes on, another trial is pruned.
    answers = talk(start(history=history, reference_trial=0),
                   {"op": "adopt", "number": 0, "params": baseline, "intermediate": []},
                   {"op": "report", "number": 0, "step": 1, "value": 0.1},
                   {"op": "ask", "number": 6}, {"op": "report", "number": 6, "step": 1, "value": 0.1})
    assert answers[2] == {"prune": False}
    assert answers[4] == {"prune": True}


def test_a_rebuilt_grid_takes_only_the_points_the_store_does_not_hold():
    grid = {"a": {"type": "categorical", "choices": [1, 2, 3]}, "b": {"type": "categorical", "choices": ["x", "y"]}}
    history = [{"number": 0, "params": {"a": 1, "b": "x"}, "state": "complete", "values": [1.0]},
               {"number": 1, "params": {"a": 3, "b": "y"}, "state": "pruned", "intermediate": [[1, 0.2]]}]
    answers = talk({"op": "start", "method": "grid", "directions": ["minimize"], "space": grid, "history": history},
                   {"op": "adopt", "number": 2, "params": {"a": 2, "b": "x"}, "intermediate": []},
                   *[{"op": "ask", "number": n} for n in range(3, 6)],
                   {"op": "tell", "number": 3, "state": "complete", "values": [0.5]})
    asked = [tuple(answer["params"].values()) for answer in answers[2:5]]
    assert sorted(asked) == [(1, "y"), (2, "y"), (3, "x")]
    assert answers[5] == {}  # telling the grid's last trial does not need Optuna's optimize loop


def test_a_resumed_sampler_draws_new_points_rather_than_the_first_ones_again():
    fresh = talk(start(), *[{"op": "ask", "number": n} for n in range(3)])
    drawn = [answer["params"] for answer in fresh[1:]]
    history = [{"number": n, "params": params, "state": "complete", "values": [0.5]} for n, params in enumerate(drawn)]
    resumed = talk(start(history=history), {"op": "ask", "number": 3})
    assert resumed[1]["params"] not in drawn


def test_plots_of_a_study_rebuilt_from_its_trials(tmp_path):
    rng = np.random.default_rng(0)
    history = [{"number": n, "params": {"optim.lr": float(10 ** rng.uniform(-4, -1)),
                                        "data.batch_size": int(rng.choice([32, 64, 128]))},
                "state": "complete", "values": [float(rng.uniform())], "intermediate": []} for n in range(8)]
    (tmp_path / "history.json").write_text(json.dumps({"method": "tpe", "directions": ["maximize"], "space": SPACE,
                                                       "history": history, "objective": "val/acc"}))
    plot(str(tmp_path / "history.json"), str(tmp_path / "plots"))
    for name in ("history", "parallel_coordinates", "importances"):
        assert (tmp_path / "plots" / f"{name}.png").stat().st_size > 1000
        assert "plotly" in (tmp_path / "plots" / f"{name}.html").read_text()[:100_000].lower()


def test_folds_partition_the_examples_and_each_fold_validates_once():
    labels = np.array([0, 1, 2] * 20)
    validated = []
    for fold in range(4):
        train, val = holdout_split(len(labels), labels, {"folds": 4, "fold": fold, "val_fraction": 0.2}, seed=3)
        assert not set(train) & set(val) and len(train) + len(val) == len(labels)
        assert sorted(np.bincount(labels[val])) == [5, 5, 5]  # stratified
        validated.extend(val)
    assert sorted(validated) == list(range(len(labels)))
    # Without folds, the usual held-out fraction.
    train, val = holdout_split(len(labels), labels, {"folds": None, "fold": 0, "val_fraction": 0.25}, seed=3)
    assert len(val) == 15
