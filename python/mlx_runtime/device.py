"""Device selection from the config's ``launch.device``, compilation, and out-of-memory hints."""

import sys

import torch


def select_device(requested: str = "auto") -> torch.device:
    """``auto`` picks CUDA when a GPU is visible, else the CPU.

    An explicit ``cuda`` or ``cuda:N`` without a usable GPU is an error rather than a
    silent fall-back to the CPU: a run that is ten times slower than asked for should
    not look like a success.
    """
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit(f"launch.device is {requested!r} but torch sees no CUDA GPU "
                             f"(torch {torch.__version__}, CUDA build {torch.version.cuda})")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SystemExit(f"launch.device is {requested!r} but only "
                             f"{torch.cuda.device_count()} GPU(s) are visible")
    return device


def compile_model(model: torch.nn.Module, enabled: bool) -> torch.nn.Module:
    """``train.compile``: ``torch.compile(model)``, or the model itself when off.

    Where torch.compile is not available (a Python or platform it does not support) the run
    stops with that reason and the switch to turn it off, rather than a compiler traceback.
    """
    if not enabled:
        return model
    try:
        return torch.compile(model)
    except RuntimeError as error:
        raise SystemExit(f"train.compile is true, but torch.compile is not available here: {error} "
                         f"(set train.compile: false)") from error


def explain_out_of_memory(batch_size: int, grad_accum_steps: int) -> None:
    """When the script dies of CUDA out-of-memory, say which setting to change.

    Installs an exception hook: the traceback prints as usual, then a hint naming the batch
    size. The run ends ``failed`` (exit 1) with the hint in its stored error.
    """
    previous = sys.excepthook

    def hook(kind, error, traceback):
        previous(kind, error, traceback)
        if issubclass(kind, torch.OutOfMemoryError):
            sys.stderr.write(
                f"hint: CUDA ran out of memory with data.batch_size={batch_size} "
                f"(train.grad_accum_steps={grad_accum_steps}). Lower data.batch_size and raise "
                f"train.grad_accum_steps to keep the effective batch, or set train.amp: bf16.\n")

    sys.excepthook = hook
