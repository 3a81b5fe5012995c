"""Reading a user's data files, with errors that name the file and the row.

A ``DataError`` is bad input, not a bug: the script prints ``error: FILE:ROW: what`` and a
hint, without a traceback, and exits with status 2 (the hook is installed by
``load_config``), which mlx reports as bad input.
"""

import csv
import difflib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

DATA_ERROR_EXIT = 2


class DataError(Exception):
    """A problem in a data file: where it is (file, row: the line number, 1-based) and how to fix it."""

    def __init__(self, path, message: str, row: Optional[int] = None, hint: Optional[str] = None):
        self.path, self.row, self.message, self.hint = str(path), row, message, hint
        where = self.path if row is None else f"{self.path}:{row}"
        super().__init__(f"{where}: {message}" + (f" ({hint})" if hint else ""))


def install_data_error_hook() -> None:
    """Bad data ends the script with its message and a hint, exit status 2, no traceback.

    Installed once per process: a second call (a script run again in-process) changes nothing.
    """
    previous = sys.excepthook
    if getattr(previous, "handles_data_errors", False):
        return

    def hook(kind, error, traceback):
        if not issubclass(kind, DataError):
            previous(kind, error, traceback)
            return
        where = error.path if error.row is None else f"{error.path}:{error.row}"
        sys.stderr.write(f"error: {where}: {error.message}\n" + (f"hint: {error.hint}\n" if error.hint else ""))
        sys.stdout.flush()
        sys.stderr.flush()
        # An uncaught exception exits 1 whatever the hook does; bad input is 2. Every metric
        # line was flushed when it was written, so nothing logged is lost.
        os._exit(DATA_ERROR_EXIT)

    hook.handles_data_errors = True
    sys.excepthook = hook


def read_csv_rows(path, fields: Optional[int] = None, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """Every non-blank row of a CSV file with its line number, each checked to have ``fields``
    fields (default: as many as the first row). A missing, empty or ragged file is a DataError."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(path, "no such file", hint=f"relative data paths start at the project root, {Path.cwd()}")
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            start = 1
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    expected = fields if fields is not None else len(rows[0][1]) if rows else len(row)
                    if len(row) != expected:
                        what = "the header has" if fields is None else "expected"
                        raise DataError(path, f"{len(row)} fields, but {what} {expected}", row=start,
                                        hint="a ragged row: a missing or extra delimiter, or an unquoted comma in a value")
                    rows.append((start, row))
                start = reader.line_num + 1
        except csv.Error as error:
            raise DataError(path, f"not valid CSV: {error}", row=reader.line_num) from None
        except UnicodeDecodeError as error:
            raise DataError(path, f"not UTF-8 text: {error.reason} at byte {error.start}") from None
    if not rows:
        raise DataError(path, "the file is empty" + (": expected a header row, then data rows" if fields is None else ""))
    return rows


def read_csv_table(path, required: Sequence[str] = (), delimiter: str = ",") -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the rows of a CSV file, each row with its line number.

    Checks what a loader would otherwise trip over later with a worse message: the file
    exists and has a header and at least one row, every row has as many fields as the
    header, and the ``required`` columns are there (a misspelt one is named with the
    closest header).
    """
    (_, header), *rows = read_csv_rows(path, delimiter=delimiter)
    header = [cell.strip() for cell in header]
    if not rows:
        raise DataError(path, "the file has a header but no data rows")
    check_columns(path, header, required)
    return header, rows


def check_columns(path, header: Sequence[str], required: Sequence[str]) -> dict[str, int]:
    """The index of each required column; a missing one is an error naming the closest header."""
    missing = [column for column in required if column not in header]
    if missing:
        close = {column: difflib.get_close_matches(column, header, n=1) for column in missing}
        suggestions = [f"{column!r}: did you mean {close[column][0]!r}?" for column in missing if close[column]]
        raise DataError(path, f"no column {', '.join(repr(c) for c in missing)} in the header", row=1,
                        hint="; ".join(suggestions) if suggestions else f"the columns are {', '.join(header)}")
    return {column: header.index(column) for column in required}


def holdout_split(count: int, stratify: Optional[Sequence], data_cfg: dict, seed: int):
    """The training and validation indices of the recipe's own split: ``val_fraction`` held out, or,
    with ``data.folds`` (a sweep's cross-validation), fold ``data.fold`` of a seeded k-fold split, so
    that every row is validated on exactly once across the folds. Stratified when ``stratify`` is given."""
    import numpy as np
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    indices = np.arange(count)
    folds = data_cfg.get("folds")
    if not folds:
        return train_test_split(indices, test_size=data_cfg["val_fraction"], random_state=seed, stratify=stratify)
    if not 0 <= data_cfg["fold"] < folds or folds > count:
        raise DataError("data", f"data.fold is {data_cfg['fold']} and data.folds {folds}, over {count} examples",
                        hint=f"data.fold runs from 0 to {folds - 1}, and there are no more folds than examples")
    if stratify is not None and min(np.unique(np.asarray(stratify), return_counts=True)[1]) < folds:
        stratify = None  # a class rarer than the folds cannot be in every fold: a plain split
    splitter = (StratifiedKFold if stratify is not None else KFold)(n_splits=folds, shuffle=True, random_state=seed)
    train_idx, val_idx = list(splitter.split(indices, stratify if stratify is not None else None))[data_cfg["fold"]]
    return train_idx, val_idx


def class_weights(labels: Sequence[int], num_classes: int, mode: str):
    """``loss.class_weights``: None (every example counts the same), or, for ``balanced``, each class
    weighted by n / (classes x its count), as scikit-learn's ``class_weight="balanced"``; a class
    absent from the training split gets weight 1."""
    if mode == "none" or not len(labels):
        return None
    import torch

    counts = torch.bincount(torch.as_tensor(list(labels), dtype=torch.long), minlength=num_classes).double()
    weights = torch.where(counts > 0, len(labels) / (num_classes * counts.clamp(min=1)), torch.ones_like(counts))
    return weights.float()
