"""Image classification: a small CNN on scikit-learn's bundled `digits` set.

The guide's method, top to bottom:
  1. data       digits (1,797 greyscale 8x8 images, ships with scikit-learn, no download),
                split into train/val with a fixed seed (stratified), pixels scaled to [0, 1]
  2. model      Backbone (two conv blocks, adaptive pooling) + linear Classifier head;
                optionally torch.compile'd
  3. loss       cross-entropy (optional label smoothing); metrics: loss and accuracy
  4. optimiser  Adam, AdamW or SGD (momentum, Nesterov); schedules: none, step, multistep
                (per epoch), cosine, warmup_cosine, onecycle (per step), plateau (per evaluation)
  5. loop       mixed precision (bf16 or fp16 autocast, a gradient scaler for fp16), gradient
                accumulation, gradient-norm clipping, a step limit; train metrics every
                `train.log_every` steps (loss, lr, gradient norm, samples/s, step and data time),
                validation every `train.eval_every` epochs, early stopping on any metric
  6. output     metrics.jsonl (mlx ingests it into SQLite as it trains); checkpoints every N
                epochs (the last K kept), of the best value of a metric, and at the end, each
                with the model, optimiser, scheduler, scaler, counters, RNG states and the config

Every value comes from the resolved config (JSON), read as data. Each feature has one code
path whether it is on or off: autocast and the scaler take `enabled=`, clipping to an
infinite norm measures the gradient without changing it, a monitor without patience never stops.

Run it through mlx:  mlx run configs/image-classification.yaml
Run it by hand:      python train.py --config config.json   (metrics go to ./metrics.jsonl
                     unless MLX_METRICS_FILE says otherwise; needs mlx's python/ on PYTHONPATH)
"""

import argparse
import math
import os
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from mlx_runtime import (CheckpointKeeper, MetricsWriter, Monitor, configure_determinism, load_config,
                         rng_states, seed_everything, select_device)

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--config", help="resolved config (JSON); default: $MLX_CONFIG_FILE")
args = parser.parse_args()
cfg = load_config(args.config)
data_cfg, model_cfg, optim_cfg, sched_cfg, train_cfg = cfg["data"], cfg["model"], cfg["optim"], cfg["scheduler"], cfg["train"]
run_dir = Path(os.environ.get("MLX_RUN_DIR", "."))

configure_determinism(train_cfg["deterministic"])
shuffle_generator = seed_everything(cfg["seed"])
device = select_device(cfg["launch"]["device"])
metrics = MetricsWriter()

# -----------------------------------------------------------------------------
# 1. Data


def load_digits_split(val_fraction: float, seed: int):
    """digits as (N, 1, 8, 8) float tensors in [0, 1], split with a fixed seed, stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(digits.target, dtype=torch.long)
    train_idx, val_idx = train_test_split(torch.arange(len(labels)).numpy(), test_size=val_fraction,
                                          random_state=seed, stratify=labels.numpy())
    return (TensorDataset(images[train_idx], labels[train_idx]),
            TensorDataset(images[val_idx], labels[val_idx]), 10)


train_set, val_set, num_classes = load_digits_split(data_cfg["val_fraction"], cfg["seed"])
train_loader = DataLoader(train_set, batch_size=data_cfg["batch_size"], shuffle=True,
                          generator=shuffle_generator, num_workers=data_cfg["num_workers"])
val_loader = DataLoader(val_set, batch_size=data_cfg["batch_size"], shuffle=False,
                        num_workers=data_cfg["num_workers"])

# -----------------------------------------------------------------------------
# 2. Model


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class Backbone(nn.Module):
    """Two conv blocks (the first followed by 2x2 max pooling), then adaptive average pooling."""

    def __init__(self, in_channels: int, channels: list):
        super().__init__()
        self.features = nn.Sequential(
            conv_block(in_channels, channels[0]),
            nn.MaxPool2d(2),
            conv_block(channels[0], channels[1]),
            nn.AdaptiveAvgPool2d(1),
        )
        self.out_features = channels[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).flatten(1)


class Classifier(nn.Module):
    """Backbone features -> dropout -> linear head over the classes."""

    def __init__(self, backbone: Backbone, num_classes: int, dropout: float):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(backbone.out_features, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


raw_model = Classifier(Backbone(1, model_cfg["channels"]), num_classes, model_cfg["dropout"]).to(device)
# The compiled wrapper trains; raw_model's state_dict (no "_orig_mod." prefixes) is what checkpoints hold.
model = torch.compile(raw_model) if train_cfg["compile"] else raw_model

# -----------------------------------------------------------------------------
# 3. Loss and metrics

criterion = nn.CrossEntropyLoss(label_smoothing=cfg["loss"]["label_smoothing"])
amp = train_cfg["amp"]  # false, "bf16" or "fp16"
autocast = torch.autocast(device.type, dtype=torch.float16 if amp == "fp16" else torch.bfloat16, enabled=bool(amp))


@torch.no_grad()
def evaluate() -> dict:
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for images, labels in val_loader:
        images, labels = images.to(device), labels.to(device)
        with autocast:
            logits = model(images)
        total_loss += criterion(logits.float(), labels).item() * labels.size(0)
        correct += (logits.argmax(dim=1) == labels).sum().item()
        count += labels.size(0)
    model.train()
    return {"val/loss": total_loss / count, "val/acc": correct / count}


# -----------------------------------------------------------------------------
# 4. Optimiser and schedule

optimizers = {
    "sgd": lambda params: torch.optim.SGD(params, lr=optim_cfg["lr"], momentum=optim_cfg.get("momentum"),
                                          nesterov=optim_cfg.get("nesterov"),
                                          weight_decay=optim_cfg["weight_decay"]),
    "adam": lambda params: torch.optim.Adam(params, lr=optim_cfg["lr"], betas=optim_cfg.get("betas"),
                                            eps=optim_cfg.get("eps"), weight_decay=optim_cfg["weight_decay"]),
    "adamw": lambda params: torch.optim.AdamW(params, lr=optim_cfg["lr"], betas=optim_cfg.get("betas"),
                                              eps=optim_cfg.get("eps"), weight_decay=optim_cfg["weight_decay"]),
}
optimizer = optimizers[optim_cfg["name"]](model.parameters())

epochs, accum = train_cfg["epochs"], train_cfg["grad_accum_steps"]
steps_per_epoch = math.ceil(len(train_loader) / accum)  # optimiser steps
total_steps = epochs * steps_per_epoch if train_cfg["max_steps"] is None else min(epochs * steps_per_epoch,
                                                                                  train_cfg["max_steps"])


def warmup_cosine(step: int) -> float:
    """Factor of optim.lr: linear warmup from 0, then a cosine down to min_lr."""
    warmup = max(1, round(sched_cfg["warmup_epochs"] * steps_per_epoch))
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
    floor = sched_cfg["min_lr"] / optim_cfg["lr"]
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


# Each schedule and when it steps: after every optimiser step, every epoch, or every evaluation.
schedulers = {
    # "none" keeps one code path: a constant factor of 1 leaves the learning rate as it is.
    "none": lambda: (torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0), "epoch"),
    "step": lambda: (torch.optim.lr_scheduler.StepLR(optimizer, step_size=sched_cfg["step_size"],
                                                     gamma=sched_cfg["gamma"]), "epoch"),
    "multistep": lambda: (torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=sched_cfg["milestones"],
                                                               gamma=sched_cfg["gamma"]), "epoch"),
    "cosine": lambda: (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps,
                                                                  eta_min=sched_cfg["min_lr"]), "step"),
    "warmup_cosine": lambda: (torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine), "step"),
    "onecycle": lambda: (torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=sched_cfg.get("max_lr") or optim_cfg["lr"], total_steps=total_steps,
        pct_start=sched_cfg["pct_start"], div_factor=sched_cfg["div_factor"],
        final_div_factor=sched_cfg["final_div_factor"]), "step"),
    "plateau": lambda: (torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode=sched_cfg["mode"], factor=sched_cfg["factor"], patience=sched_cfg["patience"],
        min_lr=sched_cfg["min_lr"]), "eval"),
}
scheduler, schedule_interval = schedulers[sched_cfg["name"]]()
scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16")

# -----------------------------------------------------------------------------
# 5. Training loop

stopping_cfg = train_cfg["early_stopping"]
early_stopping = (Monitor(stopping_cfg["monitor"], stopping_cfg["mode"], stopping_cfg["patience"],
                          stopping_cfg["min_delta"]) if stopping_cfg
                  else Monitor(cfg["metrics"]["primary"], cfg["metrics"]["goal"], patience=None))
checkpoint_cfg = train_cfg["checkpoint"]
best_checkpoint = Monitor(checkpoint_cfg["monitor"], checkpoint_cfg["mode"])
checkpoints = CheckpointKeeper(run_dir / "checkpoints", keep_last=checkpoint_cfg["keep_last"], metrics=metrics)
max_grad_norm = train_cfg["grad_clip"] or math.inf
log_every, eval_every = train_cfg["log_every"], train_cfg["eval_every"]


def training_state(epoch: int, step: int) -> dict:
    return {"model": raw_model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(), "epoch": epoch, "step": step,
            "early_stopping": early_stopping.state_dict(), "best_checkpoint": best_checkpoint.state_dict(),
            "rng": rng_states(), "config": cfg}


metrics.event("start", epochs=epochs, steps_per_epoch=steps_per_epoch, total_steps=total_steps,
              batch_size=data_cfg["batch_size"], grad_accum_steps=accum, device=str(device),
              parameters=sum(p.numel() for p in raw_model.parameters()))

step, epoch, latest = 0, 0, {}
window = {"loss": 0.0, "samples": 0, "steps": 0, "data_time": 0.0, "start": time.perf_counter()}
while epoch < epochs and step < total_steps and not early_stopping.should_stop:
    epoch += 1
    batches = len(train_loader)
    data_start = time.perf_counter()
    for batch_index, (images, labels) in enumerate(train_loader):
        window["data_time"] += time.perf_counter() - data_start
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        # The last accumulation window of an epoch may be short: average over the batches it has.
        window_batches = min(accum, batches - batch_index // accum * accum)
        with autocast:
            loss = criterion(model(images), labels)
        scaler.scale(loss / window_batches).backward()
        window["loss"] += loss.item() * labels.size(0)
        window["samples"] += labels.size(0)
        data_start = time.perf_counter()
        if (batch_index + 1) % accum != 0 and batch_index + 1 != batches:
            continue

        scaler.unscale_(optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(raw_model.parameters(), max_grad_norm)
        step_lr = optimizer.param_groups[0]["lr"]  # the rate this step uses, before the schedule moves it
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        window["steps"] += 1
        if schedule_interval == "step":
            scheduler.step()

        if step % log_every == 0 or batch_index + 1 == batches or step == total_steps:
            elapsed = time.perf_counter() - window["start"]
            metrics.log({"train/loss": window["loss"] / window["samples"],
                         "lr": step_lr,
                         "train/grad_norm": grad_norm,
                         "perf/samples_per_sec": window["samples"] / elapsed,
                         "perf/step_time": elapsed / window["steps"],
                         "perf/data_time": window["data_time"] / window["steps"]},
                        step=step, epoch=epoch)
            window = {"loss": 0.0, "samples": 0, "steps": 0, "data_time": 0.0, "start": time.perf_counter()}
        if step >= total_steps:
            break

    finished = epoch == epochs or step >= total_steps
    if epoch % eval_every == 0 or finished:
        latest.update(evaluate())
        metrics.log({k: v for k, v in latest.items() if k.startswith("val/")}, step=step, epoch=epoch)
        if schedule_interval == "eval":
            scheduler.step(latest[sched_cfg["monitor"]])
        early_stopping.update(latest[early_stopping.metric])
        if checkpoint_cfg["best"] and best_checkpoint.update(latest[best_checkpoint.metric]):
            checkpoints.save("best.pt", training_state(epoch, step), epoch=epoch, step=step,
                             metric=best_checkpoint.metric, value=best_checkpoint.best)
    if schedule_interval == "epoch":
        scheduler.step()
    if checkpoint_cfg["every_epochs"] and epoch % checkpoint_cfg["every_epochs"] == 0:
        checkpoints.save_periodic(epoch, training_state(epoch, step), step=step)
    metrics.event("epoch_end", epoch=epoch, step=step)

if early_stopping.should_stop:
    metrics.event("early_stop", epoch=epoch, step=step, metric=early_stopping.metric, best=early_stopping.best,
                  patience=early_stopping.patience)

# -----------------------------------------------------------------------------
# 6. The last checkpoint: enough to reload the model for analysis or export

checkpoints.save("last.pt", training_state(epoch, step), epoch=epoch, step=step)
metrics.event("end", epoch=epoch, step=step)
metrics.close()
