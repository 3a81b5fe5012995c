"""Writing checkpoints: periodic ones (keeping the last K), the best, the last."""

import math
import os
import random
import shutil
from pathlib import Path
from typing import Any, NoReturn, Optional

import numpy as np
import torch


def rng_states() -> dict[str, Any]:
    """Every random number generator's state, so a resumed run draws the same numbers."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng_states(states: dict[str, Any]) -> None:
    """The inverse of ``rng_states``."""
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


class CheckpointKeeper:
    """Saves checkpoints under ``directory`` and reports each to the metrics stream.

    ``save_periodic`` writes ``epoch{N}.pt`` and deletes the oldest beyond ``keep_last``;
    ``save(name)`` writes a named one (``best.pt``, ``last.pt``) in place; ``stop_diverged`` saves
    ``last.pt`` and ends the run when the training loss is not finite. Each file is
    written to a temporary name and renamed, so a kill mid-save never leaves a torn
    checkpoint under the real name. ``enabled=False`` on every rank but 0 in distributed runs:
    the calls are the same, and nothing is written.
    """

    def __init__(self, directory: Path, keep_last: int, metrics=None, enabled: bool = True):
        self.directory = Path(directory)
        self.enabled = enabled
        if enabled:
            self.directory.mkdir(parents=True, exist_ok=True)
        self.keep_last = keep_last
        self.metrics = metrics
        self.periodic: list[Path] = sorted(self.directory.glob("epoch*.pt"), key=os.path.getmtime)

    def save(self, name: str, state: dict[str, Any], **event_fields: Any) -> Path:
        path = self.directory / name
        if not self.enabled:
            return path
        partial = path.with_suffix(".pt.partial")
        try:
            torch.save(state, partial)
        except (OSError, RuntimeError) as error:
            partial.unlink(missing_ok=True)
            # torch's zip writer says only "file write failed": a full disk, a quota, a vanished folder.
            if not isinstance(error, OSError) and "write" not in str(error):
                raise
            raise SystemExit(f"mlx_runtime: cannot write {path} ({getattr(error, 'strerror', None) or error}; "
                             f"{shutil.disk_usage(self.directory).free // 2**20} MiB free there): the run stops here; "
                             f"the checkpoints and metrics written before are kept") from None
        os.replace(partial, path)
        if self.metrics is not None:
            self.metrics.event("checkpoint", path=str(Path(self.directory.name) / name), **event_fields)
        return path

    def stop_diverged(self, state: dict[str, Any], loss_value: float, step: int, unit: str = "step",
                      reason: Optional[str] = None) -> NoReturn:
        """Ends a run whose train/loss diverged (here, or on another rank) at the step after ``step``.

        ``reason`` says how (a DivergenceGuard's ``reason``); without one, the loss is not finite, or when
        it is, it diverged on another rank. The parameters have not seen that batch yet, so ``state`` is
        the last good one: it is saved as ``last.pt``, a ``diverged`` event names the step, the metric and
        the reason (mlx then marks the run ``diverged``), and the script exits with status 1 and a hint.
        """
        if reason is None:
            reason = f"is {loss_value}" if not math.isfinite(loss_value) else "diverged on another rank"
        self.save("last.pt", state, step=step)
        if self.metrics is not None:
            self.metrics.event("diverged", step=step + 1, metric="train/loss", value=loss_value, reason=reason)
        raise SystemExit(f"train/loss {reason} at {unit} {step + 1}: the run diverged. The last good state "
                         f"is in checkpoints/last.pt; lower optim.lr or set train.grad_clip (train.divergence "
                         f"says when a loss has diverged).")

    def save_periodic(self, epoch: int, state: dict[str, Any], **event_fields: Any) -> Path:
        path = self.save(f"epoch{epoch}.pt", state, epoch=epoch, **event_fields)
        if not self.enabled:
            return path
        if path in self.periodic:
            self.periodic.remove(path)
        self.periodic.append(path)
        while len(self.periodic) > self.keep_last:
            self.periodic.pop(0).unlink(missing_ok=True)
        return path
