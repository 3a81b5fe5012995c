"""What this interpreter can do: Python, torch, CUDA, GPUs, torchrun.

``python -m mlx_runtime`` prints it as one JSON object; mlx runs that beside each
launch and stores it as env.json, and ``mlx doctor`` shows it.
"""

import platform
import shutil
import socket
import sys
from pathlib import Path
from typing import Any


def packages() -> list[str]:
    """Installed distributions as ``name==version``, sorted: what ``pip freeze`` lists."""
    from importlib import metadata

    found = {f"{dist.metadata['Name']}=={dist.version}" for dist in metadata.distributions() if dist.metadata["Name"]}
    return sorted(found, key=str.lower)


def environment(with_packages: bool = False) -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "torch": None,
        "cuda_available": False,
        "cuda_version": None,
        "cudnn_version": None,
        "gpus": [],
        "torchrun": _torchrun_path(),
    }
    if with_packages:
        info["packages"] = packages()
    try:
        import torch
    except ImportError as error:
        info["torch_error"] = str(error)
        return info
    info["torch"] = torch.__version__
    info["cuda_version"] = torch.version.cuda
    info["cuda_available"] = torch.cuda.is_available()
    if info["cuda_available"]:
        info["cudnn_version"] = torch.backends.cudnn.version()
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            info["gpus"].append({
                "index": index,
                "name": props.name,
                "memory_gib": round(props.total_memory / 2**30, 1),
                "capability": f"{props.major}.{props.minor}",
            })
    return info


def _torchrun_path():
    # torchrun lives beside the interpreter in a virtual environment, which need not be on PATH.
    beside = Path(sys.executable).parent / "torchrun"
    if beside.exists():
        return str(beside)
    return shutil.which("torchrun")
