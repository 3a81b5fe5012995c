"""``python -m mlx_runtime --probe WHAT``: what mlx asks an interpreter, answered as one JSON line.

- ``quick``: the Python version, the executable and torch's version, found without importing torch
  (mlx asks before every run; importing torch would make that wait);
- ``gpus``: how many CUDA GPUs torch sees (imports torch);
- ``environment`` (the default) and ``environment --packages``: versions, CUDA, GPUs, torchrun and,
  with ``--packages``, every installed distribution (see envinfo).
"""

import argparse
import importlib.metadata
import importlib.util
import json
import platform
import sys

PROBES = ("quick", "gpus", "environment")


def quick() -> dict:
    has_torch = importlib.util.find_spec("torch") is not None
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "torch": importlib.metadata.version("torch") if has_torch else None,
    }


def gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m mlx_runtime", description=__doc__.split("\n")[0])
    parser.add_argument("--probe", choices=PROBES, default="environment")
    parser.add_argument("--packages", action="store_true", help="with --probe environment: every distribution")
    args = parser.parse_args(argv)
    if args.probe == "quick":
        answer = quick()
    elif args.probe == "gpus":
        answer = gpus()
    else:
        from .envinfo import environment

        answer = environment(with_packages=args.packages)
    json.dump(answer, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
