"""Click logs in the Criteo layout: reading them as a stream, and writing synthetic ones.

The layout (Criteo's display-advertising challenge, Terabyte click logs): one example per
line, tab-separated: the label (1 clicked, 0 not), 13 integer features (counts; some
negative, any may be blank) and 26 categorical features (8 hexadecimal digits, hashed ids;
any may be blank). 40 fields, always.

``CriteoBatches`` reads a file as it trains (the file can be larger than memory): lines are
parsed a chunk at a time, shuffled within a buffer, and turned into batches of
``(dense, sparse, label)`` tensors. Dense values become ``log(1 + max(x, 0))`` (blank: 0);
categorical ids are hashed into ``hash_size`` rows per field (row 0 is for a blank). A line
with the wrong number of fields, or a value that is not a number or not hexadecimal, is a
``DataError`` naming the file and the line.

``write_synthetic`` makes a training and a validation file of this layout from a known
ground-truth model (dense weights, per-id weights and pairwise interactions of id
embeddings), and the true click probability of every validation example, so that the best
AUC any model can reach on it is known (``truth_auc`` in its ``meta.json``). The files are
deterministic for a seed and kept: a second call with the same settings reads the cache.
"""

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from .data import DataError

DENSE_FIELDS = 13
SPARSE_FIELDS = 26
FIELDS = 1 + DENSE_FIELDS + SPARSE_FIELDS
LINES_PER_CHUNK = 8192
SYNTHETIC_VERSION = 3
# The ground truth's strengths: an AUC near 0.8, as on Criteo's own logs.
TRUTH_DIM, SIGNAL_FIELDS, DENSE_SCALE, EMBEDDING_SCALE = 4, 8, 0.2, 0.3


def count_examples(path: Path, max_rows: Optional[int] = None) -> int:
    """Non-blank lines of the file (at most max_rows), counted without parsing them."""
    count = 0
    with open(path, "rb") as file:
        for line in file:
            if line.strip():
                count += 1
                if max_rows is not None and count >= max_rows:
                    break
    return count


def parse_lines(lines: list, path: Path, hash_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line number, text) pairs -> dense (n, 13) float32, sparse (n, 26) int64, labels (n,) float32."""
    dense = np.zeros((len(lines), DENSE_FIELDS), dtype=np.float32)
    sparse = np.zeros((len(lines), SPARSE_FIELDS), dtype=np.int64)
    labels = np.zeros(len(lines), dtype=np.float32)
    for row, (number, text) in enumerate(lines):
        fields = text.rstrip("\r\n").split("\t")
        if len(fields) != FIELDS:
            raise DataError(path, f"{len(fields)} tab-separated fields, expected {FIELDS} (label, "
                                  f"{DENSE_FIELDS} integer and {SPARSE_FIELDS} categorical features)", row=number,
                            hint="the Criteo layout: a label, 13 integers and 26 hexadecimal ids, tab-separated; "
                                 "blank fields stay as empty fields")
        try:
            label = int(fields[0])
            if label not in (0, 1):
                raise ValueError
            labels[row] = label
        except ValueError:
            raise DataError(path, f"the label is {fields[0]!r}, expected 0 or 1", row=number) from None
        for j, value in enumerate(fields[1:1 + DENSE_FIELDS]):
            if value:
                try:
                    dense[row, j] = math.log1p(max(int(value), 0))
                except ValueError:
                    raise DataError(path, f"integer feature {j + 1} is {value!r}, not an integer", row=number) from None
        for j, value in enumerate(fields[1 + DENSE_FIELDS:]):
            if value:
                try:
                    sparse[row, j] = 1 + int(value, 16) % (hash_size - 1)
                except ValueError:
                    raise DataError(path, f"categorical feature {j + 1} is {value!r}, not hexadecimal",
                                    row=number) from None
    return dense, sparse, labels


class CriteoBatches:
    """Batches of one Criteo-layout file, read as a stream; iterate once per epoch.

    With ``generator`` the examples are shuffled within a buffer of ``shuffle_buffer`` (drawn
    from the generator, so a seed repeats the order); without, they come in file order. The
    first ``skip_rows`` examples are passed over, and at most ``max_rows`` read.
    """

    def __init__(self, path, hash_size: int, batch_size: int, generator: Optional[torch.Generator] = None,
                 shuffle_buffer: int = 65536, max_rows: Optional[int] = None, skip_rows: int = 0):
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise DataError(self.path, "no such file", hint=f"relative data paths start at the project root, {Path.cwd()}")
        self.hash_size, self.batch_size, self.generator = hash_size, batch_size, generator
        self.shuffle_buffer, self.skip_rows = shuffle_buffer, skip_rows
        available = count_examples(self.path, None if max_rows is None else skip_rows + max_rows) - skip_rows
        self.examples = max(0, available)
        if self.examples == 0:
            raise DataError(self.path, "the file holds no examples" + (f" after its first {skip_rows}" if skip_rows else ""))

    def __len__(self) -> int:
        return math.ceil(self.examples / self.batch_size)

    def _chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        lines, read, skipped = [], 0, 0
        with open(self.path, encoding="utf-8", errors="replace") as file:
            for number, text in enumerate(file, start=1):
                if not text.strip():
                    continue
                if skipped < self.skip_rows:
                    skipped += 1
                    continue
                lines.append((number, text))
                read += 1
                if len(lines) == LINES_PER_CHUNK or read == self.examples:
                    yield parse_lines(lines, self.path, self.hash_size)
                    lines = []
                if read == self.examples:
                    return

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        buffer = None  # parsed examples not yet batched: (dense, sparse, labels)
        for chunk in self._chunks():
            buffer = chunk if buffer is None else tuple(np.concatenate(pair) for pair in zip(buffer, chunk))
            if len(buffer[2]) >= max(self.shuffle_buffer, self.batch_size):
                buffer = self._shuffled(buffer)
                whole = len(buffer[2]) // self.batch_size * self.batch_size
                yield from self._batches(buffer, whole)
                buffer = tuple(part[whole:] for part in buffer)
        if buffer is not None and len(buffer[2]) > 0:
            buffer = self._shuffled(buffer)
            yield from self._batches(buffer, len(buffer[2]))

    def _shuffled(self, buffer: tuple) -> tuple:
        if self.generator is None:
            return buffer
        order = torch.randperm(len(buffer[2]), generator=self.generator).numpy()
        return tuple(part[order] for part in buffer)

    def _batches(self, buffer: tuple, count: int):
        for start in range(0, count, self.batch_size):
            end = min(start + self.batch_size, count)
            yield tuple(torch.from_numpy(part[start:end]) for part in buffer)


# -----------------------------------------------------------------------------
# Synthetic click logs from a known model


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def _log_loss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    p = np.clip(probabilities, 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


def write_synthetic(folder, rows: int, val_rows: int, seed: int, cardinality: int = 100) -> dict:
    """train.txt, val.txt, val_truth.txt (the true probability of each validation line) and meta.json.

    The ground truth is a factorisation machine over the same 27 vectors DLRM sees: every
    (field, id) has a 4-wide embedding, the dense features a linear map to one more (plus a
    constant); logit = bias + dense weights . standardised log(1 + x) + the sum of the pairwise
    dot products of the 27 vectors; label ~ Bernoulli(sigmoid(logit)). Ids are Zipf-like (a few
    common, many rare), 1 to ``cardinality`` per field; 10% of integer features and 5% of
    categorical ones are blank. Returns the meta record.
    """
    folder = Path(folder)
    settings = {"version": SYNTHETIC_VERSION, "rows": rows, "val_rows": val_rows, "seed": seed,
                "cardinality": cardinality}
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("settings") == settings and all((folder / name).is_file() for name in meta["files"].values()):
            return meta
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    dense_mu = rng.uniform(0.5, 3.0, DENSE_FIELDS)
    dense_weights = rng.normal(0, DENSE_SCALE, DENSE_FIELDS)
    dense_map = rng.normal(0, EMBEDDING_SCALE / math.sqrt(DENSE_FIELDS), (DENSE_FIELDS, TRUTH_DIM))
    dense_offset = rng.normal(0, EMBEDDING_SCALE, TRUTH_DIM)
    embeddings = rng.normal(0, EMBEDDING_SCALE, (SPARSE_FIELDS, cardinality + 1, TRUTH_DIM))
    embeddings[:, 0] = 0.0  # a blank id adds nothing
    embeddings[SIGNAL_FIELDS:] = 0.0  # as in real logs, most fields tell nothing: the model must learn which
    id_popularity = 1.0 / np.arange(1, cardinality + 1) ** 1.05
    id_popularity /= id_popularity.sum()
    # Every (field, id) has its own 8-hex-digit value, as Criteo's hashed ids do.
    hex_ids = rng.integers(0, 2**32, (SPARSE_FIELDS, cardinality + 1), dtype=np.uint64)

    def draw(n: int):
        counts = np.floor(np.exp(rng.normal(dense_mu, 1.0, (n, DENSE_FIELDS)))).astype(np.int64) - 1
        dense_blank = rng.random((n, DENSE_FIELDS)) < 0.10
        ids = rng.choice(np.arange(1, cardinality + 1), size=(n, SPARSE_FIELDS), p=id_popularity)
        ids[rng.random((n, SPARSE_FIELDS)) < 0.05] = 0
        # As the reader sees them: a blank is log(1 + 0), like a count of 0.
        standard = np.where(dense_blank, 0.0, np.log1p(np.maximum(counts, 0))) - dense_mu
        vectors = np.concatenate([(standard @ dense_map + dense_offset)[:, None, :],
                                  embeddings[np.arange(SPARSE_FIELDS), ids]], axis=1)  # (n, 27, dim)
        # The sum over pairs i < j of <v_i, v_j> is (|sum of v|^2 - sum of |v|^2) / 2.
        pairs = 0.5 * ((vectors.sum(axis=1) ** 2).sum(axis=1) - (vectors ** 2).sum(axis=(1, 2)))
        return counts, dense_blank, ids, standard @ dense_weights + pairs

    # The bias that makes about a quarter of the examples clicks (Criteo's rate is ~26%), by bisection.
    _, _, _, sample_logit = draw(20000)
    low, high = -20.0, 20.0
    for _ in range(60):
        bias = (low + high) / 2
        low, high = (bias, high) if np.mean(1 / (1 + np.exp(-(sample_logit + bias)))) < 0.25 else (low, bias)

    def write(path: Path, n: int, truth_path: Optional[Path] = None) -> np.ndarray:
        counts, dense_blank, ids, logit = draw(n)
        probability = 1 / (1 + np.exp(-(logit + bias)))
        labels = (rng.random(n) < probability).astype(np.int64)
        dense_text = np.where(dense_blank, "", counts.astype(str))
        sparse_text = np.where(ids == 0, "", np.char.mod("%08x", hex_ids[np.arange(SPARSE_FIELDS), ids]))
        with open(path, "w") as file:
            for i in range(n):
                file.write("\t".join([str(labels[i]), *dense_text[i], *sparse_text[i]]) + "\n")
        if truth_path is not None:
            np.savetxt(truth_path, probability, fmt="%.6f")
        return np.stack([labels, probability])

    write(folder / "train.txt", rows)
    val_labels, val_probability = write(folder / "val.txt", val_rows, folder / "val_truth.txt")
    meta = {"settings": settings, "files": {"train": "train.txt", "val": "val.txt", "val_truth": "val_truth.txt"},
            "click_rate": float(val_labels.mean()), "truth_auc": _auc(val_labels, val_probability),
            "truth_log_loss": _log_loss(val_labels, val_probability), "seconds": time.perf_counter() - started}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return meta
