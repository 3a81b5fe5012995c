"""Watching a metric for improvement: early stopping and best checkpoints."""

import math
from typing import Optional


class Monitor:
    """Tracks the best value of a metric.

    ``mode`` is ``"min"`` or ``"max"``; a value improves on the best when it is better
    by more than ``min_delta``. ``patience`` is how many updates without improvement
    make ``should_stop`` true; ``None`` never stops (a monitor kept only for its best).
    A NaN never improves.
    """

    def __init__(self, metric: str, mode: str, patience: Optional[int] = None, min_delta: float = 0.0):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', not {mode!r}")
        self.metric = metric
        self.mode = mode
        self.patience = patience
        self.min_delta = min_delta
        self.best = math.inf if mode == "min" else -math.inf
        self.updates_since_best = 0

    def update(self, value: float) -> bool:
        """Record a new value; True when it is a new best."""
        value = float(value)
        if self.mode == "min":
            improved = value < self.best - self.min_delta
        else:
            improved = value > self.best + self.min_delta
        if improved:
            self.best = value
            self.updates_since_best = 0
        else:
            self.updates_since_best += 1
        return improved

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.updates_since_best >= self.patience

    def state_dict(self) -> dict:
        return {"best": self.best, "updates_since_best": self.updates_since_best}

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]
        self.updates_since_best = state["updates_since_best"]
