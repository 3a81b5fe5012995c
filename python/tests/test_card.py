"""mlx_runtime.card: the metrics recipes log, recomputed from saved predictions, with bootstrap intervals."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from mlx_runtime.analysis import save_predictions
from mlx_runtime.card import card_figures


def test_classification_metrics_intervals_and_classes(tmp_path):
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 3, 300)
    predictions = np.where(rng.random(300) < 0.8, targets, (targets + 1) % 3)
    save_predictions(tmp_path / "p.npz", targets, predictions, ["a", "b", "c"])
    figures = card_figures(str(tmp_path / "p.npz"))
    accuracy = figures["metrics"]["val/acc"]
    assert accuracy["value"] == pytest.approx((targets == predictions).mean())
    assert accuracy["low"] < accuracy["value"] < accuracy["high"]
    # The normal approximation's half-width at n=300: about 1.96 * sqrt(0.8 * 0.2 / 300) = 0.045.
    assert 0.03 < (accuracy["high"] - accuracy["low"]) / 2 < 0.06
    assert figures["metrics"]["val/f1"]["value"] == pytest.approx(
        f1_score(targets, predictions, average="macro", zero_division=0))
    assert [c["class"] for c in figures["per_class"]] == ["a", "b", "c"]
    assert sum(c["support"] for c in figures["per_class"]) == 300


def test_every_prediction_right_has_an_interval_of_one_value(tmp_path):
    targets = np.arange(20) % 2
    save_predictions(tmp_path / "p.npz", targets, targets, ["no", "yes"])
    accuracy = card_figures(str(tmp_path / "p.npz"))["metrics"]["val/acc"]
    assert accuracy == {"value": 1.0, "low": 1.0, "high": 1.0}


def test_regression_metrics(tmp_path):
    rng = np.random.default_rng(1)
    targets = rng.normal(size=200)
    save_predictions(tmp_path / "p.npz", targets, targets + rng.normal(scale=0.5, size=200))
    figures = card_figures(str(tmp_path / "p.npz"))
    assert figures["kind"] == "regression" and "per_class" not in figures
    rmse = figures["metrics"]["val/rmse"]
    assert rmse["low"] < rmse["value"] < rmse["high"] and 0.4 < rmse["value"] < 0.6
