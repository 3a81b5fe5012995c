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


class MetricsWriter:
    """Append metrics and events to the run's ``metrics.jsonl``.

    The path is ``path``, else ``$MLX_METRICS_FILE`` (set by mlx), else ``metrics.jsonl``
    in the working directory, so a generated script also runs by hand. Pass
    ``enabled=False`` on every rank but 0 in distributed runs: the writer then
    accepts the same calls and writes nothing, keeping one code path.
    """

    def __init__(self, path: Optional[str] = None, enabled: bool = True):
        self.enabled = enabled
        self.path = Path(path or os.environ.get("MLX_METRICS_FILE") or "metrics.jsonl")
        self._file = None
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")

    def log(self, values: Mapping[str, Any], step: int, epoch: Optional[Number] = None) -> None:
        """Log metric values at a global step, e.g. ``{"train/loss": 0.41, "lr": 1e-3}``."""
        record: Dict[str, Any] = {"v": PROTOCOL_VERSION, "t": time.time(), "kind": "metrics",
                                  "step": int(step)}
        if epoch is not None:
            record["epoch"] = epoch
        record["values"] = {str(name): _number(value) for name, value in values.items()}
        self._write(record)

    def event(self, name: str, **fields: Any) -> None:
        """Log an event such as ``start``, ``checkpoint`` or ``end`` with its fields."""
        record = {"v": PROTOCOL_VERSION, "t": time.time(), "kind": "event", "event": name}
        record.update(fields)
        self._write(record)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "MetricsWriter":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _write(self, record: Dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        self._file.flush()
