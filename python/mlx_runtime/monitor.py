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


class DivergenceGuard:
    """Whether the training loss has diverged, as Lightning's ``divergence_threshold`` decides it, with a
    default relative to the loss the run started from.

    A loss diverges when it is not finite, above ``threshold`` (an absolute bound; ``None``: none), or above
    ``factor`` times the early loss (``None``: no relative bound): the mean of the losses seen so far, up to
    the first ``early_steps`` of them, so that a run that explodes at its second step is caught there.
    Gradient clipping keeps an exploding loss finite (SGD at lr 1e8 takes digits from 2.3 to 2e8), so
    finiteness alone misses most explosions. ``reason`` says why the last call said yes. The early loss is
    part of ``state_dict``: a resumed run keeps the bound it had.
    """

    def __init__(self, factor: Optional[float] = 1000.0, threshold: Optional[float] = None, early_steps: int = 20):
        self.factor, self.threshold, self.early_steps = factor, threshold, early_steps
        self.early_sum, self.early_count = 0.0, 0
        self.reason: Optional[str] = None
        self._limit = self._bound()

    @classmethod
    def from_config(cls, train_cfg: dict) -> "DivergenceGuard":
        """``train.divergence`` of a resolved config; null: only a loss that is not finite diverges."""
        divergence = train_cfg.get("divergence")
        if divergence is None:
            return cls(factor=None, threshold=None)
        return cls(divergence["factor"], divergence["threshold"], divergence["early_steps"])

    def diverged(self, loss: float) -> bool:
        if math.isfinite(loss) and loss <= self._limit:
            if self.early_count < self.early_steps:
                self.early_sum += loss
                self.early_count += 1
                self._limit = self._bound()
            return False
        if not math.isfinite(loss):
            self.reason = f"is {loss}"
        elif self.threshold is not None and loss > self.threshold:
            self.reason = f"is {loss:.4g}, above train.divergence.threshold ({self.threshold:g})"
        else:
            self.reason = (f"is {loss:.4g}, more than train.divergence.factor ({self.factor:g}) times its mean over "
                           f"its first {self.early_count} step{'s' if self.early_count > 1 else ''} "
                           f"({self.early_sum / self.early_count:.4g})")
        return True

    def _bound(self) -> float:
        """The largest loss that has not diverged: the threshold, and factor x the early loss once there is one."""
        bound = math.inf if self.threshold is None else self.threshold
        if self.factor is not None and self.early_count > 0 and self.early_sum > 0:
            bound = min(bound, self.factor * self.early_sum / self.early_count)
        return bound

    def state_dict(self) -> dict:
        return {"early_sum": self.early_sum, "early_count": self.early_count}

    def load_state_dict(self, state: dict) -> None:
        self.early_sum, self.early_count = state["early_sum"], state["early_count"]
        self._limit = self._bound()
