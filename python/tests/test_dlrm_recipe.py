"""The recsys-dlrm template and the Criteo reader, run in-process on small synthetic click logs:
the stream (batches, shuffling, skipping, blanks), the generator (deterministic, cached, a known
best AUC), training and its metrics, exact resume, and bad lines named with file and line.

Configs are resolved by mlx itself (``mlx validate --json``); they need the TypeScript build."""

import math

import pytest
import torch
from recipe_helpers import REPO, resolve_config, run_recipe

from mlx_runtime import DataError
from mlx_runtime.criteo import FIELDS, CriteoBatches, parse_lines, write_synthetic

TEMPLATE = REPO / "templates" / "recsys-dlrm" / "train.py"


def line(label=1, dense=None, sparse=None) -> str:
    dense = [str(i) for i in range(13)] if dense is None else dense
    sparse = [f"{i:08x}" for i in range(26)] if sparse is None else sparse
    return "\t".join([str(label), *dense, *sparse]) + "\n"


def config(tmp_path, *overrides, rows=3000, val_rows=1000):
    return resolve_config(f"name: t\ntask: recsys-dlrm\ndata: {{source: synthetic, root: {tmp_path / 'data'}, rows: {rows}, "
                          f"val_rows: {val_rows}, hash_size: 500, batch_size: 256, shuffle_buffer: 1024}}\n"
                          "model: {embedding_dim: 8, bottom_mlp: [16, 8], top_mlp: [16]}\n"
                          "optim: {lr: 0.01}\ntrain: {epochs: 2, log_every: 2}\n", tmp_path, *overrides)


def test_parsing_applies_the_log_transform_hashes_ids_and_keeps_blanks_apart():
    dense = ["0", "1", "-3", ""] + ["9"] * 9
    sparse = ["", "00000001", "ffffffff"] + ["0a"] * 23
    d, s, labels = parse_lines([(7, line(1, dense, sparse))], "f.txt", hash_size=100)
    assert d[0, :4].tolist() == pytest.approx([0.0, math.log(2), 0.0, 0.0])  # negative and blank: 0
    assert s[0, 0] == 0 and s[0, 1] == 1 + 1 % 99 and s[0, 2] == 1 + 0xFFFFFFFF % 99  # row 0 only for a blank
    assert labels.tolist() == [1.0]


@pytest.mark.parametrize("text,message", [
    ("1\t2\t3\n", f"3 tab-separated fields, expected {FIELDS}"),
    (line(label=2), "the label is '2', expected 0 or 1"),
    (line(dense=["x"] + ["1"] * 12), "integer feature 1 is 'x', not an integer"),
    (line(sparse=["zz"] + ["1"] * 25), "categorical feature 1 is 'zz', not hexadecimal"),
])
def test_a_bad_line_is_named_with_its_file_and_line(tmp_path, text, message):
    path = tmp_path / "day_0.txt"
    path.write_text(line() + "\n" + text)
    with pytest.raises(DataError) as caught:
        list(CriteoBatches(path, 100, 2))
    assert (caught.value.path, caught.value.row) == (str(path), 3)
    assert message in caught.value.message


def test_the_stream_batches_every_example_once_shuffles_with_its_seed_and_skips(tmp_path):
    path = tmp_path / "clicks.txt"
    path.write_text("".join(line(i % 2, [str(i)] + ["0"] * 12) for i in range(1000)))

    def order(generator, **options):
        """The examples as they come out: each one's first integer feature, which is its line's index."""
        batches = CriteoBatches(path, 50, 64, generator, shuffle_buffer=300, **options)
        return [round(math.expm1(value)) for dense, _, _ in batches for value in dense[:, 0].tolist()]

    plain = order(None)
    assert plain == list(range(1000))  # file order without a generator
    shuffled = order(torch.Generator().manual_seed(3))
    assert sorted(shuffled) == plain and shuffled != plain
    assert order(torch.Generator().manual_seed(3)) == shuffled
    batches = CriteoBatches(path, 50, 64)
    assert len(batches) == math.ceil(1000 / 64) == len(list(batches))
    assert order(None, skip_rows=900) == list(range(900, 1000))
    assert order(None, max_rows=10) == list(range(10))


def test_the_synthetic_logs_are_deterministic_cached_and_know_their_best_auc(tmp_path):
    meta = write_synthetic(tmp_path / "a", 500, 400, seed=1)
    assert 0.6 < meta["truth_auc"] < 0.95 and 0.1 < meta["click_rate"] < 0.45
    again = write_synthetic(tmp_path / "b", 500, 400, seed=1)
    assert (tmp_path / "a" / "train.txt").read_bytes() == (tmp_path / "b" / "train.txt").read_bytes()
    assert again["truth_auc"] == meta["truth_auc"]
    stamp = (tmp_path / "a" / "train.txt").stat().st_mtime_ns
    assert write_synthetic(tmp_path / "a", 500, 400, seed=1)["seconds"] == meta["seconds"]  # read from the cache
    assert (tmp_path / "a" / "train.txt").stat().st_mtime_ns == stamp
    assert len((tmp_path / "a" / "val_truth.txt").read_text().split()) == 400
    first = (tmp_path / "a" / "train.txt").read_text().splitlines()[0].split("\t")
    assert len(first) == FIELDS and first[0] in ("0", "1")


def test_dlrm_trains_and_reports_auc_calibration_and_the_ground_truth(tmp_path):
    metrics, events, run_dir = run_recipe(TEMPLATE, config(tmp_path), tmp_path / "run", train={"artifacts": True})
    evaluations = [m["values"] for m in metrics if "val/auc" in m["values"]]
    assert len(evaluations) == 2
    assert all(0.5 < e["val/auc"] <= 1 and 0.3 < e["val/calibration"] < 3 and e["val/loss"] > 0 for e in evaluations)
    truth = next(e for e in events if e["event"] == "ground_truth")
    assert 0.6 < truth["auc"] < 0.95
    train = [m["values"] for m in metrics if "train/loss" in m["values"]]
    assert train[-1]["train/loss"] < train[0]["train/loss"]
    start = next(e for e in events if e["event"] == "start")
    assert (start["train_examples"], start["val_examples"], start["steps_per_epoch"]) == (3000, 1000, 12)
    reliability = next(e for e in events if e["event"] == "reliability")
    assert len(reliability["bins"]) == 10 and (run_dir / "reliability.png").read_bytes()[:4] == b"\x89PNG"


def test_criteo_files_hold_out_the_last_examples_or_use_a_validation_file(tmp_path):
    write_synthetic(tmp_path / "gen", 800, 200, seed=0)
    cfg = resolve_config(f"name: t\ntask: recsys-dlrm\ndata: {{source: criteo, path: {tmp_path / 'gen' / 'train.txt'}, "
                         "val_rows: 300, hash_size: 200, batch_size: 128}\n"
                         "model: {embedding_dim: 4, bottom_mlp: [4], top_mlp: [8]}\ntrain: {epochs: 1}\n", tmp_path)
    _, events, _ = run_recipe(TEMPLATE, cfg, tmp_path / "tail")
    start = next(e for e in events if e["event"] == "start")
    assert (start["train_examples"], start["val_examples"]) == (500, 300)
    assert not any(e["event"] == "ground_truth" for e in events)  # only generated logs know it
    cfg["data"]["val_path"] = str(tmp_path / "gen" / "val.txt")
    _, events, _ = run_recipe(TEMPLATE, cfg, tmp_path / "file")
    start = next(e for e in events if e["event"] == "start")
    assert (start["train_examples"], start["val_examples"]) == (800, 200)
    cfg["data"].update(val_path=None, val_rows=800)
    with pytest.raises(DataError, match="800 examples, not more than data.val_rows"):
        run_recipe(TEMPLATE, cfg, tmp_path / "small")
