"""The sampler and pruner of an ``mlx sweep``: Optuna, driven ask-and-tell by mlx over stdin/stdout.

mlx owns the trials: each is an ordinary run in its store, and their numbers are mlx's. This
process holds an in-memory Optuna study, rebuilt at every start from the trials mlx hands it
(finished ones with their values and intermediate values, so TPE, CMA-ES, NSGA-II and the
pruners see the whole history), and answers one JSON line per request line:

    {"op": "start", "method": "tpe", "directions": ["maximize"], "space": {...}, "seed": 0, "baseline": {...}, "reference_trial": 0,
     "prune": {"method": "asha", "min_epochs": 1, "reduction": 3, "max_epochs": 10},
     "history": [{"number": 0, "params": {...}, "state": "complete", "values": [0.9],
                  "intermediate": [[1, 0.8], [2, 0.9]]}, ...]}
    {"op": "ask", "number": 7}                       -> {"params": {...}}
    {"op": "adopt", "number": 3, "params": {...}, "intermediate": [...]}   (a trial resumed)
    {"op": "report", "number": 7, "step": 2, "value": 0.91}   -> {"prune": false}
    {"op": "tell", "number": 7, "state": "complete", "values": [0.93]}
    {"op": "grid_size"}                              -> {"size": 12}

A space entry is {"type": "float", "low": 0.0, "high": 0.5, "log": false} | {"type": "int", ...}
| {"type": "categorical", "choices": [...]}. ``python -m mlx_runtime.sweep plot HISTORY.json DIR``
draws the optimisation history, the parallel coordinates and the parameter importances.
"""

import json
import sys
import warnings
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

STATES = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "fail": TrialState.FAIL}


def distribution(entry: dict):
    if entry["type"] == "float":
        return FloatDistribution(entry["low"], entry["high"], log=entry.get("log", False))
    if entry["type"] == "int":
        return IntDistribution(entry["low"], entry["high"], log=entry.get("log", False))
    return CategoricalDistribution(entry["choices"])


class BudgetedGridSampler(optuna.samplers.GridSampler):
    """Optuna's grid, without its stop of the study once every point is taken: that needs a running
    ``optimize``, and mlx keeps the budget (the grid's size at most) itself."""

    def after_trial(self, study, trial, state, values) -> None:
        pass


def build_sampler(method: str, space: dict, seed: int):
    if method == "grid":
        return BudgetedGridSampler({name: entry["choices"] for name, entry in space.items()}, seed=seed)
    if method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if method == "cmaes":
        # CMA-ES samples numbers; a categorical param is drawn at random beside it (Optuna's own fallback).
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if method == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True)


def build_pruner(prune: dict):
    method = prune.get("method", "none")
    if method == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=prune["min_epochs"],
                                                      reduction_factor=prune["reduction"])
    if method == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=prune["min_epochs"], max_resource=prune["max_epochs"],
                                              reduction_factor=prune["reduction"])
    if method == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=prune.get("startup_trials", 2),
                                           n_warmup_steps=prune["min_epochs"])
    return optuna.pruners.NopPruner()


class Sweep:
    def __init__(self, request: dict):
        self.method, self.space = request["method"], request["space"]
        self.distributions = {name: distribution(entry) for name, entry in self.space.items()}
        history = request.get("history", [])
        # A resumed sweep's sampler draws on from a seed of its own: the same seed would repeat the first draws.
        sampler = build_sampler(self.method, self.space, request.get("seed", 0) + len(history))
        self.reference_trial = request.get("reference_trial")
        self.prune = request.get("prune", {})
        self.study = optuna.create_study(directions=request["directions"], sampler=sampler,
                                         pruner=build_pruner(self.prune))
        self.trials: dict[int, optuna.Trial] = {}
        for trial in sorted(history, key=lambda trial: trial["number"]):
            self.add_finished(trial)
        if request.get("baseline") and not self.study.trials and self.method != "grid":
            # The config as written is the first trial: a sweep never ends worse than what it started from.
            self.study.enqueue_trial(request["baseline"])

    def grid_id(self, params: dict):
        sampler = self.study.sampler
        key = [params[name] for name in sampler._param_names]
        for grid_id, point in enumerate(sampler._all_grids):
            if list(point) == key:
                return grid_id
        return None

    def system_attrs(self, params: dict) -> dict:
        """What Optuna's grid sampler marks its own trials with, so that a rebuilt grid skips the points done."""
        if self.method != "grid":
            return {}
        grid_id = self.grid_id(params)
        return {} if grid_id is None else {"grid_id": grid_id, "search_space": self.study.sampler._search_space}

    def rung_attrs(self, intermediate: list) -> dict:
        """The rungs a trial reached, as Optuna's successive halving marks them while a trial reports
        (``completed_rung_N``: its value when it reached rung N): without them, a rebuilt ASHA would
        compare the new trials with none of the old."""
        if self.prune.get("method") != "asha":
            return {}
        attrs, rung = {}, 0
        for step, value in sorted((int(step), value) for step, value in intermediate):
            while step >= self.prune["min_epochs"] * self.prune["reduction"] ** rung:
                attrs[f"completed_rung_{rung}"] = value
                rung += 1
        return attrs

    def add_finished(self, trial: dict) -> None:
        params = {name: value for name, value in trial["params"].items() if name in self.distributions}
        state = STATES[trial["state"]]
        values = trial.get("values") if state == TrialState.COMPLETE else None
        intermediate = trial.get("intermediate", [])
        self.study.add_trial(create_trial(
            state=state, params=params, distributions={name: self.distributions[name] for name in params},
            values=values, intermediate_values={int(step): value for step, value in intermediate},
            system_attrs={**self.system_attrs(params), **self.rung_attrs(intermediate)},
            user_attrs={"mlx_trial": trial["number"]}))

    def ask(self, number: int) -> dict:
        if self.method == "grid":
            # Optuna's grid sampler numbers its points by trial number while the grid is young, which
            # repeats points that trials added from the store already took: mlx asks for an unvisited one.
            sampler = self.study.sampler
            unvisited = sampler._get_unvisited_grid_ids(self.study)
            if not unvisited:
                raise ValueError("every point of the grid has been tried")
            point = sampler._all_grids[int(sampler._rng.rng.choice(unvisited))]
            return self.adopt(number, dict(zip(sampler._param_names, point)), [])
        trial = self.study.ask(self.distributions)
        trial.set_user_attr("mlx_trial", number)
        self.trials[number] = trial
        return {"params": trial.params}

    def adopt(self, number: int, params: dict, intermediate: list) -> dict:
        """A trial with its params fixed: one that was running when the sweep stopped and goes on now
        (with the values it had reported), or the grid's next point."""
        self.study.enqueue_trial(params, skip_if_exists=False)
        trial = self.study.ask(self.distributions)
        trial.set_user_attr("mlx_trial", number)
        for name, value in self.system_attrs(params).items():
            self.study._storage.set_trial_system_attr(trial._trial_id, name, value)
        for step, value in intermediate:
            trial.report(value, int(step))
        for name, value in self.rung_attrs(intermediate).items():
            self.study._storage.set_trial_system_attr(trial._trial_id, name, value)
        self.trials[number] = trial
        return {"params": trial.params}

    def report(self, number: int, step: int, value: float) -> dict:
        trial = self.trials[number]
        if len(self.study.directions) > 1:
            return {"prune": False}  # Optuna prunes single-objective studies only
        trial.report(value, step)
        # The config as written trains to its end: the reference the other trials are measured against.
        return {"prune": bool(number != self.reference_trial and trial.should_prune())}

    def tell(self, number: int, state: str, values) -> dict:
        trial = self.trials.pop(number)
        self.study.tell(trial, values if state == "complete" else None, state=STATES[state])
        return {}

    def grid_size(self) -> dict:
        return {"size": len(self.study.sampler._all_grids) if self.method == "grid" else None}


def plain(value):
    """NumPy's scalars (Optuna's answers hold some) as the JSON numbers and booleans they are."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def serve(lines, out) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # multivariate TPE: years in use
    sweep = None
    for line in lines:
        if not line.strip():
            continue
        request = json.loads(line)
        op = request.pop("op")
        try:
            if op == "start":
                sweep, answer = Sweep(request), {}
            elif sweep is None:
                raise ValueError("the first request must be start")
            else:
                answer = getattr(sweep, op)(**request)
        except Exception as error:
            answer = {"error": f"{type(error).__name__}: {error}"}
        out.write(json.dumps(answer, default=plain) + "\n")
        out.flush()


def rebuilt_study(history: dict) -> optuna.Study:
    sweep = Sweep({**history, "prune": {}})
    return sweep.study


def plot(history_file: str, out_dir: str) -> None:
    """The optimisation history, parallel coordinates and parameter importances, as PNG and HTML."""
    from pathlib import Path

    import optuna.visualization as interactive
    import optuna.visualization.matplotlib as static

    from mlx_runtime.analysis import pyplot

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    history = json.loads(Path(history_file).read_text())
    study = rebuilt_study(history)
    target_name = history.get("objective", "objective")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Any] = {}
    completed = [trial for trial in study.trials if trial.state == TrialState.COMPLETE]
    single = len(study.directions) == 1
    figures = {"history": (interactive.plot_optimization_history, static.plot_optimization_history)}
    if completed and study.trials[0].params:
        figures["parallel_coordinates"] = (interactive.plot_parallel_coordinate, static.plot_parallel_coordinate)
    if len(completed) >= 2 and len({name for t in completed for name in t.params}) >= 1:
        figures["importances"] = (interactive.plot_param_importances, static.plot_param_importances)
    plt = pyplot()
    for name, (html_plot, png_plot) in figures.items():
        options = {"target_name": target_name} if single else {"target": lambda t: t.values[0],
                                                              "target_name": target_name}
        try:
            html_plot(study, **options).write_html(out / f"{name}.html", include_plotlyjs=True)
            axes = png_plot(study, **options)
            figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
            figure.set_size_inches(9, 5)
            figure.tight_layout()
            figure.savefig(out / f"{name}.png", dpi=110)
            plt.close(figure)
            written[name] = [str(out / f"{name}.png"), str(out / f"{name}.html")]
        except (ValueError, RuntimeError) as error:
            written[name] = f"not drawn: {error}"
    if len(completed) >= 2 and single:
        try:
            written["importance_values"] = optuna.importance.get_param_importances(study)
        except (ValueError, RuntimeError) as error:
            written["importance_values"] = f"not computed: {error}"
    print(json.dumps(written))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "plot":
        plot(sys.argv[2], sys.argv[3])
    else:
        serve(sys.stdin, sys.stdout)
