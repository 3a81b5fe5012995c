"""Click-through prediction with DLRM on click logs in the Criteo layout.

The guide's method, top to bottom:
  1. data       the Criteo layout (a label, 13 integer and 26 hexadecimal categorical features,
                tab-separated; blanks allowed), read as a stream: chunks of lines parsed, shuffled
                within a buffer (seeded), batched. Integer features become log(1 + max(x, 0)); ids
                are hashed into data.hash_size rows per field. Sources: synthetic logs generated
                from a known model (data/criteo-synthetic, made once and kept; the best reachable
                AUC is known), or Criteo's own files (Kaggle display-advertising, Terabyte) with a
                validation file or the last val_rows examples held out. A bad line is an error
                naming the file and the line.
  2. model      DLRM in plain PyTorch: a bottom MLP on the dense features, one EmbeddingBag per
                categorical field, the pairwise dot products of the 27 vectors (dense and 26
                embeddings), a top MLP over the dense vector and the products, one logit
  3. loss       binary cross-entropy on the logit (its mean is the log loss); metrics: log loss,
                AUC, calibration (mean predicted click rate over the actual one; 1 is calibrated)
  4. optimiser  Adam, AdamW or SGD; schedules (mlx_runtime.build_optimizer / build_scheduler)
  5. loop       mixed precision, gradient accumulation, clipping, a step limit, train metrics every
                `train.log_every` steps, validation every `train.eval_every` epochs, early stopping;
                a loss that is not finite or explodes (train.divergence) stops the run (diverged); Ctrl-C or SIGTERM saves a checkpoint
  6. output     metrics.jsonl and TensorBoard; checkpoints (periodic, best, last, on interrupt) with
                the model, optimiser, schedule, RNG states and the shuffling state, so `--resume`
                continues exactly
  7. analysis   a reliability diagram: predicted against observed click rate by decile (PNG)

Every value comes from the resolved config (JSON), read as data.

Run it through mlx:  mlx run configs/recsys-dlrm.yaml
Run it by hand:      python train.py --config config.json   (needs mlx's python/ on PYTHONPATH)
"""

import math
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from mlx_runtime import DataError, TrainingLoop, build_optimizer, compile_model, pyplot, start_run
from mlx_runtime.criteo import DENSE_FIELDS, SPARSE_FIELDS, CriteoBatches, count_examples, write_synthetic

run = start_run(__doc__)  # the config, seeds, the device, the checkpoint to go on from, metrics
cfg, device, metrics = run.cfg, run.device, run.metrics
data_cfg, model_cfg, train_cfg = cfg["data"], cfg["model"], cfg["train"]
run_dir = run.run_dir
shuffle_generator = run.generator  # shuffles the training data: a checkpoint holds its state at the epoch's start

# -----------------------------------------------------------------------------
# 1. Data
#
# Both sources are files of the Criteo layout; the validation examples are a file of their
# own, or the last val_rows lines of the training file. Nothing is held in memory but the
# shuffle buffer, so a file of any size trains.

ground_truth = None
if data_cfg["source"] == "synthetic":
    root = Path(data_cfg["root"])
    started = time.perf_counter()
    meta = write_synthetic(root, data_cfg["rows"], data_cfg["val_rows"], cfg["seed"], data_cfg["cardinality"])
    train_path, val_path, train_rows = root / meta["files"]["train"], root / meta["files"]["val"], data_cfg["rows"]
    ground_truth = {"auc": meta["truth_auc"], "log_loss": meta["truth_log_loss"], "click_rate": meta["click_rate"],
                    "seconds": round(time.perf_counter() - started, 3)}
else:
    train_path = Path(data_cfg["path"])
    if data_cfg["val_path"]:
        val_path, train_rows = Path(data_cfg["val_path"]), None
    else:
        examples = count_examples(train_path) if train_path.is_file() else 0
        if 0 < examples <= data_cfg["val_rows"]:
            raise DataError(train_path, f"{examples} examples, not more than data.val_rows ({data_cfg['val_rows']})",
                            hint="lower data.val_rows, or give a validation file in data.val_path")
        val_path, train_rows = train_path, examples - data_cfg["val_rows"]

if data_cfg["max_rows"] is not None:
    train_rows = min(train_rows or data_cfg["max_rows"], data_cfg["max_rows"])
train_batches = CriteoBatches(train_path, data_cfg["hash_size"], data_cfg["batch_size"], generator=shuffle_generator,
                              shuffle_buffer=data_cfg["shuffle_buffer"], max_rows=train_rows)
# Held out from the end of the training file, or a file of its own.
val_skip = train_rows if val_path == train_path else 0
val_batches = CriteoBatches(val_path, data_cfg["hash_size"], 4096, skip_rows=val_skip)
pin_memory = device.type == "cuda" if data_cfg["pin_memory"] == "auto" else data_cfg["pin_memory"]


def to_device(*tensors):
    # non_blocking overlaps the copy with compute when the batch sits in pinned memory.
    return tuple((t.pin_memory() if pin_memory else t).to(device, non_blocking=True) for t in tensors)


# -----------------------------------------------------------------------------
# 2. Model


def mlp(widths: list, last_activation: bool) -> nn.Sequential:
    layers = []
    for i, (width_in, width_out) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(width_in, width_out))
        if i < len(widths) - 2 or last_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class DLRM(nn.Module):
    """Bottom MLP (dense features) and an EmbeddingBag per categorical field, their pairwise dot
    products, then a top MLP to one click logit (Naumov et al., 2019)."""

    def __init__(self, hash_size: int, dim: int, bottom: list, top: list):
        super().__init__()
        self.bottom = mlp([DENSE_FIELDS] + bottom, last_activation=True)
        self.embeddings = nn.ModuleList(nn.EmbeddingBag(hash_size, dim, mode="sum") for _ in range(SPARSE_FIELDS))
        for bag in self.embeddings:
            # DLRM's own initialisation: small rows, so the first dot products stay near zero.
            nn.init.uniform_(bag.weight, -math.sqrt(1 / hash_size), math.sqrt(1 / hash_size))
        vectors = SPARSE_FIELDS + 1
        rows, columns = torch.tril_indices(vectors, vectors, offset=-1)
        self.register_buffer("pair_rows", rows, persistent=False)
        self.register_buffer("pair_columns", columns, persistent=False)
        self.top = mlp([dim + len(rows)] + top + [1], last_activation=False)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        x = self.bottom(dense)
        # One id per field and example: bags of one, each starting at its own offset.
        offsets = torch.arange(sparse.size(0), device=sparse.device)
        vectors = torch.stack([x] + [bag(sparse[:, field], offsets) for field, bag in enumerate(self.embeddings)], dim=1)
        products = torch.bmm(vectors, vectors.transpose(1, 2))[:, self.pair_rows, self.pair_columns]
        return self.top(torch.cat([x, products], dim=1)).squeeze(1)


raw_model = DLRM(data_cfg["hash_size"], model_cfg["embedding_dim"], model_cfg["bottom_mlp"], model_cfg["top_mlp"])
raw_model = raw_model.to(device)
model = compile_model(raw_model, train_cfg["compile"])

# -----------------------------------------------------------------------------
# 3. Loss and metrics

criterion = nn.BCEWithLogitsLoss()
autocast = run.autocast  # train.amp: bf16 or fp16 autocast, or nothing at all


@torch.no_grad()
def predict(batches: CriteoBatches):
    """Mean log loss over the batches, with every label and predicted click probability."""
    model.eval()
    total_loss, labels_seen, probabilities = 0.0, [], []
    for dense, sparse, label in batches:
        dense, sparse, label = to_device(dense, sparse, label)
        with autocast:
            logit = model(dense, sparse)
        total_loss += criterion(logit.float(), label).item() * label.size(0)
        labels_seen.append(label.cpu())
        probabilities.append(torch.sigmoid(logit.float()).cpu())
    model.train()
    labels_seen, probabilities = torch.cat(labels_seen).numpy(), torch.cat(probabilities).numpy()
    return total_loss / len(labels_seen), labels_seen, probabilities


def evaluate() -> dict:
    started = time.perf_counter()
    loss, labels, probabilities = predict(val_batches)
    # AUC needs both classes; a validation set of one class has none.
    auc = roc_auc_score(labels, probabilities) if 0 < labels.sum() < len(labels) else math.nan
    return {"val/loss": loss, "val/auc": auc, "val/calibration": probabilities.mean() / max(labels.mean(), 1e-12),
            "perf/eval_time": time.perf_counter() - started}


def validation_examples(count: int, first: int) -> tuple:
    """mlx export's inputs: rows of the first validation batch (its dense and sparse features)."""
    dense, sparse, _ = next(iter(val_batches))
    rows = torch.arange(first, first + count) % dense.size(0)
    return dense[rows], sparse[rows]


# -----------------------------------------------------------------------------
# 4. Optimiser and schedule

optimizer = build_optimizer(cfg["optim"], model.parameters())
# The schedule (per step, epoch or evaluation), AMP's gradient scaler, early stopping, checkpoints.
loop = TrainingLoop(run, raw_model, optimizer, batches_per_epoch=len(train_batches), shuffle=shuffle_generator,
                    example_inputs=validation_examples)

# -----------------------------------------------------------------------------
# 5. Training loop

loop.start(train_examples=train_batches.examples, val_examples=val_batches.examples)
if ground_truth:
    # What the model that generated the labels scores on the validation set: the best reachable.
    metrics.event("ground_truth", **ground_truth)
for _epoch in loop.epochs():
    for dense, sparse, label in loop.batches(train_batches):
        dense, sparse, label = to_device(dense, sparse, label)
        with autocast:
            loss = criterion(model(dense, sparse).float(), label)
        loop.backward(loss, samples=label.size(0))
        loop.optimizer_step()
    loop.end_epoch(evaluate)

# -----------------------------------------------------------------------------
# 6. The last checkpoint (before the analysis, whose pass over the data a resumed run must not see)

loop.finish()

# -----------------------------------------------------------------------------
# 7. Analysis: is a predicted click rate of 30% right 30% of the time?


def save_reliability_diagram(labels: np.ndarray, probabilities: np.ndarray, path: Path) -> list:
    """Validation examples in ten bins of predicted probability (deciles): mean predicted against observed rate."""
    edges = np.quantile(probabilities, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, probabilities, side="right") - 1, 0, 9)
    points = [(float(probabilities[bins == b].mean()), float(labels[bins == b].mean()), int((bins == b).sum()))
              for b in range(10) if (bins == b).any()]
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="calibrated")
    axes.plot([p for p, _, _ in points], [o for _, o, _ in points], marker="o", label="model (deciles)")
    axes.set_xlabel("predicted click rate")
    axes.set_ylabel("observed click rate")
    axes.set_title("reliability on the validation set")
    axes.legend()
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return points


if train_cfg["artifacts"]:
    _, labels, probabilities = predict(val_batches)
    points = save_reliability_diagram(labels, probabilities, run_dir / "reliability.png")
    metrics.event("reliability", step=loop.step, bins=[{"predicted": p, "observed": o, "examples": n} for p, o, n in points],
                  artifacts=["reliability.png"])

loop.close()
