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
