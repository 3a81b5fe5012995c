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

import argparse
import math
import os
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from mlx_runtime import (CheckpointKeeper, DataError, DivergenceGuard, MetricsWriter, Monitor, StopRequest,
                         build_optimizer, build_scheduler, clip_gradients, compile_model, configure_determinism,
                         explain_out_of_memory, load_config, pyplot, restore_rng_states, rng_states,
                         schedule_warnings, seed_everything, select_device)
from mlx_runtime.criteo import DENSE_FIELDS, SPARSE_FIELDS, CriteoBatches, count_examples, write_synthetic

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--config", help="resolved config (JSON); default: $MLX_CONFIG_FILE")
parser.add_argument("--resume", help="checkpoint to continue from (mlx resume passes the latest)")
args = parser.parse_args()
cfg = load_config(args.config)
data_cfg, model_cfg, optim_cfg, sched_cfg, train_cfg = cfg["data"], cfg["model"], cfg["optim"], cfg["scheduler"], cfg["train"]
run_dir = Path(os.environ.get("MLX_RUN_DIR", "."))

configure_determinism(train_cfg["deterministic"])
shuffle_generator = seed_everything(cfg["seed"])
device = select_device(cfg["launch"]["device"])
resume_from = torch.load(args.resume, map_location="cpu", weights_only=False) if args.resume else None
metrics = MetricsWriter(tensorboard_dir=run_dir if train_cfg["tensorboard"] else None,
                        purge_step=resume_from["step"] + 1 if resume_from else None)
stop = StopRequest()
explain_out_of_memory(data_cfg["batch_size"], train_cfg["grad_accum_steps"])

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
amp = train_cfg["amp"]
autocast = (torch.autocast(device.type, dtype=torch.float16 if amp == "fp16" else torch.bfloat16) if amp
            else nullcontext())


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


# -----------------------------------------------------------------------------
# 4. Optimiser and schedule

optimizer = build_optimizer(optim_cfg, model.parameters())
epochs, accum = train_cfg["epochs"], train_cfg["grad_accum_steps"]
steps_per_epoch = math.ceil(len(train_batches) / accum)
total_steps = epochs * steps_per_epoch if train_cfg["max_steps"] is None else min(epochs * steps_per_epoch,
                                                                                  train_cfg["max_steps"])
scheduler, schedule_interval = build_scheduler(sched_cfg, optimizer, optim_cfg["lr"], steps_per_epoch, total_steps)
scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16")

# -----------------------------------------------------------------------------
# 5. Training loop

stopping_cfg = train_cfg["early_stopping"]
early_stopping = (Monitor(stopping_cfg["monitor"], stopping_cfg["mode"], stopping_cfg["patience"],
                          stopping_cfg["min_delta"]) if stopping_cfg
                  else Monitor(cfg["metrics"]["primary"], cfg["metrics"]["goal"], patience=None))
checkpoint_cfg = train_cfg["checkpoint"]
best_checkpoint = Monitor(checkpoint_cfg["monitor"], checkpoint_cfg["mode"])
divergence = DivergenceGuard.from_config(train_cfg)  # a loss that is not finite, or that exploded
checkpoints = CheckpointKeeper(run_dir / "checkpoints", keep_last=checkpoint_cfg["keep_last"], metrics=metrics)
max_grad_norm = train_cfg["grad_clip"] or math.inf
model_parameters = list(raw_model.parameters())  # once: walking the modules at every logged step costs more than the norm
log_every, eval_every = train_cfg["log_every"], train_cfg["eval_every"]

epochs_done, step, batches_done = 0, 0, 0
epoch_generator_state = shuffle_generator.get_state()


def training_state() -> dict:
    return {"model": raw_model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(),
            "epochs_done": epochs_done, "step": step, "batches_done": batches_done,
            "epoch_generator": epoch_generator_state, "early_stopping": early_stopping.state_dict(),
            "best_checkpoint": best_checkpoint.state_dict(), "divergence": divergence.state_dict(),
            "rng": rng_states(), "config": cfg}


if resume_from:
    raw_model.load_state_dict(resume_from["model"])
    optimizer.load_state_dict(resume_from["optimizer"])
    scheduler.load_state_dict(resume_from["scheduler"])
    scaler.load_state_dict(resume_from["scaler"])
    early_stopping.load_state_dict(resume_from["early_stopping"])
    best_checkpoint.load_state_dict(resume_from["best_checkpoint"])
    if "divergence" in resume_from:  # checkpoints of mlx before the guard have none
        divergence.load_state_dict(resume_from["divergence"])
    epochs_done, step, batches_done = resume_from["epochs_done"], resume_from["step"], resume_from["batches_done"]
    shuffle_generator.set_state(resume_from["epoch_generator"])
    restore_rng_states(resume_from["rng"])
    metrics.event("resume", from_step=step, checkpoint=args.resume, epochs_done=epochs_done)

metrics.event("start", epochs=epochs, steps_per_epoch=steps_per_epoch, total_steps=total_steps,
              batch_size=data_cfg["batch_size"], grad_accum_steps=accum, device=str(device),
              parameters=sum(p.numel() for p in raw_model.parameters()), start_step=step,
              train_examples=train_batches.examples, val_examples=val_batches.examples)
for warning in schedule_warnings(train_cfg, len(train_batches), total_steps):
    metrics.warning(warning)
if ground_truth:
    # What the model that generated the labels scores on the validation set: the best reachable.
    metrics.event("ground_truth", **ground_truth)

window = {"loss": 0.0, "samples": 0, "steps": 0, "data_time": 0.0, "start": time.perf_counter()}
while epochs_done < epochs and step < total_steps and not early_stopping.should_stop and not stop.requested:
    epoch = epochs_done + 1
    epoch_generator_state = shuffle_generator.get_state()
    batches = len(train_batches)
    data_start = time.perf_counter()
    for batch_index, (dense, sparse, label) in enumerate(train_batches):
        if batch_index < batches_done:
            continue  # resuming mid-epoch: these batches were trained before the interrupt
        window["data_time"] += time.perf_counter() - data_start
        dense, sparse, label = to_device(dense, sparse, label)
        window_batches = min(accum, batches - batch_index // accum * accum)
        with autocast:
            loss = criterion(model(dense, sparse).float(), label)
        loss_value = loss.item()
        if divergence.diverged(loss_value):
            checkpoints.stop_diverged(training_state(), loss_value, step, reason=divergence.reason)
        # Each batch adds its share of the window's mean; a window of one batch skips the division
        # (an autograd node: ~20 us a step, 0.4% of a small model's step).
        scaler.scale(loss if window_batches == 1 else loss / window_batches).backward()
        window["loss"] += loss_value * label.size(0)
        window["samples"] += label.size(0)
        data_start = time.perf_counter()
        if (batch_index + 1) % accum != 0 and batch_index + 1 != batches:
            continue

        logging_now = (step + 1) % log_every == 0 or batch_index + 1 == batches or step + 1 == total_steps
        scaler.unscale_(optimizer)
        grad_norm = clip_gradients(model_parameters, max_grad_norm, measure=logging_now)
        step_lr = optimizer.param_groups[0]["lr"]
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        batches_done = batch_index + 1
        window["steps"] += 1
        if schedule_interval == "step":
            scheduler.step()

        if logging_now:
            elapsed = time.perf_counter() - window["start"]
            memory = {"perf/cuda_max_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30} \
                if device.type == "cuda" else {}
            metrics.log({"train/loss": window["loss"] / window["samples"], "lr": step_lr,
                         "train/grad_norm": grad_norm, "perf/samples_per_sec": window["samples"] / elapsed,
                         "perf/step_time": elapsed / window["steps"],
                         "perf/data_time": window["data_time"] / window["steps"], **memory},
                        step=step, epoch=epoch)
            window = {"loss": 0.0, "samples": 0, "steps": 0, "data_time": 0.0, "start": time.perf_counter()}
        if step >= total_steps or stop.requested:
            break

    if stop.requested and batches_done < batches and step < total_steps:
        break
    epochs_done, batches_done = epoch, 0
    evaluated = epoch % eval_every == 0 or epoch == epochs or step >= total_steps
    if evaluated:
        results = evaluate()
        metrics.log(results, step=step, epoch=epoch)
        early_stopping.update(results[early_stopping.metric])
        if schedule_interval == "eval":
            scheduler.step(results[sched_cfg["monitor"]])
    if schedule_interval == "epoch":
        scheduler.step()
    epoch_generator_state = shuffle_generator.get_state()
    if checkpoint_cfg["best"] and evaluated and best_checkpoint.update(results[best_checkpoint.metric]):
        checkpoints.save("best.pt", training_state(), epoch=epoch, step=step, metric=best_checkpoint.metric,
                         value=best_checkpoint.best)
    if checkpoint_cfg["every_epochs"] and epoch % checkpoint_cfg["every_epochs"] == 0:
        checkpoints.save_periodic(epoch, training_state(), step=step)
    metrics.event("epoch_end", epoch=epoch, step=step)
    print(f"epoch {epoch}/{epochs} step {step}/{total_steps}"
          + "".join(f" {key} {value:.4g}" for key, value in (results if evaluated else {}).items()), flush=True)

if stop.requested:
    checkpoints.save("last.pt", training_state(), step=step)
    metrics.event("interrupted", signal=stop.signal, step=step)
    metrics.close()
    raise SystemExit(130)
if early_stopping.should_stop:
    metrics.event("early_stop", epoch=epochs_done, step=step, metric=early_stopping.metric,
                  best=early_stopping.best, patience=early_stopping.patience)

# -----------------------------------------------------------------------------
# 6. The last checkpoint (before the analysis, whose pass over the data a resumed run must not see)

checkpoints.save("last.pt", training_state(), epoch=epochs_done, step=step)

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
    metrics.event("reliability", step=step, bins=[{"predicted": p, "observed": o, "examples": n} for p, o, n in points],
                  artifacts=["reliability.png"])

metrics.event("end", epoch=epochs_done, step=step)
metrics.close()
