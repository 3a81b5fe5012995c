"""``python -m mlx_runtime``: print this interpreter's environment as JSON (see envinfo)."""

import json
import sys

from .envinfo import environment

json.dump(environment(), sys.stdout)
sys.stdout.write("\n")
