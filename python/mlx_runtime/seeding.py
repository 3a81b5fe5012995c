"""Seeding for reproducible runs."""

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
