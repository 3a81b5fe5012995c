"""Image classification: a small CNN on scikit-learn's bundled `digits` set.

The guide's method, top to bottom:
  1. data       digits (1,797 greyscale 8x8 images, ships with scikit-learn, no download),
                split into train/val with a fixed seed, pixels scaled to [0, 1]
  2. model      Backbone (two conv blocks, adaptive pooling) + linear Classifier head
  3. loss       cross-entropy (optional label smoothing); metrics: loss and accuracy
  4. optimiser  SGD (momentum, Nesterov), Adam or AdamW; schedule: none or StepLR
  5. loop       mini-batch epochs; train metrics every `train.log_every` steps,
                validation every `train.eval_every` epochs
  6. output     metrics.jsonl (mlx ingests it into SQLite as it trains) and a
                final checkpoint with the model, optimiser and the config

Every value comes from the resolved config (JSON), read as data.

Run it through mlx:  mlx run configs/image-classification.yaml
Run it by hand:      python train.py --config config.json   (metrics go to ./metrics.jsonl
                     unless MLX_METRICS_FILE says otherwise; needs mlx's python/ on PYTHONPATH)
"""

import argparse
import os
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from mlx_runtime import MetricsWriter, load_config, seed_everything, select_device

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--config", help="resolved config (JSON); default: $MLX_CONFIG_FILE")
args = parser.parse_args()
cfg = load_config(args.config)
data_cfg, model_cfg, optim_cfg, train_cfg = cfg["data"], cfg["model"], cfg["optim"], cfg["train"]
run_dir = Path(os.environ.get("MLX_RUN_DIR", "."))

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


model = Classifier(Backbone(1, model_cfg["channels"]), num_classes, model_cfg["dropout"]).to(device)

# -----------------------------------------------------------------------------
# 3. Loss and metrics

criterion = nn.CrossEntropyLoss(label_smoothing=cfg["loss"]["label_smoothing"])


@torch.no_grad()
def evaluate() -> dict:
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for images, labels in val_loader:
        images, labels = images.to(device), labels.to(device)
        logits = model(images)
        total_loss += criterion(logits, labels).item() * labels.size(0)
        correct += (logits.argmax(dim=1) == labels).sum().item()
        count += labels.size(0)
    model.train()
    return {"val/loss": total_loss / count, "val/acc": correct / count}


# -----------------------------------------------------------------------------
# 4. Optimiser and schedule

optimizers = {
    "sgd": lambda params: torch.optim.SGD(params, lr=optim_cfg["lr"], momentum=optim_cfg["momentum"],
                                          nesterov=optim_cfg["nesterov"],
                                          weight_decay=optim_cfg["weight_decay"]),
    "adam": lambda params: torch.optim.Adam(params, lr=optim_cfg["lr"], betas=optim_cfg["betas"],
                                            weight_decay=optim_cfg["weight_decay"]),
    "adamw": lambda params: torch.optim.AdamW(params, lr=optim_cfg["lr"], betas=optim_cfg["betas"],
                                              weight_decay=optim_cfg["weight_decay"]),
}
optimizer = optimizers[optim_cfg["name"]](model.parameters())

sched_cfg = cfg["scheduler"]
schedulers = {
    # "none" keeps one code path: a constant factor of 1 leaves the learning rate as it is.
    "none": lambda: torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0),
    "step": lambda: torch.optim.lr_scheduler.StepLR(optimizer, step_size=sched_cfg["step_size"],
                                                    gamma=sched_cfg["gamma"]),
}
scheduler = schedulers[sched_cfg["name"]]()  # stepped once per epoch

# -----------------------------------------------------------------------------
# 5. Training loop

epochs, log_every, eval_every = train_cfg["epochs"], train_cfg["log_every"], train_cfg["eval_every"]
steps_per_epoch = len(train_loader)
metrics.event("start", epochs=epochs, steps_per_epoch=steps_per_epoch,
              total_steps=epochs * steps_per_epoch, batch_size=data_cfg["batch_size"],
              device=str(device), parameters=sum(p.numel() for p in model.parameters()))

step = 0
window_loss, window_samples, window_start = 0.0, 0, time.perf_counter()
for epoch in range(1, epochs + 1):
    for images, labels in train_loader:
        images, labels = images.to(device), labels.to(device)
        loss = criterion(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1

        window_loss += loss.item() * labels.size(0)
        window_samples += labels.size(0)
        if step % log_every == 0 or step == epoch * steps_per_epoch:
            elapsed = time.perf_counter() - window_start
            metrics.log({"train/loss": window_loss / window_samples,
                         "lr": optimizer.param_groups[0]["lr"],
                         "perf/samples_per_sec": window_samples / elapsed},
                        step=step, epoch=epoch)
            window_loss, window_samples, window_start = 0.0, 0, time.perf_counter()

    scheduler.step()
    if epoch % eval_every == 0 or epoch == epochs:
        metrics.log(evaluate(), step=step, epoch=epoch)
    metrics.event("epoch_end", epoch=epoch, step=step)

# -----------------------------------------------------------------------------
# 6. Checkpoint: enough to reload the model for analysis or export

checkpoint_path = run_dir / "checkpoints" / "last.pt"
checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "epoch": epochs, "step": step, "config": cfg}, checkpoint_path)
metrics.event("checkpoint", path=str(checkpoint_path.relative_to(run_dir)), epoch=epochs, step=step)
metrics.event("end", epoch=epochs, step=step)
metrics.close()
