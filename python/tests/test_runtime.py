import importlib.metadata
import json
import math
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mlx_runtime import MetricsWriter, environment, load_config, seed_everything, select_device

RUNTIME_DIR = Path(__file__).resolve().parents[1]


def read_lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_writer_appends_protocol_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    with MetricsWriter(str(path)) as metrics:
        metrics.log({"train/loss": torch.tensor(0.5), "lr": np.float32(0.25), "count": 3, "ok": True}, step=10, epoch=1)
        metrics.event("checkpoint", path="checkpoints/epoch1.pt")
    first, second = read_lines(path)
    assert first["v"] == 1 and first["kind"] == "metrics" and first["step"] == 10 and first["epoch"] == 1
    assert first["values"] == {"train/loss": 0.5, "lr": 0.25, "count": 3, "ok": 1}
    assert isinstance(first["t"], float)
    assert second == {"v": 1, "t": second["t"], "kind": "event", "event": "checkpoint", "path": "checkpoints/epoch1.pt"}


def test_each_line_is_on_disk_before_the_call_returns(tmp_path):
    path = tmp_path / "metrics.jsonl"
    metrics = MetricsWriter(str(path))
    metrics.log({"x": 1.0}, step=1)
    # Another reader (mlx) sees the line without the writer closing the file.
    assert len(path.read_text().splitlines()) == 1
    metrics.close()


def test_non_finite_values_become_strings_that_stay_valid_json(tmp_path):
    path = tmp_path / "metrics.jsonl"
    with MetricsWriter(str(path)) as metrics:
        metrics.log({"a": float("nan"), "b": math.inf, "c": -math.inf}, step=1)
    assert read_lines(path)[0]["values"] == {"a": "NaN", "b": "Infinity", "c": "-Infinity"}


def test_path_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MLX_METRICS_FILE", str(tmp_path / "run" / "m.jsonl"))
    with MetricsWriter() as metrics:
        metrics.log({"x": 1}, step=0)
    assert (tmp_path / "run" / "m.jsonl").exists()


def tensorboard_scalars(folder) -> dict:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    return {tag: [(event.step, round(event.value, 6)) for event in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}


def test_tensorboard_gets_every_value_at_its_step(tmp_path):
    with MetricsWriter(str(tmp_path / "metrics.jsonl"), tensorboard_dir=tmp_path) as metrics:
        metrics.log({"train/loss": 0.5, "lr": torch.tensor(0.001)}, step=10)
        metrics.log({"train/loss": 0.25, "lr": 0.001}, step=20)
        metrics.log({"val/acc": 0.75, "val/loss": float("nan")}, step=20)
    scalars = tensorboard_scalars(tmp_path)
    assert scalars["train/loss"] == [(10, 0.5), (20, 0.25)]
    assert scalars["lr"] == [(10, 0.001), (20, 0.001)]
    assert scalars["val/acc"] == [(20, 0.75)]
    assert math.isnan(dict(scalars["val/loss"])[20])


def test_tensorboard_events_reach_the_file_every_few_seconds_and_at_exit(tmp_path, monkeypatch):
    from mlx_runtime.metrics import _TensorBoard

    metrics = MetricsWriter(str(tmp_path / "metrics.jsonl"), tensorboard_dir=tmp_path)
    metrics.log({"train/loss": 0.5}, step=1)
    assert "train/loss" not in tensorboard_scalars(tmp_path)  # batched: the loop pays no write per line
    monkeypatch.setattr(_TensorBoard, "FLUSH_SECONDS", 0.0)
    metrics.log({"train/loss": 0.25}, step=2)
    assert tensorboard_scalars(tmp_path)["train/loss"] == [(1, 0.5), (2, 0.25)]
    metrics.close()

    script = f"""
from mlx_runtime import MetricsWriter
metrics = MetricsWriter({str(tmp_path / "raised" / "m.jsonl")!r}, tensorboard_dir=__import__("pathlib").Path({str(tmp_path / "raised")!r}))
metrics.log({{"train/loss": 0.125}}, step=3)
raise RuntimeError("the script fails before closing its writer")
"""
    assert subprocess.run([sys.executable, "-c", script], cwd=RUNTIME_DIR, capture_output=True).returncode == 1
    assert tensorboard_scalars(tmp_path / "raised")["train/loss"] == [(3, 0.125)]


def loaded_modules(statements: str) -> set:
    script = statements + "\nimport sys\nprint(' '.join(sys.modules))"
    return set(subprocess.run([sys.executable, "-c", script], cwd=RUNTIME_DIR, capture_output=True, text=True,
                              check=True).stdout.split())


def test_tensorboard_modules_are_all_that_a_writer_with_tensorboard_loads(tmp_path):
    # bench/parity.py's reference loads the recipe's libraries through tensorboard_modules()
    before = loaded_modules("import mlx_runtime.metrics")
    writer = loaded_modules(f"from pathlib import Path\nfrom mlx_runtime import MetricsWriter\n"
                            f"MetricsWriter({str(tmp_path / 'm.jsonl')!r}, tensorboard_dir=Path({str(tmp_path)!r}))")
    listed = loaded_modules("from mlx_runtime.metrics import tensorboard_modules\ntensorboard_modules()")
    assert "tensorboard" in writer - before
    assert listed == writer


def test_tensorboard_drops_the_steps_a_resumed_run_logs_again(tmp_path):
    with MetricsWriter(str(tmp_path / "metrics.jsonl"), tensorboard_dir=tmp_path) as metrics:
        for step in (10, 20, 30):
            metrics.log({"train/loss": step / 100}, step=step)
    with MetricsWriter(str(tmp_path / "metrics.jsonl"), tensorboard_dir=tmp_path, purge_step=21) as metrics:
        metrics.log({"train/loss": 0.5}, step=30)
    assert tensorboard_scalars(tmp_path)["train/loss"] == [(10, 0.1), (20, 0.2), (30, 0.5)]


def test_a_writer_after_a_torn_line_marks_it_and_starts_on_a_fresh_line(tmp_path):
    # A kill mid-write left a fragment; a resumed run's first record must not be glued to it.
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"v":1,"t":1,"kind":"metrics","step":1,"values":{"val/acc":0.5}}\n{"v":1,"t":2,"kind":"metr')
    with MetricsWriter(str(path)) as writer:
        writer.event("resume", from_step=1)
    lines = path.read_text().split("\n")
    assert lines[1] == '#"v":1,"t":2,"kind":"metr' and json.loads(lines[2])["event"] == "resume" and lines[3] == ""
    # A fragment that is whole JSON but lacks its newline (a hand-made one) is no record either.
    path.write_bytes(b'{"v":1,"t":2,"kind":"metrics","step":9,"values":{"val/acc":5.0}}')
    with MetricsWriter(str(path)) as writer:
        writer.event("resume", from_step=1)
    assert path.read_text().splitlines()[0].startswith('#"v":1') and json.loads(path.read_text().splitlines()[1])["event"] == "resume"
    # A fragment longer than the writer's look-back, and one that is the whole file.
    path.write_bytes(b"x" * 10_000)
    with MetricsWriter(str(path)) as writer:
        writer.event("end")
    assert path.read_bytes().startswith(b"#" + b"x" * 9_999 + b"\n{")
    # A file that ends a line, or is empty, is left as it is.
    for start in (b"", b'{"v":1,"t":1,"kind":"event","event":"start"}\n'):
        path.write_bytes(start)
        with MetricsWriter(str(path)) as writer:
            writer.event("end")
        assert "" not in path.read_text().splitlines()


def test_a_write_the_disk_refuses_ends_the_run_with_a_message_not_a_traceback():
    # /dev/full answers every write with ENOSPC, as a full disk does.
    writer = MetricsWriter("/dev/full")
    with pytest.raises(SystemExit) as stopped:
        writer.log({"train/loss": 1.0}, step=1)
    assert str(stopped.value).startswith("mlx_runtime: cannot write /dev/full (No space left on device): the run stops here")


def test_warnings_are_events_and_lines_on_stderr(tmp_path, capsys):
    with MetricsWriter(str(tmp_path / "metrics.jsonl")) as writer:
        writer.warning("train.grad_accum_steps is 9, more than the 3 batches of an epoch", value=9)
    event = json.loads((tmp_path / "metrics.jsonl").read_text())
    assert event["event"] == "warning" and event["message"].startswith("train.grad_accum_steps is 9") and event["value"] == 9
    assert capsys.readouterr().err == "warning: train.grad_accum_steps is 9, more than the 3 batches of an epoch\n"
    MetricsWriter(enabled=False).warning("not said on other ranks")
    assert capsys.readouterr().err == ""


def test_a_disabled_writer_takes_the_same_calls_and_writes_nothing(tmp_path):
    path = tmp_path / "metrics.jsonl"
    with MetricsWriter(str(path), enabled=False) as metrics:
        metrics.log({"x": 1}, step=0)
        metrics.event("start")
    assert not path.exists()


def test_seeding_makes_torch_numpy_and_shuffling_repeat():
    def draw():
        generator = seed_everything(7)
        return torch.rand(3).tolist(), np.random.rand(2).tolist(), torch.randperm(10, generator=generator).tolist()

    assert draw() == draw()


def test_load_config_reads_json_from_argument_or_environment(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"optim": {"lr": 0.1}, "name": "__import__('os').system('x')"}))
    assert load_config(str(path))["optim"]["lr"] == 0.1
    monkeypatch.setenv("MLX_CONFIG_FILE", str(path))
    assert load_config()["name"] == "__import__('os').system('x')"
    monkeypatch.delenv("MLX_CONFIG_FILE")
    with pytest.raises(SystemExit, match="no config"):
        load_config()


def test_select_device():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error shown where no GPU is visible")
def test_asking_for_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(SystemExit, match="launch.device is 'cuda' but torch sees no CUDA GPU"):
        select_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none visible here)")
def test_cuda_devices_are_selected_and_checked():
    assert select_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(SystemExit, match="GPU"):
        select_device(f"cuda:{torch.cuda.device_count()}")


def test_environment_record():
    info = environment()
    assert info["python"] == ".".join(map(str, sys.version_info[:3]))
    assert info["torch"] == torch.__version__
    assert info["cuda_available"] == torch.cuda.is_available()
    assert len(info["gpus"]) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)


def test_module_entry_point_prints_the_record_as_json():
    result = subprocess.run([sys.executable, "-m", "mlx_runtime"], capture_output=True, text=True, check=True,
                            cwd=RUNTIME_DIR)
    assert json.loads(result.stdout)["torch"] == torch.__version__
    assert result.stderr == ""


def probe(*args: str):
    result = subprocess.run([sys.executable, "-m", "mlx_runtime", "--probe", *args], capture_output=True, text=True,
                            check=True, cwd=RUNTIME_DIR)
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_probes_answer_what_mlx_asks_and_the_quick_one_leaves_torch_unimported():
    found = probe("quick")
    assert found["python"] == platform.python_version()
    assert found["torch"] == importlib.metadata.version("torch")
    assert Path(found["executable"]).resolve() == Path(sys.executable).resolve()
    script = "import runpy, sys; sys.argv = ['x', '--probe', 'quick']; runpy.run_module('mlx_runtime', run_name='__main__')\n" \
             "print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=RUNTIME_DIR)
    assert result.stdout.splitlines()[-1] == "False"
    assert probe("gpus") == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    assert "packages" in probe("environment", "--packages")
    refused = subprocess.run([sys.executable, "-m", "mlx_runtime", "--probe", "everything"], capture_output=True,
                             text=True, cwd=RUNTIME_DIR)
    assert refused.returncode == 2 and "invalid choice" in refused.stderr


def test_out_of_memory_gets_a_hint_naming_the_batch_size():
    script = ("import torch\nfrom mlx_runtime import explain_out_of_memory\nexplain_out_of_memory(512, 2)\n"
              "raise torch.OutOfMemoryError('CUDA out of memory. Tried to allocate 2.00 GiB')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=RUNTIME_DIR)
    assert result.returncode == 1
    assert "torch.OutOfMemoryError: CUDA out of memory" in result.stderr
    assert result.stderr.rstrip().endswith(
        "hint: CUDA ran out of memory with data.batch_size=512 (train.grad_accum_steps=2). Lower data.batch_size "
        "and raise train.grad_accum_steps to keep the effective batch, or set train.amp: bf16.")


def test_other_errors_get_no_hint():
    script = "from mlx_runtime import explain_out_of_memory\nexplain_out_of_memory(512, 2)\nraise ValueError('x')\n"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=RUNTIME_DIR)
    assert "ValueError: x" in result.stderr and "hint:" not in result.stderr


def test_the_data_error_hook_is_installed_once(monkeypatch):
    import sys

    from mlx_runtime.data import install_data_error_hook

    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    install_data_error_hook()
    installed = sys.excepthook
    install_data_error_hook()
    assert sys.excepthook is installed and installed is not sys.__excepthook__


def test_tensorboard_shows_the_run_its_params_and_its_figures(tmp_path):
    from PIL import Image
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import api_pb2, metadata

    Image.new("RGB", (7, 5), "red").save(tmp_path / "curve.png")
    (tmp_path / "table.csv").write_text("a,b\n")
    (tmp_path / "fake.png").write_bytes(b"not a png")
    config = {"name": "lr-0.01", "task": "script", "tags": ["x"], "optim": {"lr": 0.01, "betas": [0.9, 0.99]},
              "model": {"arch": "cnn", "dropout": None, "pretrained": False}}
    with MetricsWriter(str(tmp_path / "metrics.jsonl"), tensorboard_dir=tmp_path) as metrics:
        metrics.describe_run(config, "3fa9c2ab01")
        metrics.log({"val/acc": 0.5}, step=3)
        metrics.event("analysis", step=3, artifacts=["curve.png", "table.csv", "fake.png", "missing.png"])
        metrics.event("interrupted", signal="SIGINT", step=3)
    accumulator = EventAccumulator(str(tmp_path))
    accumulator.Reload()
    assert accumulator.Tags()["images"] == ["figures/curve"]
    image = accumulator.Images("figures/curve")[0]
    assert (image.step, image.width, image.height) == (3, 7, 5)
    assert accumulator.Tensors("run")[0].tensor_proto.string_val[0].decode() == "lr-0.01 (3fa9c2ab01)"
    start = metadata.parse_session_start_info_plugin_data(
        accumulator.SummaryMetadata("_hparams_/session_start_info").plugin_data.content)
    assert start.group_name == "lr-0.01-3fa9c2ab01"
    hparams = {key: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
               for key, value in start.hparams.items()}
    assert hparams == {"optim.lr": 0.01, "optim.betas": "[0.9, 0.99]", "model.arch": "cnn", "model.dropout": "null",
                       "model.pretrained": False}
    end = metadata.parse_session_end_info_plugin_data(
        accumulator.SummaryMetadata("_hparams_/session_end_info").plugin_data.content)
    assert end.status == api_pb2.STATUS_UNKNOWN  # HParams has no "interrupted"
