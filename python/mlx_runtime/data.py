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
