"""mlx_runtime.capture: printed lines of a user's script into metrics, the script run unchanged."""

import json
import os
import subprocess
import sys
from pathlib import Path

from mlx_runtime.capture import LineParser, split_lines

PYTHON_DIR = Path(__file__).resolve().parents[1]
LM_LINE = "| epoch   3 |   200/ 2983 batches | lr 20.00 | ms/batch 45.12 | loss  5.21 | ppl   183.12"
LM_PATTERN = {"regex": r"\| epoch +(?P<epoch>\d+) \| +\d+/ *\d+ batches \| lr (?P<lr>[\d.]+) .*\| loss +(?P<loss>[\d.]+)",
              "metrics": {"loss": "train/loss", "lr": "lr"}}


def parser(patterns=(), default_pattern=True):
    return LineParser({"patterns": list(patterns), "default_pattern": default_pattern})


def test_a_pattern_names_its_groups_and_places_the_epoch():
    lines = parser([LM_PATTERN])
    assert lines.parse(LM_LINE) == (1, 3.0, {"train/loss": 5.21, "lr": 20.0})
    assert lines.parse(LM_LINE.replace("loss  5.21", "loss  5.10")) == (2, 3.0, {"train/loss": 5.10, "lr": 20.0})


def test_groups_without_a_mapping_keep_their_names_and_a_step_group_places_the_line():
    lines = parser([{"regex": r"iter (?P<step>\d+): (?P<loss>\S+) (?P<note>[a-z]+)"}])
    # A group that holds no number (note) is no metric.
    assert lines.parse("iter 40: 0.25 fine") == (40, None, {"loss": 0.25})
    assert lines.parse("iter 41: nan fine")[2]["loss"] != lines.parse("iter 41: nan fine")[2]["loss"]  # NaN kept


def test_key_value_pairs_on_lines_no_pattern_matched():
    lines = parser([LM_PATTERN])
    assert lines.parse("step=7 loss: 0.5 acc=9e-1 val/f1 = 0.75") == (7, None, {"loss": 0.5, "acc": 0.9, "val/f1": 0.75})
    assert lines.parse("started at 12:30:01, host=node-3") is None
    assert lines.parse("epoch: 2") is None  # places only, no value
    assert parser(default_pattern=False).parse("loss=0.5") is None


def test_carriage_returns_end_lines_and_chunks_may_split_them():
    chunks = [b"loss=1\rloss", b"=2\nhalf", b" a line\n", b"tail"]
    assert list(split_lines(chunks)) == ["loss=1", "loss=2", "half a line", "tail"]


def test_capture_passes_output_through_and_writes_rank_0_records(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import sys\nprint('loss=0.5')\nprint('plain text')\nprint('oops', file=sys.stderr)\nsys.exit(4)\n")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"script": {"patterns": [], "default_pattern": True}}))
    metrics = tmp_path / "metrics.jsonl"
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), "MLX_METRICS_FILE": str(metrics)}
    env.pop("RANK", None)
    result = subprocess.run([sys.executable, "-m", "mlx_runtime.capture", str(config), "--", sys.executable, str(script)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 4  # the script's own exit status
    assert result.stdout == "loss=0.5\nplain text\n"
    assert result.stderr == "oops\n"
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [(r["step"], r["values"]) for r in records] == [(1, {"loss": 0.5})]
    # Any rank but 0 reads its output and writes nothing.
    metrics.unlink()
    subprocess.run([sys.executable, "-m", "mlx_runtime.capture", str(config), "--", sys.executable, str(script)],
                   capture_output=True, env={**env, "RANK": "1"}, timeout=60)
    assert not metrics.exists() or metrics.read_text() == ""
