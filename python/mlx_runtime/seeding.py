"""Seeding and determinism for reproducible runs."""

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and every CUDA device).

    Returns a ``torch.Generator`` seeded with ``seed`` for data shuffling, so the
    order of batches does not depend on how many random numbers the model's
    initialisation happened to draw.
    """
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def configure_determinism(deterministic: bool) -> None:
    """``train.deterministic``: deterministic algorithms and cuDNN when true; cuDNN's
    autotuner (faster, not repeatable) when false. Call before any CUDA work."""
    if deterministic:
        # cuBLAS needs this workspace setting to be deterministic (PyTorch's reproducibility notes).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    # Switching it imports torch's compiler stack (seconds); off is the default, so only a change pays.
    if deterministic != torch.are_deterministic_algorithms_enabled():
        torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
