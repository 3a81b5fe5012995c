import sys
from pathlib import Path

# Tests import mlx_runtime from this checkout, as the generated scripts do (via PYTHONPATH).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
