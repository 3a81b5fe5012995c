"""Tabular classification or regression: an MLP on a table of numeric and categorical columns.

The guide's method, top to bottom:
  1. data       scikit-learn's bundled `wine` (178 wines, 13 measurements, 3 cultivars) or
                `diabetes` (442 patients, 10 measurements, disease progression), or a CSV of
                yours: named feature and target columns; a column with any non-numeric value (or
                listed in data.categorical) is categorical. Split with a fixed seed (stratified
                for classification) unless data.val_path gives validation rows. Numeric columns
                are standardised and missing values filled with statistics of the training rows
                only; a regression target is standardised the same way (metrics are reported in
                its own units). Bad rows are errors naming the file and the line.
  2. model      MLP: per categorical column a learned embedding (or one-hot), concatenated with the
                numeric columns, then Linear -> BatchNorm -> ReLU -> Dropout per hidden width, then a
                linear head (classes, or one number)
  3. loss       cross-entropy (label smoothing) for classification; MSE, MAE (L1) or Huber for
                regression. Metrics: loss, accuracy and macro-F1, or RMSE, MAE and R2
  4. optimiser  Adam, AdamW or SGD; schedules: none, step, multistep, cosine, warmup_cosine,
                onecycle, plateau (mlx_runtime.build_optimizer / build_scheduler)
  5. loop       mixed precision, gradient accumulation, clipping, a step limit, train metrics every
                `train.log_every` steps, validation every `train.eval_every` epochs, early stopping;
                a loss that is not finite or explodes (train.divergence) stops the run (diverged); Ctrl-C or SIGTERM saves a checkpoint;
                data-parallel under torchrun (DDP, a DistributedSampler reshuffled each epoch,
                validation over every rank's share, rank 0 alone writing metrics and checkpoints)
  6. output     metrics.jsonl and TensorBoard; checkpoints (periodic, best, last, on interrupt) with
                the model, optimiser, schedule, RNG states and the preprocessing (column statistics,
                category vocabularies, class names), so `--resume` continues exactly and a
                checkpoint alone can turn new rows into predictions
  7. analysis   classification: the confusion matrix and per-class F1; regression: predicted
                against true values (PNG)

Every value comes from the resolved config (JSON), read as data.

Run it through mlx:  mlx run configs/tabular.yaml          (wine)
                     mlx run configs/tabular-diabetes.yaml (diabetes)
                     mlx run configs/tabular.yaml --set launch.launcher=torchrun --set launch.nproc_per_node=2
Run it by hand:      python train.py --config config.json   (needs mlx's python/ on PYTHONPATH)
"""

import math
import time
from collections import Counter

import numpy as np
import torch
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, Subset, TensorDataset

from mlx_runtime import (
    DataError,
    TrainingLoop,
    build_optimizer,
    check_columns,
    compile_model,
    holdout_split,
    read_csv_table,
    save_confusion_matrix,
    save_embedding,
    save_predicted_vs_true,
    save_predictions,
    start_run,
    validation_inputs,
)

run = start_run(__doc__)  # the config, seeds, this process among torchrun's, the checkpoint to go on from
cfg, world, device, metrics = run.cfg, run.world, run.device, run.metrics
data_cfg, model_cfg, train_cfg = cfg["data"], cfg["model"], cfg["train"]
run_dir = run.run_dir
classification = data_cfg["kind"] == "classification"
loader_generator = run.generator  # draws the DataLoader's worker seeds, reseeded at each epoch

# -----------------------------------------------------------------------------
# 1. Data
#
# A table is a dict of columns (name -> list of raw values) plus where each row came from
# (file, line), so that a bad value can be reported where the user can find it.


class Table:
    def __init__(self, columns: dict, origins: list):
        self.columns, self.origins = columns, origins

    def rows(self, indices) -> "Table":
        return Table({name: [values[i] for i in indices] for name, values in self.columns.items()},
                     [self.origins[i] for i in indices])

    def __len__(self) -> int:
        return len(self.origins)


def bundled_table(name: str):
    """wine or diabetes from scikit-learn's own files (no download): the table, its features and target."""
    from sklearn.datasets import load_diabetes, load_wine

    bunch = {"wine": load_wine, "diabetes": load_diabetes}[name]()
    features = list(bunch.feature_names)
    columns = {feature: bunch.data[:, i].tolist() for i, feature in enumerate(features)}
    target_names = getattr(bunch, "target_names", None)
    columns["target"] = [str(target_names[t]) for t in bunch.target] if name == "wine" else bunch.target.tolist()
    return Table(columns, [(name, None)] * len(bunch.target)), features, "target"


def csv_table(path: str, target: str, features, delimiter: str):
    """A CSV with a header: the target column and the features (default: every other column)."""
    header, rows = read_csv_table(path, required=[target] + list(features or []), delimiter=delimiter)
    features = list(features) if features else [name for name in header if name != target]
    index = check_columns(path, header, features + [target])
    columns = {name: [fields[index[name]].strip() for _, fields in rows] for name in features + [target]}
    return Table(columns, [(path, line) for line, _ in rows]), features, target


def is_number(text) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def numeric_column(values: list, name: str, origins: list) -> np.ndarray:
    """Floats, with blanks as NaN (filled later with the training mean)."""
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        if value == "" or value is None:
            out[i] = np.nan
            continue
        try:
            out[i] = float(value)
        except ValueError:
            path, line = origins[i]
            raise DataError(path, f"column {name!r}: {value!r} is not a number", row=line) from None
    return out


if data_cfg["source"] == "csv":
    table, feature_names, target_name = csv_table(data_cfg["path"], data_cfg["target"], data_cfg["features"],
                                                  data_cfg["delimiter"])
    val_table = (csv_table(data_cfg["val_path"], target_name, feature_names, data_cfg["delimiter"])[0]
                 if data_cfg["val_path"] else None)
else:
    table, feature_names, target_name = bundled_table(data_cfg["source"])
    val_table = None

if val_table is None:
    # Stratify when every class has two rows at least; otherwise a plain split (a class seen
    # only in validation is then reported below, with its row).
    labels = table.columns[target_name]
    stratify = labels if classification and min(Counter(labels).values()) >= 2 else None
    train_idx, val_idx = holdout_split(len(table), stratify, data_cfg, cfg["seed"])
    train_table, val_table = table.rows(train_idx), table.rows(val_idx)
else:
    train_table = table

# Which features are categorical: named in the config, or holding any non-numeric value.
declared = set(data_cfg.get("categorical", []))
categorical_names = [name for name in feature_names
                     if name in declared or not all(v == "" or is_number(v) for v in train_table.columns[name])]
numeric_names = [name for name in feature_names if name not in categorical_names]


def fit_preprocessing(train: Table) -> dict:
    """Everything learned from the training rows only: column statistics, vocabularies, classes."""
    numeric = np.stack([numeric_column(train.columns[n], n, train.origins) for n in numeric_names], axis=1) \
        if numeric_names else np.zeros((len(train), 0))
    mean = np.nanmean(numeric, axis=0) if numeric_names else np.zeros(0)
    std = np.nanstd(numeric, axis=0) if numeric_names else np.zeros(0)
    # Index 0 of each vocabulary is for a category never seen in training.
    vocabularies = {name: ["<unknown>"] + sorted({str(v) for v in train.columns[name]}) for name in categorical_names}
    state = {"numeric": numeric_names, "mean": np.nan_to_num(mean).tolist(),
             "std": [s if s > 0 else 1.0 for s in np.nan_to_num(std, nan=1.0)],
             "categorical": categorical_names, "vocabularies": vocabularies, "target": target_name}
    if classification:
        state["classes"] = sorted({str(v) for v in train.columns[target_name]})
    else:
        target = regression_target(train, target_name)
        state["target_mean"], state["target_std"] = float(target.mean()), float(target.std() or 1.0)
    return state


def regression_target(part: Table, name: str) -> np.ndarray:
    values = numeric_column(part.columns[name], name, part.origins)
    blank = np.isnan(values)
    if blank.any():
        path, line = part.origins[int(blank.argmax())]
        raise DataError(path, f"column {name!r}: the target is blank", row=line)
    return values


def encode(part: Table, prep: dict) -> TensorDataset:
    """Rows -> (standardised numeric features, category indices, target) tensors."""
    numeric = np.stack([numeric_column(part.columns[n], n, part.origins) for n in prep["numeric"]], axis=1) \
        if prep["numeric"] else np.zeros((len(part), 0))
    numeric = np.where(np.isnan(numeric), np.asarray(prep["mean"]), numeric)
    numeric = (numeric - np.asarray(prep["mean"])) / np.asarray(prep["std"])
    lookups = [{value: i for i, value in enumerate(prep["vocabularies"][name])} for name in prep["categorical"]]
    categories = np.array([[lookup.get(str(v), 0) for v in part.columns[name]]
                           for name, lookup in zip(prep["categorical"], lookups)], dtype=np.int64).T \
        .reshape(len(part), len(prep["categorical"]))
    if classification:
        class_index = {name: i for i, name in enumerate(prep["classes"])}
        targets = []
        for value, (path, line) in zip(part.columns[prep["target"]], part.origins):
            if str(value) not in class_index:
                raise DataError(path, f"label {value!r} of column {prep['target']!r} never appears in the training rows",
                                row=line, hint=f"the training labels are {', '.join(prep['classes'])}")
            targets.append(class_index[str(value)])
        target = torch.tensor(targets, dtype=torch.long)
    else:
        values = regression_target(part, prep["target"])
        target = torch.tensor((values - prep["target_mean"]) / prep["target_std"], dtype=torch.float32)
    return TensorDataset(torch.tensor(numeric, dtype=torch.float32), torch.from_numpy(categories), target)


preprocessing = run.resume_from["preprocessing"] if run.resume_from else fit_preprocessing(train_table)
train_set, val_set = encode(train_table, preprocessing), encode(val_table, preprocessing)
outputs = len(preprocessing["classes"]) if classification else 1
pin_memory = device.type == "cuda" if data_cfg["pin_memory"] == "auto" else data_cfg["pin_memory"]
loader_options = dict(batch_size=data_cfg["batch_size"], num_workers=data_cfg["num_workers"], pin_memory=pin_memory)
# Each rank trains on its part of a shuffle drawn from (seed, epoch) and validates its share of the rows.
train_sampler = DistributedSampler(train_set, num_replicas=world.world_size, rank=world.rank, shuffle=True,
                                   seed=cfg["seed"])
# Batch norm cannot train on a batch of one row: drop a last batch of one.
train_loader = DataLoader(train_set, sampler=train_sampler, generator=loader_generator,
                          drop_last=len(train_sampler) % data_cfg["batch_size"] == 1, **loader_options)
val_loader = DataLoader(Subset(val_set, world.shard(range(len(val_set)))), shuffle=False, **loader_options)

# -----------------------------------------------------------------------------
# 2. Model


class TabularMLP(nn.Module):
    """Categorical columns embedded (or one-hot) and concatenated with the numeric ones, then an MLP."""

    def __init__(self, numeric: int, vocabulary_sizes: list, hidden: list, outputs: int, dropout: float,
                 batch_norm: bool, categorical: str, embedding_dim):
        super().__init__()
        self.one_hot_sizes = vocabulary_sizes if categorical == "onehot" else []
        dims = [embedding_dim or min(16, (size + 1) // 2) for size in vocabulary_sizes]
        self.embeddings = nn.ModuleList(nn.Embedding(size, dim) for size, dim in zip(vocabulary_sizes, dims)) \
            if categorical == "embedding" else nn.ModuleList()
        width = numeric + (sum(dims) if categorical == "embedding" else sum(vocabulary_sizes))
        layers = []
        for size in hidden:
            layers += [nn.Linear(width, size), nn.BatchNorm1d(size) if batch_norm else nn.Identity(), nn.ReLU(),
                       nn.Dropout(dropout)]
            width = size
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, outputs)

    def forward(self, numeric: torch.Tensor, categories: torch.Tensor) -> torch.Tensor:
        parts = [numeric]
        parts += [embed(categories[:, i]) for i, embed in enumerate(self.embeddings)]
        parts += [nn.functional.one_hot(categories[:, i], size).float() for i, size in enumerate(self.one_hot_sizes)]
        return self.head(self.body(torch.cat(parts, dim=1)))


raw_model = TabularMLP(len(preprocessing["numeric"]),
                       [len(preprocessing["vocabularies"][name]) for name in preprocessing["categorical"]],
                       model_cfg["hidden"], outputs, model_cfg["dropout"], model_cfg["batch_norm"],
                       model_cfg["categorical"], model_cfg["embedding_dim"]).to(device)
compiled = compile_model(raw_model, train_cfg["compile"])  # evaluates; trains inside DDP with several processes
model = world.wrap(compiled)

# -----------------------------------------------------------------------------
# 3. Loss and metrics

loss_cfg = cfg["loss"]
regression_losses = {"mse": nn.MSELoss(), "mae": nn.L1Loss(), "huber": nn.HuberLoss(delta=loss_cfg["huber_delta"])}
criterion = (nn.CrossEntropyLoss(label_smoothing=loss_cfg["label_smoothing"]) if classification
             else regression_losses[loss_cfg["name"]])
autocast = run.autocast  # train.amp: bf16 or fp16 autocast, or nothing at all


def loss_of(outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return criterion(outputs.float(), target) if classification else criterion(outputs.float().squeeze(1), target)


@torch.no_grad()
def predict(loader: DataLoader):
    """Mean loss over the validation rows, with every target and prediction (classes, or values in the target's
    units): each rank predicts its share with rank 0's weights and statistics, the shares gathered on every rank."""
    world.broadcast_buffers(raw_model)
    compiled.eval()
    total_loss, targets, predictions = 0.0, [], []
    for numeric, categories, target in loader:
        numeric, categories, target = numeric.to(device), categories.to(device), target.to(device)
        with autocast:
            out = compiled(numeric, categories)
        total_loss += loss_of(out, target).item() * target.size(0)
        targets.append(target.cpu())
        predictions.append(out.float().argmax(dim=1).cpu() if classification else out.float().squeeze(1).cpu())
    compiled.train()
    total_loss, count = world.sum(total_loss, len(loader.dataset))
    targets, predictions = world.gather(torch.cat(targets)).numpy(), world.gather(torch.cat(predictions)).numpy()
    if not classification:
        targets = targets * preprocessing["target_std"] + preprocessing["target_mean"]
        predictions = predictions * preprocessing["target_std"] + preprocessing["target_mean"]
    return total_loss / count, targets, predictions


def evaluate() -> dict:
    started = time.perf_counter()
    loss, targets, predictions = predict(val_loader)
    if classification:
        scores = {"val/acc": accuracy_score(targets, predictions),
                  "val/f1": f1_score(targets, predictions, average="macro", zero_division=0)}
    else:
        scores = {"val/rmse": math.sqrt(mean_squared_error(targets, predictions)),
                  "val/mae": mean_absolute_error(targets, predictions), "val/r2": r2_score(targets, predictions)}
    return {"val/loss": loss, **scores, "perf/eval_time": time.perf_counter() - started}


# -----------------------------------------------------------------------------
# 4. Optimiser and schedule

optimizer = build_optimizer(cfg["optim"], model.parameters())
# The schedule (per step, epoch or evaluation), AMP's gradient scaler, early stopping, checkpoints.
loop = TrainingLoop(run, raw_model, optimizer, batches_per_epoch=len(train_loader),
                    extra_state=lambda: {"preprocessing": preprocessing},
                    example_inputs=validation_inputs(val_set))  # mlx export checks on validation rows

# -----------------------------------------------------------------------------
# 5. Training loop

loop.start(train_rows=len(train_set), val_rows=len(val_set), numeric_columns=preprocessing["numeric"],
           categorical_columns=preprocessing["categorical"])
for epoch in loop.epochs():
    # Each rank trains on its own part of a shuffle drawn from (seed, epoch): a resumed run draws the same.
    train_sampler.set_epoch(epoch)
    loader_generator.manual_seed(cfg["seed"] + epoch)
    for numeric, categories, target in loop.batches(train_loader):
        numeric, categories, target = (numeric.to(device, non_blocking=True), categories.to(device, non_blocking=True),
                                       target.to(device, non_blocking=True))
        with loop.accumulating(model):
            with autocast:
                loss = loss_of(model(numeric, categories), target)
            loop.backward(loss, samples=target.size(0))
        loop.optimizer_step()
    loop.end_epoch(evaluate)

# -----------------------------------------------------------------------------
# 6. The last checkpoint (before the analysis, whose pass over the data a resumed run must not see)

loop.finish()

# -----------------------------------------------------------------------------
# 7. Analysis

if train_cfg["artifacts"]:
    _, targets, predictions = predict(val_loader)  # on every rank: each predicts its share
if train_cfg["artifacts"] and world.is_main:
    if classification:
        classes = preprocessing["classes"]
        matrix = confusion_matrix(targets, predictions, labels=list(range(len(classes))))
        save_confusion_matrix(matrix, classes, run_dir / "confusion_matrix.png")
        save_predictions(run_dir / "predictions.npz", targets, predictions, classes)  # mlx card's intervals
        save_embedding(raw_model, loop.example_inputs, len(val_set), targets, classes, run_dir, cfg["analysis"],
                       metrics, loop.step, cfg["seed"], device)  # analysis.embeddings
        per_class = f1_score(targets, predictions, labels=list(range(len(classes))), average=None, zero_division=0)
        metrics.event("confusion_matrix", labels=classes, matrix=matrix.tolist(), step=loop.step,
                      per_class_f1=dict(zip(classes, per_class.tolist())), artifacts=["confusion_matrix.png"])
    else:
        save_predicted_vs_true(targets, predictions, run_dir / "predicted_vs_true.png", preprocessing["target"])
        save_predictions(run_dir / "predictions.npz", targets, predictions)  # mlx card's intervals
        metrics.event("predictions", step=loop.step, artifacts=["predicted_vs_true.png"])

loop.close()
