"""Device selection from the config's ``launch.device``."""

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
