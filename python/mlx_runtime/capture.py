"""Metrics from the printed lines of a user's own training script (``task: script``).

``python -m mlx_runtime.capture CONFIG -- COMMAND [ARGS...]`` runs the script unchanged as its
child and passes every byte it prints through to its own stdout (the run's ``stdout.log``).
Each line (a ``\\r`` also ends one, for progress bars) goes through the config's patterns:

- ``script.patterns``: regular expressions (Python's ``re``) with named groups, e.g. for
  ``| epoch 3 |   200/ 2983 batches | lr 20.00 | ms/batch 50.1 | loss  5.21 | ppl 183.12``:
  ``\\| epoch +(?P<epoch>\\d+) \\| +\\d+/ *\\d+ batches \\| lr (?P<lr>[\\d.]+) .*\\| loss +(?P<loss>[\\d.]+)``.
  Each named group holding a number becomes a metric, named by the pattern's ``metrics``
  mapping (``{loss: train/loss}``) or, where the mapping is left out, by the group's own name.
  The groups ``step`` and ``epoch`` place the values instead: without a ``step`` group a
  line's step is how many lines the patterns have matched so far, itself included.
- ``script.default_pattern`` (on unless turned off): on lines no pattern matched, every
  ``key: value`` or ``key=value`` pair with a number for its value (``loss=0.42 acc: 0.9``);
  the keys ``step`` and ``epoch`` place the others.

The records go to ``metrics.jsonl`` like any script's. A script that writes metrics itself
(mlx_runtime's MetricsWriter, or protocol lines of its own) is left to speak for itself: once
``metrics.jsonl`` grows by lines this process did not write, it stops adding its own. Under
torchrun each rank's capture reads that rank's output and only rank 0's writes.

``python -m mlx_runtime.capture CONFIG --test LOGFILE`` prints, one JSON object a line, what
the patterns take from a saved log (``mlx validate --test-patterns LOGFILE``).
"""

import json
import math
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from typing import Optional

from .metrics import MetricsWriter

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"
DEFAULT_PAIR = re.compile(r"(?<![\w./-])([A-Za-z_][\w./-]*)\s*[:=]\s*(" + NUMBER + r")(?![\w.:/-])", re.IGNORECASE)
PLACES = ("step", "epoch")


class LineParser:
    """Turns printed lines into (step, epoch, values) records, as the config's patterns say."""

    def __init__(self, script_cfg: dict):
        self.patterns: list[tuple[re.Pattern, Optional[dict[str, str]]]] = []
        for pattern in script_cfg["patterns"]:
            try:
                compiled = re.compile(pattern["regex"])
            except re.error as error:
                raise SystemExit(f"script.patterns: {pattern['regex']!r} is not a Python regular expression: {error}") from None
            self.patterns.append((compiled, pattern.get("metrics")))
        self.default_pattern = script_cfg["default_pattern"]
        self.matched = 0

    def parse(self, line: str) -> Optional[tuple[int, Optional[float], dict[str, float]]]:
        for regex, names in self.patterns:
            found = regex.search(line)
            if found:
                return self._record({key: value for key, value in found.groupdict().items() if value is not None}, names)
        if self.default_pattern:
            pairs = {key: value for key, value in DEFAULT_PAIR.findall(line)}
            if set(pairs) - set(PLACES):
                return self._record(pairs, None)
        return None

    def _record(self, groups: dict[str, str], names: Optional[dict[str, str]]):
        numbers = {key: number for key, number in ((key, _to_number(text)) for key, text in groups.items())
                   if number is not None}
        values = {(names or {}).get(key, key): value for key, value in numbers.items()
                  if key not in PLACES and (names is None or key in names)}
        if not values:
            return None
        self.matched += 1
        step = int(numbers["step"]) if "step" in numbers and math.isfinite(numbers["step"]) else self.matched
        return step, numbers.get("epoch"), values


def _to_number(text: str) -> Optional[float]:
    try:
        return float(text)
    except ValueError:
        return None


def split_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Lines of the decoded output; a carriage return also ends a line (progress bars redraw with it)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = re.split(rb"\r\n|\r|\n", pending)
        for line in complete:
            yield line.decode("utf-8", errors="replace")
    if pending:
        yield pending.decode("utf-8", errors="replace")


class Capture:
    """Writes the parsed records to metrics.jsonl while nobody else writes there."""

    def __init__(self, parser: LineParser, writer: MetricsWriter):
        self.parser, self.writer = parser, writer
        self.expected_size = self._size()
        self.active = writer.enabled

    def _size(self) -> int:
        try:
            return os.path.getsize(self.writer.path)
        except OSError:
            return 0

    def line(self, text: str) -> None:
        record = self.parser.parse(text)
        if record is None or not self.active:
            return
        if self._size() != self.expected_size:
            # The script writes metrics itself: its own lines are the record.
            self.active = False
            sys.stderr.write("mlx_runtime.capture: the script writes metrics.jsonl itself; its printed lines are "
                             "no longer read for metrics\n")
            return
        step, epoch, values = record
        self.writer.log(values, step=step, epoch=epoch)
        self.expected_size = self._size()


def run(config_path: str, command: list[str]) -> int:
    with open(config_path, encoding="utf-8") as file:
        cfg = json.load(file)
    capture = Capture(LineParser(cfg["script"]), MetricsWriter(enabled=int(os.environ.get("RANK", 0)) == 0))
    # Ctrl-C reaches the script (same process group): this process keeps reading until it ends.
    # The child gets the default handler back (a Python started with SIGINT ignored keeps ignoring it).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    except OSError as error:
        sys.stderr.write(f"error: cannot start {command[0]}: {error}\n")
        return 127
    signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))
    out = sys.stdout.buffer

    def chunks() -> Iterator[bytes]:
        while True:
            chunk = os.read(child.stdout.fileno(), 65536)
            if not chunk:
                return
            out.write(chunk)
            out.flush()
            yield chunk

    for text in split_lines(chunks()):
        capture.line(text)
    code = child.wait()
    capture.writer.close()
    # Ended by a signal: the same exit status a shell gives it.
    return 128 - code if code < 0 else code


def test(config_path: str, log_path: str) -> None:
    with open(config_path, encoding="utf-8") as file:
        parser = LineParser(json.load(file)["script"])
    with open(log_path, "rb") as log:
        for number, text in enumerate(split_lines(iter(lambda: log.read(65536), b"")), start=1):
            record = parser.parse(text)
            if record:
                step, epoch, values = record
                print(json.dumps({"line": number, "step": step, "epoch": epoch, "values": values}), flush=True)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--test":
        test(argv[0], argv[2])
        return 0
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: python -m mlx_runtime.capture CONFIG -- COMMAND [ARGS...]\n"
                         "       python -m mlx_runtime.capture CONFIG --test LOGFILE\n")
        return 2
    return run(argv[0], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
