"""The resolved experiment config that mlx writes into the run directory."""

import json
import os
from pathlib import Path
from typing import Any, Optional

from .data import install_data_error_hook


def load_config(path: Optional[str] = None) -> dict[str, Any]:
    """Read the resolved config: ``path``, else ``$MLX_CONFIG_FILE``.

    mlx has already validated it and filled every default, so a script can index
    it directly (``cfg["optim"]["lr"]``). It is JSON: values arrive as data. From here on, a
    ``DataError`` ends the script with its message and exit status 2 (bad input), no traceback.
    """
    install_data_error_hook()
    chosen = path or os.environ.get("MLX_CONFIG_FILE")
    if not chosen:
        raise SystemExit("no config: pass --config PATH or set MLX_CONFIG_FILE")
    with open(Path(chosen), encoding="utf-8") as f:
        return json.load(f)
