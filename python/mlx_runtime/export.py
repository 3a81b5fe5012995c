"""``mlx export``: a run's model in other forms, each checked against eager PyTorch, and what each costs to run.

A recipe says how to make its model's inputs from its own validation data (``validation_inputs``, handed
to ``TrainingLoop`` as ``example_inputs``); ``mlx export`` runs the recipe's script with ``--export``: the
script builds its data and model as for a resume, ``TrainingLoop.start`` loads the checkpoint's weights
and hands the model here instead of training. Then, for each format asked for:

- ``onnx``: ``torch.onnx.export`` (the dynamo exporter), run in ONNX Runtime;
- ``torchscript``: ``torch.jit.trace``, saved and loaded back;
- ``export``: ``torch.export``, saved as ``.pt2`` and loaded back;

the exported form's outputs are compared with eager PyTorch's on the example batch and on a batch of other
validation rows and another size (one the exporter never saw): the largest absolute and relative
difference, the output that differs most, and a verdict against the tolerance. A format that cannot be
exported is reported with the exporter's own words (the operator or construct) and the others go on.
Latency (p50 and p95 at batch 1 and at the batch size) and throughput come from ``torch.utils.benchmark``
(warm-up first, then single calls until enough have been timed, the thread count stated).

Everything lands in ``export/`` of the run (``report.json`` and the files), and in the run's metrics as
``cost/latency_ms_b1/<format>`` and friends and an ``export`` event (mlx show, compare).
"""

import importlib
import json
import math
import os
import re
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, Optional

import torch

FORMATS = ("onnx", "torchscript", "export")
FILES = {"onnx": "model.onnx", "torchscript": "model.torchscript.pt", "export": "model.pt2"}
# Timing: at least this long and this many single calls per form and batch size, after the warm-up.
MIN_SECONDS, MIN_CALLS, MAX_CALLS, WARMUP_CALLS = 0.5, 30, 2000, 5

ExampleInputs = Callable[[int, int], tuple]


class ExportUsageError(Exception):
    """What the person asked for cannot be done here (ONNX Runtime missing...): mlx exits 2 with the hint."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


@dataclass
class ExportRequest:
    """What ``mlx export`` asked for (``--export``'s JSON)."""

    out_dir: str
    formats: list = field(default_factory=lambda: list(FORMATS))
    batch_size: int = 32
    dynamic_batch: bool = True
    tolerance: float = 1e-4
    bench: bool = True
    checkpoint: str = ""
    device: str = "cpu"
    step: int = 0  # where the run's metrics stand (a script's run: mlx says; a recipe's: its checkpoint)

    @classmethod
    def from_json(cls, text: str) -> "ExportRequest":
        request = cls(**json.loads(text))
        unknown = [name for name in request.formats if name not in FORMATS]
        if unknown:
            raise ExportUsageError(f"unknown export format {', '.join(unknown)}", f"formats: {', '.join(FORMATS)}")
        if "onnx" in request.formats:
            missing = [name for name in ("onnx", "onnxruntime", "onnxscript") if not importable(name)]
            if missing:
                raise ExportUsageError(f"ONNX export needs {', '.join(missing)}, which this Python does not have",
                                       "make setup installs them (python/requirements.txt), or leave onnx out of "
                                       "--format")
        return request


def register_model(model: torch.nn.Module, example_inputs: ExampleInputs, checkpoint: Optional[str] = None):
    """Your own script's model, for ``mlx export``: call it once the model is built, before training.

    In a run it does nothing and returns the model. Under ``mlx export RUN`` (which starts the script again with
    its arguments and ``$MLX_EXPORT`` set), it loads ``checkpoint`` (a state dict your script saved, or a
    checkpoint holding one under ``"model"``), exports the model, checks and times it as for a recipe's, and
    ends the script there: the training after the call never runs. ``example_inputs(count, first)`` gives the
    model's positional inputs for ``count`` validation examples from the ``first`` (``validation_inputs``
    makes one from a dataset)."""
    text = os.environ.get("MLX_EXPORT")
    if not text:
        return model
    request = request_from_json(text)
    state = None
    if checkpoint is not None and Path(checkpoint).is_file():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        state = state["model"] if isinstance(state, dict) and "model" in state else state
    elif checkpoint is not None:
        main_usage_error(ExportUsageError(f"no checkpoint at {checkpoint} (register_model's checkpoint)",
                                          "the run saves it there as it trains: train it, or point checkpoint at "
                                          "the file your script saves"), request.out_dir)
    export_and_exit(model, example_inputs, request, torch.device(request.device), state, request.step)


def export_and_exit(model: torch.nn.Module, example_inputs: Optional[ExampleInputs], request: ExportRequest,
                    device: torch.device, state: Optional[dict], step: int) -> NoReturn:
    """The model with ``state`` loaded (none: as it is), exported, checked and timed; the script ends with the
    verdict's exit status (2: what was asked cannot be done here)."""
    try:
        if state is not None:
            model.load_state_dict(state)
        metrics_file = os.environ.get("MLX_METRICS_FILE")
        status = run_export(model.to(device), example_inputs, request, device, step,
                            Path(metrics_file) if metrics_file else None)
    except ExportUsageError as error:
        main_usage_error(error, request.out_dir)
    raise SystemExit(status)


def importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def validation_inputs(dataset, collate: Optional[Callable] = None,
                      inputs: Callable[[Any], Sequence] = lambda batch: batch[:-1]) -> ExampleInputs:
    """The model's inputs for ``count`` validation examples from the ``first`` (wrapping round): the items of
    ``dataset`` collated as the recipe's loader does (``collate``, default torch's), then ``inputs`` picks the
    model's arguments out of the batch (default: all but the last, the target)."""
    if collate is None:
        from torch.utils.data import default_collate as collate

    def make(count: int, first: int) -> tuple:
        size = len(dataset)
        return tuple(inputs(collate([dataset[(first + i) % size] for i in range(count)])))

    return make


# -- what an exported form answers, and how it differs from eager ------------------------------------------


def flat_tensors(value) -> list:
    """A model's inputs or outputs as a list of tensors (a tensor, or tuples and lists of them)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [tensor for item in value for tensor in flat_tensors(item)]
    raise TypeError(f"a model output of type {type(value).__name__}: mlx export compares tensors")


def differences(expected: list, actual: list, names: list, tolerance: float) -> dict:
    """The largest absolute and relative difference over every output, which output holds it, and whether
    every element is within ``tolerance`` (absolute, plus relative to the eager value, as numpy's allclose)."""
    if len(expected) != len(actual):
        return {"ok": False, "max_abs": math.inf, "max_rel": math.inf, "worst_output": None,
                "problem": f"{len(actual)} outputs where eager PyTorch gives {len(expected)}"}
    worst = {"ok": True, "max_abs": 0.0, "max_rel": 0.0, "worst_output": names[0] if names else None}
    for name, want, got in zip(names, expected, actual):
        want, got = want.detach().double().cpu(), torch.as_tensor(got).detach().double().cpu()
        if want.shape != got.shape:
            return {**worst, "ok": False, "max_abs": math.inf, "max_rel": math.inf, "worst_output": name,
                    "problem": f"{name} has shape {tuple(got.shape)}, eager PyTorch's {tuple(want.shape)}"}
        if want.numel() == 0:
            continue
        gap = (want - got).abs()
        gap = torch.where(torch.isnan(want) & torch.isnan(got), torch.zeros_like(gap), gap)
        max_abs = float(gap.max())
        max_rel = float((gap / want.abs().clamp_min(tolerance)).max())
        if not bool((gap <= tolerance + tolerance * want.abs()).all()):
            worst["ok"] = False
        if max_abs > worst["max_abs"] or math.isnan(max_abs):
            worst.update(max_abs=max_abs, worst_output=name)
        worst["max_rel"] = max(worst["max_rel"], max_rel)
    return worst


# -- the shapes that vary -----------------------------------------------------------------------------------


def varying_dims(first, second):
    """Per input tensor (inputs may nest in tuples, as an LSTM's state does), the set of dimensions whose sizes
    differ between two batches, in the inputs' own structure."""
    if isinstance(first, torch.Tensor):
        return {dim for dim in range(first.dim()) if first.size(dim) != second.size(dim)}
    if isinstance(first, (tuple, list)):
        return tuple(varying_dims(a, b) for a, b in zip(first, second))
    return None


def merged_dims(first, second):
    """Both structures' dims together."""
    if isinstance(first, set):
        return first | second
    if isinstance(first, tuple):
        return tuple(merged_dims(a, b) for a, b in zip(first, second))
    return None


def dynamic_shapes(dims):
    """torch.export's ``dynamic_shapes``: the dims that vary with the data must stay dynamic (an exporter that
    would fix one to the example's size fails, naming the dim, rather than make a graph real inputs break)."""
    from torch.export import Dim

    if isinstance(dims, set):
        return {dim: Dim.DYNAMIC for dim in sorted(dims)}
    if isinstance(dims, tuple):
        return tuple(dynamic_shapes(item) for item in dims)
    return None


def flat_dims(dims) -> list:
    """The dims structure in the order of ``flat_tensors`` over the inputs."""
    if isinstance(dims, set):
        return [dims]
    if isinstance(dims, tuple):
        return [found for item in dims for found in flat_dims(item)]
    return []


def on_device(batch, device: torch.device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, (tuple, list)):
        return type(batch)(on_device(item, device) for item in batch)
    return batch


# -- the formats ----------------------------------------------------------------------------------------------


def export_onnx(model, example: tuple, varying: tuple, path: Path, input_names: list, output_names: list):
    import onnxruntime

    details = {"exporter": "dynamo"}
    try:
        # One file, unless the weights pass protobuf's 2 GB: then beside it, in model.onnx.data.
        large = sum(t.numel() * t.element_size() for t in model.state_dict().values()) > 1.5 * 2**30
        torch.onnx.export(model, example, str(path), dynamo=True, dynamic_shapes=dynamic_shapes(varying),
                          input_names=input_names,
                          output_names=output_names, verbose=False, report=False, external_data=large)
    except Exception as error:  # the other exporter is tried, and this one's reason kept
        # The TorchScript-based exporter maps whole operators (nn.LSTM to ONNX's LSTM) where torch.export
        # unrolls them and cannot keep their sizes dynamic (a time axis).
        axes = {name: {dim: f"{name}_{dim}" for dim in sorted(dims)}
                for name, dims in zip(input_names, flat_dims(varying)) if dims}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, example, str(path), dynamo=False, input_names=input_names,
                              output_names=output_names, dynamic_axes=axes)
        details = {"exporter": "torchscript-based", "dynamo_failed": failure_summary(error)}
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = onnxruntime.InferenceSession(str(path), options, providers=onnxruntime_providers(onnxruntime))
    graph_inputs = [item.name for item in session.get_inputs()]

    def run(*inputs):
        feed = {name: tensor.detach().cpu().numpy() for name, tensor in zip(graph_inputs, flat_tensors(inputs))}
        return [torch.from_numpy(array) for array in session.run(None, feed)]

    return run, {**details, "providers": session.get_providers()}


def onnxruntime_providers(onnxruntime) -> list:
    available = onnxruntime.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available] or available


def export_torchscript(model, example: tuple, varying: tuple, path: Path, input_names: list, output_names: list):
    with warnings.catch_warnings():
        # PyTorch deprecates TorchScript in favour of torch.export (docs/export.md says so); it still serves.
        warnings.simplefilter("ignore", FutureWarning)
        traced = torch.jit.trace(model, example, check_trace=False)
        traced.save(str(path))
        loaded = torch.jit.load(str(path), map_location=next_device(example))
    return (lambda *inputs: loaded(*inputs)), {}


def export_program(model, example: tuple, varying: tuple, path: Path, input_names: list, output_names: list):
    program = torch.export.export(model, example, dynamic_shapes=dynamic_shapes(varying))
    torch.export.save(program, str(path))
    loaded = torch.export.load(str(path)).module()
    return (lambda *inputs: loaded(*inputs)), {}


def next_device(example: tuple) -> torch.device:
    return next((t.device for t in flat_tensors(example)), torch.device("cpu"))


EXPORTERS = {"onnx": export_onnx, "torchscript": export_torchscript, "export": export_program}


def failure_summary(error: BaseException) -> str:
    """The exporter's own words (they name the operator, or the dim it could not keep dynamic) and the line of
    the model's code it was at."""
    chain, cause = [], error
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    root = chain[-1]
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(root)).strip() or type(root).__name__
    lines = [line for line in text.splitlines() if line.strip()]
    words = f"{type(root).__name__}: " + " ".join(line.strip() for line in lines[:3])
    frames = [frame for failure in chain for frame in traceback.extract_tb(failure.__traceback__)
              if not any(part in frame.filename for part in ("site-packages", "/torch/", "mlx_runtime", "<"))]
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno}: {frames[-1].line})" if frames else ""
    return words[:600] + where


# -- latency --------------------------------------------------------------------------------------------------


def latency(call: Callable[[], Any], threads: int) -> dict:
    """p50 and p95 of single calls in milliseconds (torch.utils.benchmark's timer: it synchronises CUDA)."""
    from torch.utils import benchmark

    timer = benchmark.Timer(stmt="call()", globals={"call": call}, num_threads=threads)
    timer.timeit(WARMUP_CALLS)
    samples, started = [], time.perf_counter()
    while len(samples) < MAX_CALLS and (len(samples) < MIN_CALLS or time.perf_counter() - started < MIN_SECONDS):
        samples.append(timer.timeit(1).median)
    samples.sort()

    def percentile(share: float) -> float:
        return samples[min(len(samples) - 1, int(round(share * (len(samples) - 1))))] * 1000

    return {"p50_ms": percentile(0.5), "p95_ms": percentile(0.95), "calls": len(samples)}


# -- the whole export -------------------------------------------------------------------------------------------


def run_export(model: torch.nn.Module, example_inputs: Optional[ExampleInputs], request: ExportRequest,
               device: torch.device, step: int, metrics_path: Optional[Path] = None) -> int:
    """Exports ``model`` (eval mode, the checkpoint's weights) in each format, checks and times each, writes
    ``report.json`` (and the metrics), prints a summary; returns the exit status (1: a format failed or
    its answers differ)."""
    out_dir = Path(request.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if example_inputs is None:
        raise ExportUsageError("this run's script does not say how to make its model's inputs (a run made before "
                               "mlx export existed, or a recipe of your own without example_inputs)",
                               "mlx run --from RUN trains it again with today's script; a recipe of your own passes "
                               "example_inputs=validation_inputs(...) to TrainingLoop (docs/export.md)")
    model.eval()
    size = max(1, request.batch_size)
    example = on_device(tuple(example_inputs(size, 0)), device)
    # Other rows (after the example's): of the same size, to see which dims vary with the data (a text's
    # length), and of another size, to see which vary with the batch; the latter is the unseen batch.
    other_size = size + 1 if size < 3 else size // 2 + 1
    same_size = on_device(tuple(example_inputs(size, size)), device)
    unseen = on_device(tuple(example_inputs(other_size, 2 * size)), device)
    dims = varying_dims(example, same_size)
    batch_dims = varying_dims(example, unseen)
    if request.dynamic_batch:
        dims = merged_dims(dims, batch_dims)
    single = on_device(tuple(example_inputs(1, 0)), device)
    input_names = [f"input_{i}" for i in range(len(flat_tensors(example)))]
    with torch.no_grad():
        eager_example, eager_unseen = flat_tensors(model(*example)), flat_tensors(model(*unseen))
    output_names = [f"output_{i}" for i in range(len(eager_example))]
    threads = torch.get_num_threads()

    report: dict[str, Any] = {
        "checkpoint": request.checkpoint, "step": step, "device": str(device), "threads": threads,
        "tolerance": request.tolerance, "batch_size": size, "unseen_batch_size": other_size,
        "dynamic_batch": request.dynamic_batch,
        "inputs": [{"name": name, "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch."),
                    "dynamic_dims": sorted(d)} for name, t, d in zip(input_names, flat_tensors(example),
                                                                     flat_dims(dims))],
        "outputs": output_names, "formats": {},
    }
    forms: dict[str, Callable] = {"eager": model}
    for name in request.formats:
        path = out_dir / FILES[name]
        started = time.perf_counter()
        entry: dict[str, Any] = {"file": path.name}
        try:
            with torch.no_grad():
                call, details = EXPORTERS[name](model, example, dims, path, input_names, output_names)
            entry.update(details)
        except Exception as error:  # every exporter's failure is reported, and the others go on
            path.unlink(missing_ok=True)
            entry.update(ok=False, error=failure_summary(error), export_seconds=time.perf_counter() - started)
            (out_dir / f"{name}.error.txt").write_text("".join(traceback.format_exception(error)))
            report["formats"][name] = entry
            continue
        entry["export_seconds"] = time.perf_counter() - started
        entry["bytes"] = path.stat().st_size if path.exists() else None
        checks = {}
        for label, batch, eager in (("example", example, eager_example), ("unseen", unseen, eager_unseen)):
            try:
                with torch.no_grad():
                    checks[label] = differences(eager, flat_tensors(call(*batch)), output_names, request.tolerance)
            except Exception as error:  # an exported form that cannot run on a batch is a failure
                checks[label] = {"ok": False, "max_abs": math.inf, "max_rel": math.inf, "worst_output": None,
                                 "problem": failure_summary(error)}
        entry["parity"] = checks
        entry["ok"] = all(check["ok"] for check in checks.values())
        entry["max_abs"] = max(check["max_abs"] for check in checks.values())
        entry["max_rel"] = max(check["max_rel"] for check in checks.values())
        entry["worst_output"] = max(checks.values(), key=lambda check: check["max_abs"])["worst_output"]
        report["formats"][name] = entry
        forms[name] = call

    if request.bench:
        report["latency"] = bench_forms(forms, single, example, size, batch_dims, request, threads)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    record_metrics(report, step, metrics_path)
    print_summary(report)
    return 0 if all(entry["ok"] for entry in report["formats"].values()) else 1


def bench_forms(forms: dict, single: tuple, example: tuple, size: int, batch_dims: tuple, request: ExportRequest,
                threads: int) -> dict:
    """Each form that exported (and eager) timed at batch 1 (where its graph takes one row) and at the batch size."""
    results: dict[str, dict] = {}
    fixed_batch = not request.dynamic_batch and any(flat_dims(batch_dims))
    for name, call in forms.items():
        timing: dict[str, Any] = {}
        with torch.no_grad():
            if fixed_batch and name != "eager":
                timing["b1"] = None  # a graph of a fixed batch size takes no batch of one
            else:
                timing["b1"] = latency(lambda form=call: form(*single), threads)
            timing["batch"] = latency(lambda form=call: form(*example), threads)
        timing["throughput_per_s"] = size / (timing["batch"]["p50_ms"] / 1000)
        results[name] = timing
    return results


def record_metrics(report: dict, step: int, metrics_path: Optional[Path]) -> None:
    """Latency, throughput and parity as run metrics (compare, --where, --sort), and an ``export`` event."""
    if metrics_path is None:
        return
    from .metrics import MetricsWriter

    values: dict[str, float] = {}
    for name, timing in report.get("latency", {}).items():
        if timing["b1"] is not None:
            values[f"cost/latency_ms_b1/{name}"] = timing["b1"]["p50_ms"]
            values[f"cost/latency_p95_ms_b1/{name}"] = timing["b1"]["p95_ms"]
        values[f"cost/latency_ms_batch/{name}"] = timing["batch"]["p50_ms"]
        values[f"cost/latency_p95_ms_batch/{name}"] = timing["batch"]["p95_ms"]
        values[f"cost/throughput/{name}"] = timing["throughput_per_s"]
    for name, entry in report["formats"].items():
        if "parity" in entry:
            values[f"export/max_abs_diff/{name}"] = entry["max_abs"]
    formats = {name: {key: entry.get(key) for key in ("ok", "max_abs", "max_rel", "worst_output", "error", "file")}
               for name, entry in report["formats"].items()}
    with MetricsWriter(path=str(metrics_path)) as writer:
        if values:
            writer.log(values, step=step)
        writer.event("export", step=step, checkpoint=report["checkpoint"], tolerance=report["tolerance"],
                     batch_size=report["batch_size"], threads=report["threads"], device=report["device"],
                     formats=formats)


def print_summary(report: dict) -> None:
    tolerance = report["tolerance"]
    print(f"export of {report['checkpoint']} (step {report['step']}) on {report['device']}, "
          f"{report['threads']} thread(s), parity tolerance {tolerance:g}", flush=True)
    for name, entry in report["formats"].items():
        if "parity" not in entry:
            print(f"  {name:<12} FAILED to export: {entry['error']}", flush=True)
            continue
        verdict = "ok" if entry["ok"] else f"DIFFERS (largest in {entry['worst_output']})"
        problems = [check["problem"] for check in entry["parity"].values() if check.get("problem")]
        print(f"  {name:<12} {verdict}: max abs {entry['max_abs']:.3g}, max rel {entry['max_rel']:.3g}"
              + (f"; {problems[0]}" if problems else ""), flush=True)


def main_usage_error(error: ExportUsageError, out_dir: Optional[str]) -> NoReturn:
    """Exit 2 with the message and the hint (and in report.json, for mlx to show)."""
    if out_dir:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "report.json").write_text(json.dumps({"error": str(error), "hint": error.hint}) + "\n")
    print(f"error: {error}\nhint: {error.hint}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def request_from_json(text: str) -> ExportRequest:
    """mlx's request (``--export``, or ``$MLX_EXPORT`` for a script); one that cannot be met ends with exit 2."""
    try:
        return ExportRequest.from_json(text)
    except ExportUsageError as error:
        main_usage_error(error, json.loads(text).get("out_dir"))

