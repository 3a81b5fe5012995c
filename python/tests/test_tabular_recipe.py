"""The tabular template, run in-process: wine (classification), diabetes (regression), CSV files
with numeric and categorical columns, exact resume, and bad data reported with its file and row.

Configs are resolved by mlx itself (``mlx validate --json``); they need the TypeScript build."""

import math

import pytest
import torch
from recipe_helpers import REPO, resolve_config, run_recipe

from mlx_runtime import DataError

TEMPLATE = REPO / "templates" / "tabular" / "train.py"

PLANTS = """height,soil,leaf_width,kind
12.5,clay,3.1,fern
30.1,sand,1.2,cactus
11.0,clay,2.9,fern
28.4,sand,1.0,cactus
14.2,loam,3.5,fern
33.0,sand,0.8,cactus
13.1,clay,3.0,fern
29.9,loam,1.1,cactus
10.8,loam,3.3,fern
31.5,sand,0.9,cactus
12.0,clay,,fern
27.7,sand,1.3,cactus
"""


def train(cfg, tmp_path, name="run", **sections):
    return run_recipe(TEMPLATE, cfg, tmp_path / name, **sections)


def values(metrics, key):
    return [m["values"][key] for m in metrics if key in m["values"]]


def csv_config(tmp_path, text=PLANTS, *overrides, kind="classification", target="kind", extra=""):
    (tmp_path / "plants.csv").write_text(text)
    return resolve_config(f"name: t\ntask: tabular\ndata: {{source: csv, path: {tmp_path / 'plants.csv'}, kind: {kind}, "
                          f"target: {target}, batch_size: 4, val_fraction: 0.34{extra}}}\ntrain: {{epochs: 3, log_every: 1}}\n",
                          tmp_path, *overrides)


def test_wine_classification_trains_and_reports_per_class_f1(tmp_path):
    cfg = resolve_config("name: t\ntask: tabular\ntrain: {epochs: 3, log_every: 1}\n", tmp_path)
    assert cfg["data"]["kind"] == "classification" and cfg["loss"]["name"] == "cross_entropy"
    assert cfg["metrics"]["primary"] == "val/acc"
    metrics, events, run_dir = train(cfg, tmp_path, train={"epochs": 3, "log_every": 1, "artifacts": True})
    assert len(values(metrics, "val/acc")) == 3 and values(metrics, "val/acc")[-1] > 0.5
    start = events[0]
    assert start["train_rows"] + start["val_rows"] == 178 and len(start["numeric_columns"]) == 13
    matrix = next(e for e in events if e["event"] == "confusion_matrix")
    assert matrix["labels"] == ["class_0", "class_1", "class_2"]
    assert sum(map(sum, matrix["matrix"])) == start["val_rows"]
    assert set(matrix["per_class_f1"]) == {"class_0", "class_1", "class_2"}
    assert (run_dir / "confusion_matrix.png").stat().st_size > 0


def test_diabetes_regression_reports_errors_in_the_targets_units(tmp_path):
    cfg = resolve_config("name: t\ntask: tabular\ndata: {source: diabetes}\ntrain: {epochs: 3}\n", tmp_path)
    assert cfg["loss"]["name"] == "mse" and cfg["metrics"] == {"primary": "val/r2", "goal": "max"}
    metrics, events, run_dir = train(cfg, tmp_path, train={"epochs": 3, "artifacts": True})
    rmse, mae, r2 = values(metrics, "val/rmse")[-1], values(metrics, "val/mae")[-1], values(metrics, "val/r2")[-1]
    # The target is disease progression (25 to 346): errors in its units are tens, not standardised units.
    assert 20 < mae <= rmse < 200 and math.isfinite(r2) and "val/acc" not in metrics[-1]["values"]
    assert (run_dir / "predicted_vs_true.png").stat().st_size > 0


@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_regression_losses(tmp_path, loss):
    cfg = resolve_config(f"name: t\ntask: tabular\ndata: {{source: diabetes}}\nloss: {{name: {loss}}}\n"
                         "train: {epochs: 2}\n", tmp_path)
    metrics, _, _ = train(cfg, tmp_path)
    assert values(metrics, "train/loss")[-1] < values(metrics, "train/loss")[0] * 2 and len(values(metrics, "val/r2")) == 2


@pytest.mark.parametrize("encoding", ["embedding", "onehot"])
def test_a_csv_with_a_categorical_column_and_a_blank_cell(tmp_path, encoding):
    cfg = csv_config(tmp_path, PLANTS, f"model.categorical={encoding}")
    metrics, events, run_dir = train(cfg, tmp_path)
    assert events[0]["categorical_columns"] == ["soil"] and events[0]["numeric_columns"] == ["height", "leaf_width"]
    assert all(math.isfinite(v) for v in values(metrics, "train/loss"))
    checkpoint = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=False)
    preprocessing = checkpoint["preprocessing"]
    assert preprocessing["classes"] == ["cactus", "fern"]
    assert preprocessing["vocabularies"]["soil"][0] == "<unknown>" and set(preprocessing["vocabularies"]["soil"][1:]) <= {"clay", "loam", "sand"}
    has_embeddings = any(key.startswith("embeddings.") for key in checkpoint["model"])
    assert has_embeddings == (encoding == "embedding")


# -- bad data: a DataError naming the file and the line, and a hint --------------------------


def data_error(tmp_path, text, *overrides, **options) -> DataError:
    cfg = csv_config(tmp_path, text, *overrides, **options)
    with pytest.raises(DataError) as caught:
        train(cfg, tmp_path)
    return caught.value


def test_a_missing_column_is_named_with_the_closest_header(tmp_path):
    error = data_error(tmp_path, PLANTS, target="knd")
    assert (error.path.endswith("plants.csv"), error.row) == (True, 1)
    assert "no column 'knd'" in error.message and error.hint == "'knd': did you mean 'kind'?"


def test_a_ragged_row_is_reported_with_its_line(tmp_path):
    text = PLANTS.replace("28.4,sand,1.0,cactus", "28.4,sand,1.0,cactus,extra")
    error = data_error(tmp_path, text)
    assert error.row == 5 and "5 fields, but the header has 4" in error.message


def test_an_empty_file_and_a_header_without_rows(tmp_path):
    assert "the file is empty" in data_error(tmp_path, "").message
    assert "header but no data rows" in data_error(tmp_path, "height,soil,leaf_width,kind\n").message


def test_a_missing_file_names_the_path(tmp_path):
    cfg = csv_config(tmp_path)
    cfg["data"]["path"] = str(tmp_path / "nowhere.csv")
    with pytest.raises(DataError, match="nowhere.csv: no such file"):
        train(cfg, tmp_path)


def test_a_validation_label_never_seen_in_training(tmp_path):
    (tmp_path / "val.csv").write_text("height,soil,leaf_width,kind\n12.0,clay,3.0,fern\n50.0,sand,0.2,orchid\n")
    error = data_error(tmp_path, PLANTS, extra=f", val_path: {tmp_path / 'val.csv'}")
    assert error.path.endswith("val.csv") and error.row == 3
    assert "label 'orchid'" in error.message and error.hint == "the training labels are cactus, fern"


def test_text_in_a_numeric_validation_column_and_a_blank_regression_target(tmp_path):
    (tmp_path / "val.csv").write_text("height,soil,leaf_width,kind\n12.0,clay,tall,fern\n")
    error = data_error(tmp_path, PLANTS, extra=f", val_path: {tmp_path / 'val.csv'}")
    assert (error.row, error.message) == (2, "column 'leaf_width': 'tall' is not a number")
    blank_target = "a,b,y\n1,2,3.5\n2,3,\n" + "".join(f"{i},{i + 1},{i * 0.5}\n" for i in range(3, 12))
    error = data_error(tmp_path, blank_target, kind="regression", target="y")
    assert (error.row, error.message) == (3, "column 'y': the target is blank")


def test_a_data_error_exits_2_with_one_line_and_no_traceback(tmp_path):
    import subprocess
    import sys

    cfg = csv_config(tmp_path, PLANTS, target="knd")
    (tmp_path / "config.json").write_text(__import__("json").dumps(cfg))
    result = subprocess.run([sys.executable, str(TEMPLATE), "--config", str(tmp_path / "config.json")], capture_output=True,
                            text=True, cwd=tmp_path, env={"PYTHONPATH": str(REPO / "python"), "PATH": "/usr/bin:/bin",
                                                          "MLX_METRICS_FILE": str(tmp_path / "m.jsonl")})
    assert result.returncode == 2
    assert result.stderr == (f"error: {tmp_path / 'plants.csv'}:1: no column 'knd' in the header\n"
                             "hint: 'knd': did you mean 'kind'?\n")
