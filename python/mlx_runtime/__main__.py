"""``python -m mlx_runtime [--packages]``: print this interpreter's environment as JSON (see envinfo)."""

import json
import sys

from .envinfo import environment

json.dump(environment(with_packages="--packages" in sys.argv[1:]), sys.stdout)
sys.stdout.write("\n")
