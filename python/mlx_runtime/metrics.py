"""The metrics stream: JSON lines appended to ``metrics.jsonl`` (protocol version 1).

One line per call, written with a single ``write`` and flushed at once: a line is either
wholly in the file or (after a kill in the middle of a write) a torn last line that mlx
counts and skips. Non-finite numbers, which JSON cannot hold, are written as the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
"""

import json
import math
import os
import time
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

PROTOCOL_VERSION = 1
Number = Union[int, float]


def _number(value: Any) -> Union[Number, str]:
    if hasattr(value, "item"):  # torch tensors and NumPy scalars
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _jsonable(value: Any) -> Any:
    """Event fields as JSON: tensors and NumPy values unwrapped, non-finite floats as strings."""
    if hasattr(value, "tolist"):  # tensors and NumPy arrays and scalars
        value = value.tolist()
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


class MetricsWriter:
    """Append metrics and events to the run's ``metrics.jsonl``, and to TensorBoard.

    The path is ``path``, else ``$MLX_METRICS_FILE`` (set by mlx), else ``metrics.jsonl``
    in the working directory, so a generated script also runs by hand. Pass
    ``enabled=False`` on every rank but 0 in distributed runs: the writer then
    accepts the same calls and writes nothing, keeping one code path.

    With ``tensorboard_dir``, every metric also goes to TensorBoard event files there
    (``tensorboard --logdir .mlx/runs`` shows every run). ``purge_step`` (when resuming)
    drops TensorBoard's events from that step on, as the ``resume`` event does in mlx.
    """

    def __init__(self, path: Optional[str] = None, enabled: bool = True, tensorboard_dir: Optional[Path] = None,
                 purge_step: Optional[int] = None):
        self.enabled = enabled
        self.path = Path(path or os.environ.get("MLX_METRICS_FILE") or "metrics.jsonl")
        self._file = None
        self._tensorboard = None
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")
        if enabled and tensorboard_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self._tensorboard = SummaryWriter(log_dir=str(tensorboard_dir), purge_step=purge_step)

    def log(self, values: Mapping[str, Any], step: int, epoch: Optional[Number] = None) -> None:
        """Log metric values at a global step, e.g. ``{"train/loss": 0.41, "lr": 1e-3}``."""
        record: Dict[str, Any] = {"v": PROTOCOL_VERSION, "t": time.time(), "kind": "metrics",
                                  "step": int(step)}
        if epoch is not None:
            record["epoch"] = epoch
        record["values"] = {str(name): _number(value) for name, value in values.items()}
        self._write(record)
        if self._tensorboard is not None:
            for name, value in record["values"].items():
                self._tensorboard.add_scalar(name, float(value), global_step=int(step), walltime=record["t"])

    def event(self, name: str, **fields: Any) -> None:
        """Log an event such as ``start``, ``checkpoint`` or ``end`` with its fields."""
        record = {"v": PROTOCOL_VERSION, "t": time.time(), "kind": "event", "event": name}
        record.update({key: _jsonable(value) for key, value in fields.items()})
        self._write(record)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._tensorboard is not None:
            self._tensorboard.close()
            self._tensorboard = None

    def __enter__(self) -> "MetricsWriter":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _write(self, record: Dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        self._file.flush()
