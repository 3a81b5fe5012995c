"""Training diagnostics, switched in the config's ``analysis:`` section (docs/analysis.md).

- ``GradientWatch``: every ``analysis.histograms_every`` optimiser steps (after the gradients are unscaled,
  before clipping), a histogram of every weight and gradient and each layer's gradient norm, to TensorBoard,
  and a warning (once per layer and kind: in the log, and in mlx's live view as a ``warning`` event) when a
  layer's gradient norm vanishes or explodes. Off (``histograms_every: null``), it costs one comparison a step.
- ``save_embedding``: at the end, a 2-D map of the validation set's penultimate features (the input of the
  model's last ``nn.Linear``), by t-SNE (scikit-learn) or UMAP (where umap-learn is installed), as
  ``embedding.png`` and as TensorBoard projector data (``projector_config.pbtxt``, ``embedding/``).
- ``save_worst_samples``: the worst validation samples as a table (``worst_samples.tsv``) and an event.
"""

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch

from .export import on_device

# The analysis section with everything off (a config from before the section existed).
ANALYSIS_OFF = {"histograms_every": None, "vanishing_grad_norm": 1e-7, "exploding_grad_norm": 1e3,
                "embeddings": False, "embedding_method": "auto", "embedding_points": 1000, "worst_samples": 0}


class GradientWatch:
    def __init__(self, model: torch.nn.Module, analysis_cfg: dict, metrics, enabled: bool):
        self.every = analysis_cfg["histograms_every"] if enabled else None
        self.vanishing, self.exploding = analysis_cfg["vanishing_grad_norm"], analysis_cfg["exploding_grad_norm"]
        self.metrics = metrics
        self.named = [(name, parameter) for name, parameter in model.named_parameters() if parameter.requires_grad]
        self.warned: set = set()

    def after_backward(self, step: int) -> None:
        """At optimiser step ``step`` (counted from 1), with the gradients unscaled: the histograms when due."""
        if self.every is None or step % self.every:
            return
        norms = {}
        for name, parameter in self.named:
            self.metrics.histogram(f"weights/{name}", parameter.detach(), step)
            if parameter.grad is None:
                continue
            gradient = parameter.grad.detach()
            self.metrics.histogram(f"gradients/{name}", gradient, step)
            norms[name] = float(gradient.float().norm())
        self.metrics.tensorboard_scalars({f"grad_norm/{name}": norm for name, norm in norms.items()}, step)
        for name, norm in norms.items():
            kind = ("exploding" if not math.isfinite(norm) or norm > self.exploding
                    else "vanishing" if norm < self.vanishing else None)
            if kind and (name, kind) not in self.warned:
                self.warned.add((name, kind))
                bound = (f"above analysis.exploding_grad_norm {self.exploding:g}" if kind == "exploding"
                         else f"below analysis.vanishing_grad_norm {self.vanishing:g}")
                self.metrics.warning(f"{kind} gradient: layer {name} has gradient norm {norm:.3g} at step {step} "
                                     f"({bound}; said once per layer)", layer=name, step=step, norm=norm, kind=kind)


def last_linear(model: torch.nn.Module) -> Optional[torch.nn.Module]:
    linears = [module for module in model.modules() if isinstance(module, torch.nn.Linear)]
    return linears[-1] if linears else None


@torch.no_grad()
def penultimate_features(model: torch.nn.Module, example_inputs: Callable[[int, int], tuple], count: int,
                         device: torch.device, batch: int = 256) -> np.ndarray:
    """The input of the model's last linear layer for the first ``count`` validation examples, one row each."""
    head = last_linear(model)
    if head is None:
        raise ValueError("the model has no nn.Linear layer whose input to map")
    captured: list = []
    hook = head.register_forward_hook(lambda module, inputs, output: captured.append(inputs[0].detach().float()))
    was_training = model.training
    model.eval()
    try:
        for first in range(0, count, batch):
            inputs = example_inputs(min(batch, count - first), first)
            model(*on_device(tuple(inputs), device))
    finally:
        hook.remove()
        model.train(was_training)
    return torch.cat([features.reshape(features.size(0), -1) for features in captured]).cpu().numpy()


def reduce_to_2d(features: np.ndarray, method: str, seed: int) -> tuple:
    """Two coordinates per row, and the method used (auto: UMAP where umap-learn imports, else t-SNE)."""
    if method in ("auto", "umap"):
        try:
            import umap
        except ImportError:
            if method == "umap":
                raise SystemExit("analysis.embedding_method umap needs umap-learn (pip install umap-learn), "
                                 "or set it to tsne") from None
        else:
            return umap.UMAP(n_components=2, random_state=seed).fit_transform(features), "umap"
    from sklearn.manifold import TSNE

    perplexity = float(min(30.0, max(2.0, (len(features) - 1) / 3)))
    return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(features), "tsne"


def save_embedding(model: torch.nn.Module, example_inputs: Callable[[int, int], tuple], rows: int,
                   targets: Sequence[int], class_names: Sequence[str], run_dir: Path, analysis_cfg: dict, metrics,
                   step: int, seed: int, device: torch.device) -> None:
    """The validation set's penultimate features mapped to 2-D (when ``analysis.embeddings`` is on)."""
    if not analysis_cfg["embeddings"]:
        return
    count = min(analysis_cfg["embedding_points"], rows, len(targets))
    features = penultimate_features(model, example_inputs, count, device)
    labels = np.asarray(targets)[:count]
    points, method = reduce_to_2d(features, analysis_cfg["embedding_method"], seed)

    from .analysis import pyplot

    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7, 6))
    for index, name in enumerate(class_names):
        chosen = labels == index
        if chosen.any():
            axes.scatter(points[chosen, 0], points[chosen, 1], s=8, alpha=0.8, label=str(name))
    if len(class_names) <= 20:
        axes.legend(markerscale=2, fontsize=7, loc="best")
    axes.set_title(f"validation set, penultimate features ({features.shape[1]} dims) by {method}, {count} examples")
    axes.set_xticks([])
    axes.set_yticks([])
    figure.tight_layout()
    figure.savefig(run_dir / "embedding.png", dpi=100)
    plt.close(figure)
    write_projector(run_dir, features, [str(class_names[label]) for label in labels], step)
    metrics.event("embedding", step=step, method=method, points=count, dims=int(features.shape[1]),
                  artifacts=["embedding.png"])


def write_projector(run_dir: Path, features: np.ndarray, labels: list, step: int) -> None:
    """TensorBoard's projector data beside the run's event files: the vectors, their labels, and the config
    that names them (the layout torch's SummaryWriter.add_embedding writes)."""
    folder = run_dir / "embedding"
    folder.mkdir(exist_ok=True)
    np.savetxt(folder / "tensors.tsv", features, delimiter="\t", fmt="%.6g")
    (folder / "metadata.tsv").write_text("".join(f"{label}\n" for label in labels))
    (run_dir / "projector_config.pbtxt").write_text(
        "embeddings {\n"
        f'  tensor_name: "validation/penultimate:{step}"\n'
        '  tensor_path: "embedding/tensors.tsv"\n'
        '  metadata_path: "embedding/metadata.tsv"\n'
        "}\n")


def save_worst_samples(rows: list, columns: Sequence[str], run_dir: Path, metrics, step: int, what: str,
                       limit: int) -> None:
    """The first ``limit`` (``analysis.worst_samples``; 0: none) of ``rows``, worst first, as worst_samples.tsv and
    an event naming ``what`` they are."""
    if limit == 0:
        return
    rows = rows[:limit]
    with open(run_dir / "worst_samples.tsv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, delimiter="\t", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[str(value).replace("\t", " ").replace("\n", " ") for value in row] for row in rows])
    metrics.event("worst_samples", step=step, what=what, columns=list(columns),
                  rows=[[_plain(value) for value in row] for row in rows], artifacts=["worst_samples.tsv"])


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str)) else str(value)
