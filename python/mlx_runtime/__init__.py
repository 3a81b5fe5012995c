"""Small helpers that mlx-generated training scripts import.

Everything here is plain Python and PyTorch; a script that uses it stays readable
top to bottom. The pieces:

- ``MetricsWriter``: appends metric and event lines to ``metrics.jsonl`` (the mlx
  metrics protocol, docs/metrics.md), one flushed line per call, so a crash or a kill
  of the trainer or of mlx loses nothing already logged.
- ``load_config``: the resolved experiment config, as data (JSON), never as code.
- ``seed_everything``, ``configure_determinism``: seeds Python, NumPy and PyTorch (CPU and
  CUDA); deterministic algorithms on request.
- ``Monitor``: the best value of a metric, for early stopping and best checkpoints.
- ``CheckpointKeeper``, ``rng_states``, ``restore_rng_states``: checkpoints written
  atomically, the last K kept; the random state that makes a resumed run exact.
- ``StopRequest``: Ctrl-C and SIGTERM as a flag, so the loop saves and exits between steps.
- ``World``, ``restart_checkpoint``: data-parallel training under torchrun (rank, world size, the
  process group, DDP, the collectives a loop needs), one code path for one process or many.
- ``select_device``: turns ``launch.device`` (auto, cpu, cuda, cuda:N) into a torch.device;
  ``compile_model``: ``train.compile``, with a clear message where torch.compile is unavailable;
  ``explain_out_of_memory``: a hint naming the batch size when CUDA runs out of memory.
- ``build_optimizer``, ``build_scheduler``: the optimiser and schedule that ``optim`` and ``scheduler`` name;
  ``clip_gradients``: ``train.grad_clip``, and the gradient norm when it is to be logged.
- ``DataError``, ``read_csv_table``: a user's data files read with errors naming the file and
  row; bad data ends the script with exit status 2 and no traceback.
- ``save_confusion_matrix``, ``save_predicted_vs_true``, ``pyplot``: analysis figures (PNG).
- ``environment``: what this interpreter has (Python, torch, CUDA, GPUs), for env.json.
"""

from .analysis import pyplot, save_confusion_matrix, save_predicted_vs_true
from .checkpoints import CheckpointKeeper, restore_rng_states, rng_states
from .config import load_config
from .data import DataError, check_columns, read_csv_rows, read_csv_table
from .device import compile_model, explain_out_of_memory, select_device
from .distributed import World, restart_checkpoint
from .envinfo import environment
from .metrics import MetricsWriter
from .monitor import Monitor
from .optim import build_optimizer, build_scheduler, clip_gradients
from .seeding import configure_determinism, seed_everything
from .signals import StopRequest

__all__ = [
    "CheckpointKeeper",
    "DataError",
    "MetricsWriter",
    "Monitor",
    "StopRequest",
    "World",
    "build_optimizer",
    "build_scheduler",
    "check_columns",
    "clip_gradients",
    "compile_model",
    "configure_determinism",
    "environment",
    "explain_out_of_memory",
    "load_config",
    "pyplot",
    "read_csv_rows",
    "read_csv_table",
    "restart_checkpoint",
    "restore_rng_states",
    "rng_states",
    "save_confusion_matrix",
    "save_predicted_vs_true",
    "seed_everything",
    "select_device",
]
