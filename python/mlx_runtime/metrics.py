"""The metrics stream: JSON lines appended to ``metrics.jsonl`` (protocol version 1).

One line per call, handed to the operating system by one ``write`` (the file has no buffer in
the process): a line is either wholly in the file or (after a kill in the middle of a write) a
torn last line that mlx counts and skips. A writer that finds such a torn line at the end of the
file (a resumed run's) marks it, its first byte made ``#`` (no record starts so), and ends it: its own first
record starts on a fresh line, never glued to the fragment, and no reader takes the fragment for a
record, not even one that reads the file again from the start.
Non-finite numbers, which JSON cannot hold, are written as the strings ``"NaN"``, ``"Infinity"``
and ``"-Infinity"``. A write the disk refuses (full) ends the run with a message, not a traceback.
"""

import atexit
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional, Union

PROTOCOL_VERSION = 1
Number = Union[int, float]


def _number(value: Any) -> Union[Number, str]:
    if type(value) is float and math.isfinite(value):
        return value  # most values: no failed attribute lookup (an exception inside) for ``item``
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


def tensorboard_modules() -> tuple:
    """TensorBoard's Event, SessionLog and Summary messages and its RecordWriter: all that a writer with
    TensorBoard on loads (imported on first use, so that a run with TensorBoard off never loads it)."""
    from tensorboard.compat.proto.event_pb2 import Event, SessionLog
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.record_writer import RecordWriter

    return Event, SessionLog, Summary, RecordWriter


class _TensorBoard:
    """TensorBoard event files: one event holding every value of a ``log`` call, written in the
    caller's thread, in batches every ``FLUSH_SECONDS`` and at ``close`` (TensorBoard's own
    writer flushes every 120 s). ``metrics.jsonl`` stays the record that a kill never loses.

    torch's ``SummaryWriter`` hands each scalar to a thread of its own, whose pure-Python
    checksums then contend with the training loop for the GIL at every log line; batched, a log line costs the loop a list append.
    """

    FLUSH_SECONDS = 5.0

    def __init__(self, log_dir: Path, purge_step: Optional[int]):
        import socket

        Event, SessionLog, Summary, RecordWriter = tensorboard_modules()
        self._event, self._summary = Event, Summary
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        # TensorBoard's own naming, so that its readers order a resumed run's files.
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_event_files)}"
        self._file = open(log_dir / name, "wb")
        self._records = RecordWriter(self._file)
        self._pending = []
        self._records.write(Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())
        if purge_step is not None:
            # TensorBoard drops the events of earlier files from this step on: a resumed run logs them again.
            start = SessionLog(status=SessionLog.START)
            self._records.write(Event(wall_time=time.time(), step=purge_step, session_log=start).SerializeToString())
        self._flushed = time.time()
        self._file.flush()
        atexit.register(self.close)  # a script that raises still leaves its last events

    def write(self, values: Union[Mapping[str, Union[Number, str]], Any], step: int, walltime: float) -> None:
        """Scalars (a mapping of names to values), or a ready Summary message (tb_summaries)."""
        if self._file.closed:
            return
        self._pending.append((walltime, step, values))
        if walltime - self._flushed >= self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        try:
            for walltime, step, values in self._pending:
                summary = (self._summary(value=[self._summary.Value(tag=name, simple_value=float(value))
                                                for name, value in values.items()])
                           if isinstance(values, Mapping) else values)
                self._records.write(self._event(wall_time=walltime, step=step, summary=summary).SerializeToString())
            self._file.flush()
        except OSError as error:
            # A full disk: metrics.jsonl, not this copy for viewing, is the record; TensorBoard stops here.
            print(f"warning: TensorBoard events stop here: {error.strerror or error}", file=sys.stderr, flush=True)
            self._abandon()
        self._pending.clear()
        self._flushed = time.time()

    def close(self) -> None:
        if not self._file.closed:
            self.flush()
            self._abandon()

    def _abandon(self) -> None:
        """Closes the file; what its buffer still holds is lost where the disk refuses it."""
        try:
            self._file.close()
        except OSError:
            pass


_event_files = itertools.count()


class MetricsWriter:
    """Append metrics and events to the run's ``metrics.jsonl``, and to TensorBoard.

    The path is ``path``, else ``$MLX_METRICS_FILE`` (set by mlx), else ``metrics.jsonl``
    in the working directory, so a generated script also runs by hand. Pass
    ``enabled=False`` on every rank but 0 in distributed runs: the writer then
    accepts the same calls and writes nothing, keeping one code path.

    With ``tensorboard_dir``, every metric also goes to TensorBoard event files there
    (``mlx tensorboard`` shows every run by its name; ``tensorboard --logdir .mlx/runs`` by its id),
    with the run itself (``describe_run``: its params for the HParams dashboard, its name and
    resolved config as text), the PNG figures an event names in its ``artifacts`` as images, and
    how the run ended for HParams. ``purge_step`` (when resuming) drops TensorBoard's events from
    that step on, as the ``resume`` event does in mlx.
    """

    def __init__(self, path: Optional[str] = None, enabled: bool = True, tensorboard_dir: Optional[Path] = None,
                 purge_step: Optional[int] = None):
        self.enabled = enabled
        self.path = Path(path or os.environ.get("MLX_METRICS_FILE") or "metrics.jsonl")
        self._file = None
        self._tensorboard = None
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._end_torn_line()
            self._file = open(self.path, "ab", buffering=0)
        if enabled and tensorboard_dir is not None:
            self._tensorboard = _TensorBoard(tensorboard_dir, purge_step)

    def log(self, values: Mapping[str, Any], step: int, epoch: Optional[Number] = None) -> None:
        """Log metric values at a global step, e.g. ``{"train/loss": 0.41, "lr": 1e-3}``."""
        record: dict[str, Any] = {"v": PROTOCOL_VERSION, "t": time.time(), "kind": "metrics",
                                  "step": int(step)}
        if epoch is not None:
            record["epoch"] = epoch
        record["values"] = {str(name): _number(value) for name, value in values.items()}
        self._write(record)
        if self._tensorboard is not None:
            self._tensorboard.write(record["values"], int(step), record["t"])

    def event(self, name: str, **fields: Any) -> None:
        """Log an event such as ``start``, ``checkpoint`` or ``end`` with its fields."""
        record = {"v": PROTOCOL_VERSION, "t": time.time(), "kind": "event", "event": name}
        record.update({key: _jsonable(value) for key, value in fields.items()})
        self._write(record)
        if self._tensorboard is not None:
            self._tensorboard_event(name, record)

    def describe_run(self, config: Mapping[str, Any], run_id: Optional[str] = None) -> None:
        """The run for TensorBoard: its params as an HParams session grouped under ``<name>-<id>``, and its
        name and resolved config as text. Once per run (a resumed run's session goes on)."""
        if self._tensorboard is None:
            return
        from . import tb_summaries

        name = str(config.get("name", "run"))
        group = f"{name}-{run_id}" if run_id else name
        now = time.time()
        self._tensorboard.write(tb_summaries.session_start(config, group, now), 0, now)
        self._tensorboard.write(tb_summaries.text("run", f"{name} ({run_id})" if run_id else name), 0, now)
        self._tensorboard.write(tb_summaries.text("config", tb_summaries.config_markdown(config)), 0, now)

    def _tensorboard_event(self, name: str, record: Mapping[str, Any]) -> None:
        """An event's PNG figures (its ``artifacts``, relative to the TensorBoard folder) as images; the
        event that ends a run as the HParams session's end."""
        from . import tb_summaries

        step = record.get("step") if isinstance(record.get("step"), int) else 0
        for artifact in record.get("artifacts") or []:
            path = self._tensorboard.log_dir / str(artifact)
            if path.suffix.lower() != ".png" or not path.is_file():
                continue
            summary = tb_summaries.image(f"figures/{path.stem}", path.read_bytes())
            if summary is not None:
                self._tensorboard.write(summary, step, record["t"])
        if name in tb_summaries.END_STATUS:
            self._tensorboard.write(tb_summaries.session_end(tb_summaries.END_STATUS[name], record["t"]), step,
                                    record["t"])

    def histogram(self, tag: str, values: Any, step: int) -> None:
        """A histogram of ``values`` (a tensor or array) to TensorBoard only (metrics.jsonl holds numbers)."""
        if self._tensorboard is None:
            return
        import numpy as np
        from torch.utils.tensorboard.summary import histogram

        array = values.detach().float().cpu().numpy() if hasattr(values, "detach") else np.asarray(values)
        self._tensorboard.write(histogram(tag, array, bins=64), int(step), time.time())

    def tensorboard_scalars(self, values: Mapping[str, Any], step: int) -> None:
        """Scalars for TensorBoard only: too many (a norm per layer) to index as the run's metrics."""
        if self._tensorboard is not None and values:
            self._tensorboard.write({name: _number(value) for name, value in values.items()}, int(step), time.time())

    def warning(self, message: str, **fields: Any) -> None:
        """Something the person who runs this should know (a config value the data makes pointless): a
        ``warning`` event, which mlx shows with the run, and a line on stderr."""
        if self._file is None:
            return
        print(f"warning: {message}", file=sys.stderr, flush=True)
        self.event("warning", message=message, **fields)

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

    def _write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._write_bytes((json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n").encode())

    def _write_bytes(self, line: bytes) -> None:
        try:
            written = self._file.write(line)
            while written < len(line):  # a short write (interrupted, disk full): the rest, as a buffered file does
                written += self._file.write(line[written:])
        except OSError as error:
            # Training on without a record of it would waste the run: it stops here, what was written kept.
            raise SystemExit(f"mlx_runtime: cannot write {self.path} ({error.strerror or error}): the run stops here; "
                             f"every line written before is kept") from None

    def _end_torn_line(self) -> None:
        """A last line without its newline (a kill cut it short): its first byte becomes ``#``, and a newline ends it."""
        try:
            existing = open(self.path, "r+b")
        except FileNotFoundError:
            return
        with existing:
            size = existing.seek(0, os.SEEK_END)
            if size == 0:
                return
            existing.seek(size - 1)
            if existing.read(1) == b"\n":
                return
            start = size
            while start > 0:  # back to the newline before the fragment (a line is a few hundred bytes)
                begin = max(0, start - 4096)
                existing.seek(begin)
                newline = existing.read(start - begin).rfind(b"\n")
                if newline >= 0:
                    start = begin + newline + 1
                    break
                start = begin
            existing.seek(start)
            existing.write(b"#")
            existing.seek(0, os.SEEK_END)
            existing.write(b"\n")
