"""The generated image-classification recipe against a minimal hand-written PyTorch loop.

Same model, data, seed and batch size; the two programs run interleaved, several rounds,
as child processes (as mlx runs a script). Two checks:

- losses: with every step's loss logged, the recipe's losses equal the hand loop's to 5
  decimals (they are computed by the same operations in the same order);
- speed: per optimiser step, over the training loop (evaluation included in both), the
  median overhead of the recipe is under 1%. Evaluation time is measured and left out in
  both (the recipe logs it as perf/eval_time), since a step is what is compared. The recipe runs as users run it (logging
  every 10 steps, TensorBoard on, analysis figures off since they come after training).

Run: `.venv/bin/python bench/parity.py` (or `make bench`). Prints a Markdown section.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
ROUNDS = int(os.environ.get("ROUNDS", "9"))
EPOCHS = int(os.environ.get("EPOCHS", "20"))

HAND_LOOP = r'''
import json, sys, time
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from mlx_runtime import seed_everything

seed, epochs, batch_size, lr, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
generator = seed_everything(seed)
digits = load_digits()
# 8-bit images, as the recipe reads digits (0-16 scaled to 0-255), then floats in [0, 1] as
# torchvision's ToDtype makes them (times 1/255).
images = torch.round(torch.tensor(digits.images, dtype=torch.float32) * 255 / 16).unsqueeze(1) * (1.0 / 255)
labels = torch.tensor(digits.target, dtype=torch.long)
train_idx, val_idx = train_test_split(torch.arange(len(labels)).numpy(), test_size=0.2, random_state=seed,
                                      stratify=labels.numpy())
train_loader = DataLoader(TensorDataset(images[train_idx], labels[train_idx]), batch_size=batch_size, shuffle=True,
                          generator=generator)
val_loader = DataLoader(TensorDataset(images[val_idx], labels[val_idx]), batch_size=batch_size)

def block(i, o):
    return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))

class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(block(1, 32), nn.MaxPool2d(2), block(32, 64), nn.AdaptiveAvgPool2d(1))
    def forward(self, x):
        return self.features(x).flatten(1)

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(64, 10))
    def forward(self, x):
        return self.head(self.backbone(x))

model = Classifier()
optimizer = torch.optim.Adam(model.parameters(), lr=lr)
criterion = nn.CrossEntropyLoss()
losses, step, evaluating = [], 0, 0.0
start = time.time()
for epoch in range(epochs):
    for x, y in train_loader:
        loss = criterion(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        losses.append(loss.item())
    eval_start = time.perf_counter()
    model.eval()
    with torch.no_grad():
        for x, y in val_loader:
            criterion(model(x), y).item()
    model.train()
    evaluating += time.perf_counter() - eval_start
end = time.time()
json.dump({"losses": losses, "seconds": end - start - evaluating, "steps": step}, open(out, "w"))
'''


def resolved_config(extra: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_text("name: parity\ntask: image-classification\nseed: 0\ndata: {batch_size: 64, transforms: {normalize: false}}\n"
                        "model: {dropout: 0.1}\noptim: {name: adam, lr: 0.001}\n"
                        f"train: {{epochs: {EPOCHS}, checkpoint: {{best: false}}, artifacts: false{extra}}}\n")
        result = subprocess.run(["node", str(REPO / "bin" / "run.js"), "validate", str(path), "--json"],
                                capture_output=True, text=True, check=True, env={**os.environ, "NODE_ENV": "production"})
        return json.loads(result.stdout)["valid"][0]["config"]


def run_recipe(config: dict, folder: Path) -> dict:
    (folder / "config.json").write_text(json.dumps(config))
    metrics = folder / "metrics.jsonl"
    metrics.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO / "python"), "MLX_RUN_DIR": str(folder), "MLX_METRICS_FILE": str(metrics)}
    subprocess.run([PYTHON, str(REPO / "templates" / "image-classification" / "train.py"), "--config",
                    str(folder / "config.json")], check=True, env=env, cwd=folder, stdout=subprocess.DEVNULL)
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    start = next(line["t"] for line in lines if line.get("event") == "start")
    end = [line["t"] for line in lines if line.get("event") == "epoch_end"][-1]
    losses = [line["values"]["train/loss"] for line in lines if line["kind"] == "metrics" and "train/loss" in line["values"]]
    steps = max(line["step"] for line in lines if line["kind"] == "metrics")
    evaluating = sum(line["values"].get("perf/eval_time", 0) for line in lines if line["kind"] == "metrics")
    return {"losses": losses, "seconds": end - start - evaluating, "steps": steps}


def run_hand(folder: Path) -> dict:
    out = folder / "hand.json"
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    subprocess.run([PYTHON, "-c", HAND_LOOP, "0", str(EPOCHS), "64", "0.001", str(out)], check=True, env=env, cwd=folder)
    return json.loads(out.read_text())


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="mlx-parity-"))
    every_step = resolved_config(", log_every: 1")
    as_users_run_it = resolved_config("")

    recipe_losses = run_recipe(every_step, folder)["losses"]
    hand_losses = run_hand(folder)["losses"]
    differences = [abs(a - b) for a, b in zip(recipe_losses, hand_losses)]
    same = len(recipe_losses) == len(hand_losses) and all(round(a, 5) == round(b, 5) for a, b in zip(recipe_losses, hand_losses))

    recipe_times, hand_times = [], []
    for round_index in range(ROUNDS):
        # Alternate which goes first, so neither always runs on a warmer machine.
        pair = [("recipe", lambda: run_recipe(as_users_run_it, folder)), ("hand", lambda: run_hand(folder))]
        for name, run in (pair if round_index % 2 == 0 else pair[::-1]):
            result = run()
            (recipe_times if name == "recipe" else hand_times).append(result["seconds"] / result["steps"])
    recipe_step, hand_step = statistics.median(recipe_times), statistics.median(hand_times)
    overhead = recipe_step / hand_step - 1
    ratios = sorted(r / h - 1 for r, h in zip(recipe_times, hand_times))

    print(f"""### Recipe against a hand-written loop (image-classification, digits, {EPOCHS} epochs, batch 64, seed 0)

{ROUNDS} interleaved rounds, each program a fresh process; time per optimiser step over the training loop, evaluation time left out of both.

| | value |
| --- | ---: |
| steps compared | {len(recipe_losses)} (hand loop: {len(hand_losses)}) |
| losses equal to 5 decimals | {"yes" if same else "NO"} (largest difference {max(differences, default=0):.2e}) |
| hand loop, median step | {hand_step * 1000:.3f} ms |
| recipe, median step | {recipe_step * 1000:.3f} ms |
| median overhead | {overhead * 100:+.2f}% (goal: under 1%) |
| per-round overheads | {", ".join(f"{r * 100:+.1f}%" for r in ratios)} |
""")


if __name__ == "__main__":
    main()
