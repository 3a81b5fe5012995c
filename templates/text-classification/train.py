"""Text classification: the guide's EmbeddingBag baseline, a TextCNN or a BiLSTM over word tokens.

The guide's method, top to bottom:
  1. data       topics of quotations from Debian's fortunes package (one class per topic file,
                offline), or your files: CSV with a text and a label column, JSON Lines, or the
                AG_NEWS CSV layout (class index, title, description). Split with a fixed seed
                (stratified) unless data.val_path gives validation texts. Bad rows are errors
                naming the file and the line.
  2. tokens     a basic English tokenizer (lower-case, a regular expression for a token, the
                first data.tokenizer.max_length kept); a vocabulary built from the training texts only
                (data.vocab.min_freq, data.vocab.max_size, <pad> and <unk>), saved with every checkpoint
  3. model      embedding_bag: token embeddings averaged by nn.EmbeddingBag over one flat batch
                with offsets (no padding), plainly or weighted by each token's idf in the
                training texts (model.pooling), then linear; textcnn: convolutions of several widths,
                max-pooled; bilstm: a bidirectional LSTM over packed sequences, mean-pooled;
                huggingface: a transformers model and its own tokenizer from a local folder
                (model.hf_path, read from disk only), with a new classification head
  4. loss       cross-entropy (label smoothing); metrics: loss, accuracy, macro-F1; at the end
                per-class F1 and the confusion matrix
  5. optimiser  Adam, AdamW or SGD and the seven schedules (mlx_runtime.build_optimizer /
                build_scheduler)
  6. loop       mixed precision, gradient accumulation, clipping, a step limit, early stopping, a
                loss that is not finite or explodes (train.divergence) stops the run (diverged), Ctrl-C saves a checkpoint; `--resume`
                continues exactly

Every value comes from the resolved config (JSON), read as data.

Run it through mlx:  mlx run configs/text-classification.yaml
Run it by hand:      python train.py --config config.json   (needs mlx's python/ on PYTHONPATH)
"""

import json
import re
import time
from collections import Counter
from pathlib import Path

import torch
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from torch import nn
from torch.utils.data import DataLoader

from mlx_runtime import (
    DataError,
    PaddedBiLSTM,
    TrainingLoop,
    build_optimizer,
    check_columns,
    class_weights,
    compile_model,
    holdout_split,
    read_csv_rows,
    read_csv_table,
    save_confusion_matrix,
    save_embedding,
    save_predictions,
    save_worst_samples,
    start_run,
    validation_inputs,
)

run = start_run(__doc__)  # the config, seeds, the device, the checkpoint to go on from, metrics
cfg, device, metrics = run.cfg, run.device, run.metrics
data_cfg, model_cfg, train_cfg = cfg["data"], cfg["model"], cfg["train"]
run_dir = run.run_dir
shuffle_generator = run.generator  # shuffles the training data: a checkpoint holds its state at the epoch's start

# -----------------------------------------------------------------------------
# 1. Data: (text, label, where) triples; `where` is (file, line) for error messages.


def fortunes(directory: str, topics: list) -> list:
    """Each topic file of Debian's fortunes package is a class; its quotations (separated by % lines) the texts."""
    examples = []
    for topic in topics:
        path = Path(directory) / topic
        if not path.is_file():
            raise DataError(path, "no such fortunes topic file",
                            hint="install Debian's fortunes package (apt-get install fortunes), or set data.directory")
        line = 1
        for quotation in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            if quotation.strip():
                examples.append((quotation.strip(), topic, (str(path), line)))
            line += quotation.count("\n") + 2
    return examples


def csv_texts(path: str) -> list:
    text_column, label_column = data_cfg["text_column"], data_cfg["label_column"]
    header, rows = read_csv_table(path, required=[text_column, label_column], delimiter=data_cfg["delimiter"])
    index = check_columns(path, header, [text_column, label_column])
    return [(fields[index[text_column]], fields[index[label_column]].strip(), (path, line)) for line, fields in rows]


def jsonl_texts(path: str) -> list:
    if not Path(path).is_file():
        raise DataError(path, "no such file", hint=f"relative data paths start at the project root, {Path.cwd()}")
    examples = []
    text_field, label_field = data_cfg["text_field"], data_cfg["label_field"]
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(path, f"not valid JSON: {error.msg} at column {error.colno}", row=line_number) from None
            missing = [field for field in (text_field, label_field) if not isinstance(record, dict) or field not in record]
            if missing:
                raise DataError(path, f"no field {missing[0]!r} in this record", row=line_number,
                                hint="data.text_field and data.label_field name the fields")
            examples.append((str(record[text_field]), str(record[label_field]), (path, line_number)))
    if not examples:
        raise DataError(path, "the file is empty: expected one JSON object per line")
    return examples


def ag_news_texts(path: str) -> list:
    """AG_NEWS: no header; class index (1-4), title, description."""
    return [(f"{title} {description}", label.strip(), (path, line))
            for line, (label, title, description) in read_csv_rows(path, fields=3)]


def load_texts(path: str) -> list:
    return {"csv": csv_texts, "jsonl": jsonl_texts, "ag_news": ag_news_texts}[data_cfg["source"]](path)


if data_cfg["source"] == "fortunes":
    examples, val_examples = fortunes(data_cfg["directory"], data_cfg["topics"]), None
else:
    examples = load_texts(data_cfg["path"])
    val_examples = load_texts(data_cfg["val_path"]) if data_cfg["val_path"] else None
if val_examples is None:
    labels = [label for _, label, _ in examples]
    stratify = labels if min(Counter(labels).values()) >= 2 else None
    train_idx, val_idx = holdout_split(len(examples), stratify, data_cfg, cfg["seed"])
    train_examples, val_examples = [examples[i] for i in train_idx], [examples[i] for i in val_idx]
else:
    train_examples = examples

# -----------------------------------------------------------------------------
# 2. Tokens and the vocabulary (from the training texts only), or a Hugging Face model's tokenizer

token_pattern = re.compile(data_cfg["tokenizer"]["pattern"])
huggingface = model_cfg["arch"] == "huggingface"


def pretrained_tokenizer():
    """The tokenizer saved beside a Hugging Face model (model.hf_path), read from disk only."""
    path = Path(model_cfg["hf_path"])
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise DataError(path, "model.arch huggingface needs the transformers package, which this Python lacks",
                        hint="pip install transformers into the environment that trains (mlx doctor names it)") from None
    if not (path / "config.json").is_file():
        raise DataError(path, "not a saved Hugging Face model (no config.json)",
                        hint="a folder written by save_pretrained: config, weights and tokenizer files")
    return AutoTokenizer.from_pretrained(path, local_files_only=True)


def tokenize(text: str) -> list:
    text = text.lower() if data_cfg["tokenizer"]["lowercase"] else text
    return token_pattern.findall(text)[:data_cfg["tokenizer"]["max_length"]]


hf_tokenizer = pretrained_tokenizer() if huggingface else None
UNK = 1
PAD = hf_tokenizer.pad_token_id if huggingface else 0


def build_vocabulary(texts) -> list:
    counts = Counter(token for text in texts for token in tokenize(text))
    vocab_cfg = data_cfg["vocab"]
    kept = [token for token, count in counts.most_common(vocab_cfg["max_size"]) if count >= vocab_cfg["min_freq"]]
    return ["<pad>", "<unk>"] + kept


# A Hugging Face model brings its own vocabulary (in hf_path); the others build theirs.
vocabulary = (run.resume_from["vocabulary"] if run.resume_from else
              [] if huggingface else build_vocabulary(text for text, _, _ in train_examples))
classes = run.resume_from["classes"] if run.resume_from else sorted({label for _, label, _ in train_examples})
token_ids = {token: i for i, token in enumerate(vocabulary)}
class_ids = {label: i for i, label in enumerate(classes)}


def encode(part: list) -> list:
    """(token ids, class id) per text; a label the training texts never had is an error at its line."""
    encoded = []
    for text, label, (path, line) in part:
        if label not in class_ids:
            raise DataError(path, f"label {label!r} never appears in the training texts", row=line,
                            hint=f"the training labels are {', '.join(classes)}")
        max_length = data_cfg["tokenizer"]["max_length"]
        ids = (hf_tokenizer(text, truncation=True, max_length=max_length)["input_ids"] if huggingface
               else [token_ids.get(token, UNK) for token in tokenize(text)] or [UNK])  # an empty text: one unknown token
        encoded.append((ids, class_ids[label]))
    return encoded


train_set, val_set = encode(train_examples), encode(val_examples)


def offsets_batch(batch):
    """EmbeddingBag's input: every text's ids in one flat tensor, and where each text starts."""
    flat = torch.tensor([token for ids, _ in batch for token in ids], dtype=torch.long)
    offsets = torch.tensor([0] + [len(ids) for ids, _ in batch[:-1]], dtype=torch.long).cumsum(0)
    return (flat, offsets), torch.tensor([label for _, label in batch])


def padded_batch(batch):
    """Texts padded with <pad> to the longest in the batch, with their lengths."""
    lengths = torch.tensor([len(ids) for ids, _ in batch])
    padded = torch.full((len(batch), int(lengths.max())), PAD, dtype=torch.long)
    for row, (ids, _) in enumerate(batch):
        padded[row, :len(ids)] = torch.tensor(ids)
    return (padded, lengths), torch.tensor([label for _, label in batch])


collate = offsets_batch if model_cfg["arch"] == "embedding_bag" else padded_batch
pin_memory = device.type == "cuda" if data_cfg["pin_memory"] == "auto" else data_cfg["pin_memory"]
loader_options = dict(batch_size=data_cfg["batch_size"], num_workers=data_cfg["num_workers"], pin_memory=pin_memory,
                      collate_fn=collate)
train_loader = DataLoader(train_set, shuffle=True, generator=shuffle_generator, **loader_options)
val_loader = DataLoader(val_set, shuffle=False, **loader_options)


def to_device(inputs: tuple) -> tuple:
    return tuple(t.to(device, non_blocking=True) for t in inputs)


# -----------------------------------------------------------------------------
# 3. Model


class BagOfEmbeddings(nn.Module):
    """The guide's baseline: a weighted mean of a text's token embeddings (EmbeddingBag, offsets batching), then
    linear. The weights are a buffer saved with the model: all ones (a plain mean), or each token's idf."""

    def __init__(self, vocabulary_size: int, dim: int, num_classes: int, dropout: float, token_weights: torch.Tensor):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocabulary_size, dim, mode="sum")
        self.register_buffer("token_weights", token_weights.float())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, num_classes))

    def forward(self, flat: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        weights = self.token_weights[flat]
        # Each text's total weight, by the same offsets: a sum bag over the weights as one-wide embeddings.
        totals = nn.functional.embedding_bag(flat, self.token_weights.unsqueeze(1), offsets, mode="sum")
        return self.head(self.embedding(flat, offsets, per_sample_weights=weights) / totals)


class TextCNN(nn.Module):
    """Convolutions of several widths over the token embeddings, each max-pooled over the text."""

    def __init__(self, vocabulary_size: int, dim: int, num_classes: int, dropout: float, kernel_sizes: list,
                 filters: int):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary_size, dim, padding_idx=PAD)
        self.widest = max(kernel_sizes)
        self.convolutions = nn.ModuleList(nn.Conv1d(dim, filters, width) for width in kernel_sizes)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(filters * len(kernel_sizes), num_classes))

    def forward(self, padded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if padded.size(1) < self.widest:  # texts shorter than the widest filter: pad them up to it
            padded = nn.functional.pad(padded, (0, self.widest - padded.size(1)), value=PAD)
        embedded = self.embedding(padded).transpose(1, 2)
        pooled = [torch.relu(convolution(embedded)).amax(dim=2) for convolution in self.convolutions]
        return self.head(torch.cat(pooled, dim=1))


class BiLSTM(nn.Module):
    """A bidirectional LSTM over the texts (padding never seen: each read within its length, as if packed), its
    outputs averaged over each text."""

    def __init__(self, vocabulary_size: int, dim: int, num_classes: int, dropout: float, hidden: int):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary_size, dim, padding_idx=PAD)
        self.lstm = PaddedBiLSTM(dim, hidden)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden, num_classes))

    def forward(self, padded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        outputs = self.lstm(self.embedding(padded), lengths)
        mean = outputs.sum(dim=1) / lengths.to(outputs.device).unsqueeze(1)
        return self.head(mean)


class PretrainedClassifier(nn.Module):
    """A transformers model from model.hf_path with a new sequence-classification head for our classes."""

    def __init__(self, path: str, num_classes: int):
        super().__init__()
        from transformers import AutoModelForSequenceClassification

        try:
            self.net = AutoModelForSequenceClassification.from_pretrained(
                path, num_labels=num_classes, local_files_only=True, ignore_mismatched_sizes=True)
        except OSError as error:
            raise DataError(path, f"cannot load the model: {error}", hint="its weights file is missing or unreadable") from None

    def forward(self, padded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = torch.arange(padded.size(1), device=padded.device)[None, :] < lengths.to(padded.device)[:, None]
        return self.net(input_ids=padded, attention_mask=mask.long()).logits


def inverse_document_frequency(encoded: list, size: int) -> torch.Tensor:
    """log((1 + n) / (1 + df)) + 1 per token id over the n training texts, as scikit-learn's TfidfVectorizer: a
    token in every text weighs 1, a rare one up to 1 + log(n). <unk> counts as one token."""
    document_frequency = torch.zeros(size)
    for ids, _ in encoded:
        document_frequency[torch.tensor(sorted(set(ids)))] += 1
    return torch.log((1 + len(encoded)) / (1 + document_frequency)) + 1


def build_model() -> nn.Module:
    size, dim, dropout = len(vocabulary), model_cfg["embed_dim"], model_cfg["dropout"]
    if model_cfg["arch"] == "embedding_bag":
        token_weights = (inverse_document_frequency(train_set, size) if model_cfg["pooling"] == "idf"
                         else torch.ones(size))
        return BagOfEmbeddings(size, dim, len(classes), dropout, token_weights)
    if model_cfg["arch"] == "textcnn":
        return TextCNN(size, dim, len(classes), dropout, model_cfg["kernel_sizes"], model_cfg["filters"])
    if model_cfg["arch"] == "bilstm":
        return BiLSTM(size, dim, len(classes), dropout, model_cfg["hidden"])
    return PretrainedClassifier(model_cfg["hf_path"], len(classes))


raw_model = build_model().to(device)
model = compile_model(raw_model, train_cfg["compile"])

# -----------------------------------------------------------------------------
# 4. Loss and metrics

train_labels = [classes.index(label) for _, label, _ in train_examples if label in classes]
criterion = nn.CrossEntropyLoss(weight=class_weights(train_labels, len(classes), cfg["loss"]["class_weights"]),
                                label_smoothing=cfg["loss"]["label_smoothing"]).to(device)
autocast = run.autocast  # train.amp: bf16 or fp16 autocast, or nothing at all


@torch.no_grad()
def predict(loader: DataLoader):
    model.eval()
    total_loss, targets, predictions = 0.0, [], []
    for inputs, target in loader:
        inputs, target = to_device(inputs), target.to(device)
        with autocast:
            logits = model(*inputs).float()
        total_loss += criterion(logits, target).item() * target.size(0)
        targets.append(target.cpu())
        predictions.append(logits.argmax(dim=1).cpu())
    model.train()
    return total_loss / len(loader.dataset), torch.cat(targets).numpy(), torch.cat(predictions).numpy()


def evaluate() -> dict:
    started = time.perf_counter()
    loss, targets, predictions = predict(val_loader)
    return {"val/loss": loss, "val/acc": accuracy_score(targets, predictions),
            "val/f1": f1_score(targets, predictions, average="macro", zero_division=0),
            "perf/eval_time": time.perf_counter() - started}


# -----------------------------------------------------------------------------
# 5. Optimiser and schedule

optimizer = build_optimizer(cfg["optim"], model.parameters())
# The schedule (per step, epoch or evaluation), AMP's gradient scaler, early stopping, checkpoints.
loop = TrainingLoop(run, raw_model, optimizer, batches_per_epoch=len(train_loader), shuffle=shuffle_generator,
                    extra_state=lambda: {"vocabulary": vocabulary, "classes": classes},
                    # mlx export checks on validation texts, collated as the loader does: (texts, labels).
                    example_inputs=validation_inputs(val_set, collate, inputs=lambda batch: batch[0]))

# -----------------------------------------------------------------------------
# 6. Training loop

loop.start(train_texts=len(train_set), val_texts=len(val_set), vocabulary=len(vocabulary), classes=classes)
for _epoch in loop.epochs():
    for inputs, target in loop.batches(train_loader):
        inputs, target = to_device(inputs), target.to(device, non_blocking=True)
        with autocast:
            loss = criterion(model(*inputs).float(), target)
        loop.backward(loss, samples=target.size(0))
        loop.optimizer_step()
    loop.end_epoch(evaluate)

# -----------------------------------------------------------------------------
# 7. The last checkpoint (before the analysis, whose pass over the data a resumed run must not see)

loop.finish()

# -----------------------------------------------------------------------------
# 8. Analysis: which topics are confused

if train_cfg["artifacts"]:
    _, targets, predictions = predict(val_loader)
    matrix = confusion_matrix(targets, predictions, labels=list(range(len(classes))))
    save_confusion_matrix(matrix, classes, run_dir / "confusion_matrix.png")
    save_predictions(run_dir / "predictions.npz", targets, predictions, classes)  # mlx card's intervals
    save_embedding(raw_model, loop.example_inputs, len(val_set), targets, classes, run_dir, cfg["analysis"], metrics,
                   loop.step, cfg["seed"], device)  # analysis.embeddings
    # analysis.worst_samples: the misclassified texts, in validation order, with both labels.
    wrong = [i for i in range(len(targets)) if targets[i] != predictions[i]]
    save_worst_samples([(classes[targets[i]], classes[predictions[i]], val_examples[i][0]) for i in wrong],
                       ["true", "predicted", "text"], run_dir, metrics, loop.step, "misclassified texts",
                       cfg["analysis"]["worst_samples"])
    per_class = f1_score(targets, predictions, labels=list(range(len(classes))), average=None, zero_division=0)
    metrics.event("confusion_matrix", labels=classes, matrix=matrix.tolist(), step=loop.step,
                  per_class_f1=dict(zip(classes, per_class.tolist())), artifacts=["confusion_matrix.png"])

loop.close()
