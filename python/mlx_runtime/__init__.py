"""Small helpers that mlx-generated training scripts import.

Everything here is plain Python and PyTorch; a script that uses it stays readable
top to bottom. The pieces:

- ``start_run``, ``TrainingLoop``: the set-up and the training loop every recipe shares (loop.py):
  accumulation, AMP, clipping, schedules, train metrics, evaluation, early stopping, checkpoints,
  exact resume, Ctrl-C and divergence, one code path for one process or many.
- ``MetricsWriter``: appends metric and event lines to ``metrics.jsonl`` (the mlx
  metrics protocol, docs/metrics.md), one flushed line per call, so a crash or a kill
  of the trainer or of mlx loses nothing already logged.
- ``load_config``: the resolved experiment config, as data (JSON), never as code.
- ``seed_everything``, ``configure_determinism``: seeds Python, NumPy and PyTorch (CPU and
  CUDA); deterministic algorithms on request.
- ``Monitor``: the best value of a metric, for early stopping and best checkpoints;
  ``DivergenceGuard``: whether the training loss has diverged (not finite, or exploded past a bound).
- ``CheckpointKeeper``, ``rng_states``, ``restore_rng_states``: checkpoints written
  atomically, the last K kept, the last good state saved when the loss diverges; the random
  state that makes a resumed run exact.
- ``StopRequest``: Ctrl-C and SIGTERM as a flag, so the loop saves and exits between steps.
- ``World``, ``restart_checkpoint``: data-parallel training under torchrun (rank, world size, the
  process group, DDP, the collectives a loop needs), one code path for one process or many.
- ``select_device``: turns ``launch.device`` (auto, cpu, cuda, cuda:N) into a torch.device;
  ``compile_model``: ``train.compile``, with a clear message where torch.compile is unavailable;
  ``explain_out_of_memory``: a hint naming the batch size when CUDA runs out of memory.
- ``build_optimizer``, ``build_scheduler``: the optimiser and schedule that ``optim`` and ``scheduler`` name;
  ``clip_gradients``: ``train.grad_clip``, and the gradient norm when it is to be logged;
  ``schedule_warnings``: values of ``train`` that the data makes pointless, to log as warnings.
- ``DataError``, ``read_csv_table``: a user's data files read with errors naming the file and
  row; bad data ends the script with exit status 2 and no traceback.
- ``save_confusion_matrix``, ``save_predicted_vs_true``, ``pyplot``: analysis figures (PNG);
  ``save_predictions``: the validation predictions ``mlx card`` computes its intervals from (card.py);
  ``save_embedding``, ``save_worst_samples``: the ``analysis:`` section's embedding map and worst samples
  (diagnostics.py, with the gradient histograms the loop writes).
- ``register_model``: your own script's model, for ``mlx export`` (export.py).
- ``PaddedBiLSTM``: a bidirectional LSTM over padded sequences with the answers of a packed one, which
  exported graphs can hold (layers.py).
- ``validation_inputs``: how a recipe makes its model's inputs from validation examples, for ``mlx export``
  (export.py: the model in ONNX, TorchScript and torch.export forms, each checked against eager and timed).
- ``environment``: what this interpreter has (Python, torch, CUDA, GPUs), for env.json.
"""

# Each name is imported from its module on first use (PEP 562), so that a process which needs
# only the torch-free parts (``python -m mlx_runtime.capture`` beside a user's script) never
# pays for importing torch.
_HOMES = {
    "CheckpointKeeper": "checkpoints",
    "DataError": "data",
    "DivergenceGuard": "monitor",
    "MetricsWriter": "metrics",
    "PaddedBiLSTM": "layers",
    "Monitor": "monitor",
    "StopRequest": "signals",
    "TrainingLoop": "loop",
    "World": "distributed",
    "build_optimizer": "optim",
    "build_scheduler": "optim",
    "check_columns": "data",
    "class_weights": "data",
    "clip_gradients": "optim",
    "compile_model": "device",
    "configure_determinism": "seeding",
    "environment": "envinfo",
    "explain_out_of_memory": "device",
    "load_config": "config",
    "pyplot": "analysis",
    "read_csv_rows": "data",
    "register_model": "export",
    "read_csv_table": "data",
    "holdout_split": "data",
    "restart_checkpoint": "distributed",
    "restore_rng_states": "checkpoints",
    "rng_states": "checkpoints",
    "save_confusion_matrix": "analysis",
    "save_predicted_vs_true": "analysis",
    "save_embedding": "diagnostics",
    "save_predictions": "analysis",
    "save_worst_samples": "diagnostics",
    "schedule_warnings": "optim",
    "seed_everything": "seeding",
    "select_device": "device",
    "start_run": "loop",
    "validation_inputs": "export",
}


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module 'mlx_runtime' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = sorted(_HOMES)
