"""The image-classification template, run in-process on small configs: each schedule, mixed
precision, accumulation, clipping, step limits, early stopping, checkpoint retention.

The config is resolved by mlx itself (``mlx validate --json``), so these tests see exactly
what a run would see. They need the TypeScript build (``make setup``)."""

import pytest
import torch
from recipe_helpers import REPO, resolve_config
from recipe_helpers import run_recipe as run_template

from mlx_runtime import DataError

TEMPLATE = REPO / "templates" / "image-classification" / "train.py"


@pytest.fixture(scope="module")
def base_config(tmp_path_factory):
    return resolve_config("name: recipe-test\ntask: image-classification\ndata: {batch_size: 128}\n"
                          "train: {epochs: 3, log_every: 1}\n", tmp_path_factory.mktemp("config"))


def run_recipe(base, tmp_path, **sections):
    return run_template(TEMPLATE, base, tmp_path / "run", **sections)


def series(metrics, key):
    return [(m["step"], m["epoch"], m["values"][key]) for m in metrics if key in m["values"]]


def lrs_by_epoch(metrics):
    by_epoch = {}
    for _, epoch, lr in series(metrics, "lr"):
        by_epoch.setdefault(epoch, []).append(lr)
    return by_epoch


def test_no_schedule_keeps_the_learning_rate(base_config, tmp_path):
    metrics, events, _ = run_recipe(base_config, tmp_path)
    assert {lr for _, _, lr in series(metrics, "lr")} == {0.001}
    assert [e["event"] for e in events][0] == "start" and events[-1]["event"] == "end"
    assert events[0]["total_steps"] == 3 * 12


def test_step_schedule_decays_per_epoch(base_config, tmp_path):
    metrics, _, _ = run_recipe(base_config, tmp_path, scheduler={"name": "step", "step_size": 1, "gamma": 0.5})
    assert {epoch: set(lrs) for epoch, lrs in lrs_by_epoch(metrics).items()} == {1: {0.001}, 2: {0.0005}, 3: {0.00025}}


def test_multistep_schedule_decays_at_milestones(base_config, tmp_path):
    metrics, _, _ = run_recipe(base_config, tmp_path, scheduler={"name": "multistep", "milestones": [2], "gamma": 0.1})
    by_epoch = lrs_by_epoch(metrics)
    assert set(by_epoch[1]) == set(by_epoch[2]) == {0.001}
    assert by_epoch[3] == pytest.approx([0.0001] * len(by_epoch[3]))


def test_cosine_schedule_anneals_per_step_to_min_lr(base_config, tmp_path):
    metrics, _, _ = run_recipe(base_config, tmp_path, scheduler={"name": "cosine", "min_lr": 0.0001})
    lrs = [lr for _, _, lr in series(metrics, "lr")]
    assert lrs[0] == 0.001 and all(a > b for a, b in zip(lrs, lrs[1:]))
    # The last step runs just above min_lr; the schedule reaches it as the run ends.
    assert 0.0001 < lrs[-1] < 0.00011


def test_warmup_cosine_rises_then_falls(base_config, tmp_path):
    metrics, _, _ = run_recipe(base_config, tmp_path, scheduler={"name": "warmup_cosine", "warmup_epochs": 1, "min_lr": 0})
    lrs = [lr for _, _, lr in series(metrics, "lr")]
    peak = lrs.index(max(lrs))
    assert peak == 11 and max(lrs) == pytest.approx(0.001)
    assert all(a < b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:]))


def test_onecycle_peaks_at_max_lr(base_config, tmp_path):
    metrics, _, _ = run_recipe(base_config, tmp_path, scheduler={"name": "onecycle", "max_lr": 0.01, "pct_start": 0.3,
                                                                  "div_factor": 25, "final_div_factor": 10000})
    lrs = [lr for _, _, lr in series(metrics, "lr")]
    assert max(lrs) == pytest.approx(0.01, rel=0.05)
    assert lrs[0] < lrs[5] and lrs[-1] < lrs[0]


def test_plateau_schedule_reduces_when_the_monitor_stalls(base_config, tmp_path):
    # min_delta cannot be set on the schedule; a huge factor of stalls is forced by patience 0
    # and a metric that (almost surely) does not keep improving every epoch for 6 epochs.
    metrics, _, _ = run_recipe(base_config, tmp_path, train={"epochs": 6},
                               scheduler={"name": "plateau", "monitor": "val/loss", "mode": "max", "factor": 0.5,
                                          "patience": 0, "min_lr": 0})
    by_epoch = lrs_by_epoch(metrics)
    # mode max on a falling loss: every evaluation after the first is a stall, so each halves the rate.
    assert [by_epoch[e][0] for e in range(1, 7)] == pytest.approx([0.001, 0.001, 0.0005, 0.00025, 0.000125, 0.0000625])


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_mixed_precision_trains_on_this_device(base_config, tmp_path, amp):
    metrics, _, _ = run_recipe(base_config, tmp_path, train={"amp": amp, "epochs": 2})
    losses = [loss for _, _, loss in series(metrics, "train/loss")]
    assert all(loss == loss for loss in losses)  # no NaN
    assert losses[-1] < losses[0]


def test_tensorboard_events_and_analysis_artifacts(base_config, tmp_path):
    _, events, run_dir = run_recipe(base_config, tmp_path, train={"epochs": 1, "tensorboard": True, "artifacts": True})
    assert list(run_dir.glob("events.out.tfevents.*"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir))
    accumulator.Reload()
    assert {"train/loss", "val/acc", "val/f1"} <= set(accumulator.Tags()["scalars"])
    matrix = [e for e in events if e["event"] == "confusion_matrix"][0]
    assert matrix["labels"] == [str(i) for i in range(10)]
    assert sum(map(sum, matrix["matrix"])) == 360  # every validation image counted once
    assert (run_dir / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert "confusion_matrix.png" in matrix["artifacts"]
    # TensorBoard's own reader finds the run's name and config (text), its params (HParams) and its figures.
    assert {"figures/confusion_matrix", "figures/misclassified"} <= set(accumulator.Tags()["images"])
    assert accumulator.Images("figures/confusion_matrix")[0].encoded_image_string[:4] == b"\x89PNG"
    texts = {tag: accumulator.Tensors(tag)[0].tensor_proto.string_val[0].decode() for tag in ("run", "config")}
    assert texts["run"] == base_config["name"]
    assert '"lr": ' in texts["config"]
    from tensorboard.plugins.hparams import api_pb2, metadata

    start = metadata.parse_session_start_info_plugin_data(
        accumulator.SummaryMetadata("_hparams_/session_start_info").plugin_data.content)
    assert start.group_name == base_config["name"]
    assert start.hparams["optim.lr"].number_value == base_config["optim"]["lr"]
    assert start.hparams["model.arch"].string_value == base_config["model"]["arch"]
    end = metadata.parse_session_end_info_plugin_data(
        accumulator.SummaryMetadata("_hparams_/session_end_info").plugin_data.content)
    assert end.status == api_pb2.STATUS_SUCCESS


def test_loader_workers_and_channels_last(base_config, tmp_path):
    metrics, events, _ = run_recipe(base_config, tmp_path, data={"num_workers": 2, "persistent_workers": True},
                                    train={"epochs": 2, "channels_last": True})
    assert events[-1]["event"] == "end"
    assert [epoch for _, epoch, _ in series(metrics, "val/acc")] == [1, 2]
    assert all(data_time >= 0 for _, _, data_time in series(metrics, "perf/data_time"))


# -- sources, transforms, models and transfer learning ----------------------------------------


def write_image_folder(root, classes=("circle", "square"), per_class=12, size=24):
    """PNG files in one subfolder per class: bright discs or bright squares on black, easy to tell apart."""
    from PIL import Image, ImageDraw

    for label in classes:
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = Image.new("RGB", (size + i % 5, size), "black")
            draw = ImageDraw.Draw(image)
            box = (4 + i % 3, 4, size - 4, size - 4 - i % 2)
            (draw.ellipse if label == "circle" else draw.rectangle)(box, fill=(255, 200 + i, 100))
            image.save(root / label / f"{label}{i}.png")
    return root


def resolved(tmp_path, yaml_text, *overrides):
    return resolve_config("name: t\ntask: image-classification\n" + yaml_text, tmp_path, *overrides)


def test_an_image_folder_of_png_files_trains_end_to_end(tmp_path):
    folder = write_image_folder(tmp_path / "shapes")
    cfg = resolved(tmp_path, f"data: {{source: imagefolder, path: {folder}, image_size: 16, batch_size: 8, val_fraction: 0.25, "
                   "transforms: {horizontal_flip: true, rotation: 10}}\noptim: {lr: 0.01}\ntrain: {epochs: 4}\n")
    metrics, events, run_dir = run_recipe(cfg, tmp_path, train={"epochs": 4, "artifacts": True})
    assert [e for e in events if e["event"] == "confusion_matrix"][0]["labels"] == ["circle", "square"]
    assert len(series(metrics, "val/acc")) == 4 and series(metrics, "val/acc")[-1][2] >= 0.5
    assert (run_dir / "misclassified.png").exists() or series(metrics, "val/acc")[-1][2] == 1.0


def test_an_image_that_cannot_be_decoded_is_named(tmp_path):
    folder = write_image_folder(tmp_path / "shapes", per_class=4)
    (folder / "square" / "broken.png").write_bytes(b"not a png at all")
    cfg = resolved(tmp_path, f"data: {{source: imagefolder, path: {folder}, image_size: 16, batch_size: 4}}\n")
    with pytest.raises(DataError) as caught:
        run_recipe(cfg, tmp_path)
    assert caught.value.path == str(folder / "square" / "broken.png") and "cannot decode the image" in caught.value.message


def test_a_validation_folder_with_a_class_training_lacks(tmp_path):
    train = write_image_folder(tmp_path / "train", per_class=3)
    val = write_image_folder(tmp_path / "val", classes=("circle", "triangle"), per_class=2)
    cfg = resolved(tmp_path, f"data: {{source: imagefolder, path: {train}, val_path: {val}, image_size: 16}}\n")
    with pytest.raises(DataError) as caught:
        run_recipe(cfg, tmp_path)
    assert caught.value.path == str(val / "triangle") and caught.value.hint == "the training classes are circle, square"


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_synthetic_images_with_every_augmentation(tmp_path, arch):
    cfg = resolved(tmp_path, "data: {source: synthetic, samples: 64, classes: 4, image_size: 16, batch_size: 16, "
                   "transforms: {random_crop_padding: 2, horizontal_flip: true, rotation: 15, augment: randaugment, "
                   f"resize: 20}}}}\nmodel: {{arch: {arch}, hidden: [32]}}\ntrain: {{epochs: 2}}\n")
    metrics, events, _ = run_recipe(cfg, tmp_path)
    assert events[-1]["event"] == "end" and len(series(metrics, "val/acc")) == 2


@pytest.mark.parametrize("unfreeze_at", [None, 2])
def test_a_frozen_backbone_trains_only_the_head_until_unfrozen(tmp_path, unfreeze_at):
    cfg = resolved(tmp_path, "data: {source: synthetic, samples: 32, classes: 3, image_size: 32, batch_size: 16}\n"
                   f"model: {{arch: resnet18, freeze: backbone, unfreeze_at_epoch: {unfreeze_at or 'null'}}}\n"
                   "train: {epochs: 2, checkpoint: {every_epochs: 1, keep_last: 2}}\n")
    _, events, run_dir = run_recipe(cfg, tmp_path)
    switches = [(e["trainable"], e["epoch"]) for e in events if e["event"] == "backbone"]
    assert switches == ([(False, 1), (True, 2)] if unfreeze_at else [(False, 1)])
    first, second = (torch.load(run_dir / "checkpoints" / f"epoch{n}.pt", weights_only=False)["model"] for n in (1, 2))
    assert not torch.equal(first["fc.1.weight"], second["fc.1.weight"])  # the head trains in epoch 2 either way
    assert torch.equal(first["conv1.weight"], second["conv1.weight"]) == (unfreeze_at is None)


def no_network(monkeypatch):
    """A proxy on a closed port: every download fails at once, as on a machine without network."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")


def test_pretrained_weights_missing_offline_name_the_file_and_where_to_put_it(tmp_path, monkeypatch):
    no_network(monkeypatch)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cfg = resolved(tmp_path, "data: {source: synthetic, samples: 16, image_size: 32}\nmodel: {arch: resnet18, pretrained: true}\n")
    with pytest.raises(DataError) as caught:
        run_recipe(cfg, tmp_path)
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert caught.value.path == str(cached)
    assert caught.value.hint == f"on a machine with network access, download https://download.pytorch.org/models/resnet18-f37072fd.pth and copy it to {cached}"


@pytest.mark.parametrize("source, files", [("mnist", "MNIST/raw/train-images-idx3-ubyte.gz"), ("cifar10", "cifar-10-python.tar.gz")])
def test_a_torchvision_set_missing_offline_says_where_to_put_it(tmp_path, monkeypatch, source, files):
    no_network(monkeypatch)
    cfg = resolved(tmp_path, f"data: {{source: {source}, root: {tmp_path / 'data'}}}\n")
    with pytest.raises(DataError) as caught:
        run_recipe(cfg, tmp_path)
    assert caught.value.path == str(tmp_path / "data") and "could not be downloaded" in caught.value.message
    assert files in caught.value.hint and caught.value.hint.endswith(f"into {tmp_path / 'data'}/ from a machine that has it")
