"""Analysis figures that recipes save beside their metrics (PNG, drawn with matplotlib's Agg backend)."""

from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import numpy as np


def pyplot():
    """matplotlib's pyplot on the file-only backend: no display is needed or opened."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str], path: Path,
                          title: str = "validation confusion matrix") -> None:
    """The confusion matrix (rows: true class, columns: predicted), each cell with its count."""
    plt = pyplot()
    classes = len(class_names)
    size = max(4.0, min(14.0, 0.5 * classes + 2))
    figure, axes = plt.subplots(figsize=(size + 1, size))
    axes.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, str(count), ha="center", va="center",
                  color="white" if count > matrix.max() / 2 else "black", fontsize=8)
    axes.set(xticks=range(classes), yticks=range(classes), xlabel="predicted", ylabel="true", title=title)
    axes.set_xticklabels(class_names, rotation=45 if max(map(len, class_names)) > 3 else 0, ha="right")
    axes.set_yticklabels(class_names)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_predicted_vs_true(true: np.ndarray, predicted: np.ndarray, path: Path, target: str) -> None:
    """A regression's predictions against the truth, with the diagonal where they would be equal."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(5.5, 5))
    axes.scatter(true, predicted, s=12, alpha=0.7)
    low, high = float(min(true.min(), predicted.min())), float(max(true.max(), predicted.max()))
    axes.plot([low, high], [low, high], color="grey", linewidth=1, linestyle="--")
    axes.set(xlabel=f"true {target}", ylabel=f"predicted {target}", title="validation: predicted vs true")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_predictions(path: Path, targets, predictions, classes: Optional[Sequence[str]] = None) -> None:
    """The validation set's true values and the final model's predictions (class indices, with the ``classes``
    they stand for; or values, for a regression): what ``mlx card`` computes its intervals and per-class results
    from (``python -m mlx_runtime.card``)."""
    np.savez(path, targets=np.asarray(targets), predictions=np.asarray(predictions),
             classes=np.asarray(list(classes) if classes is not None else [], dtype=str))
