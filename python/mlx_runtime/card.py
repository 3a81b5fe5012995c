"""``python -m mlx_runtime.card PREDICTIONS``: what ``mlx card`` needs from a run's saved validation predictions
(``save_predictions``), as one JSON object: each metric as the recipe computes it, with a 95% bootstrap interval
(scipy's, over the validation examples, resampled in pairs), and per class: support, precision, recall and F1.

A classification's metrics are ``val/acc`` and ``val/f1`` (macro, as the recipes log them); a regression's
``val/rmse``, ``val/mae`` and ``val/r2``.
"""

import json
import math
import sys
import warnings

import numpy as np

RESAMPLES, CONFIDENCE, SEED = 2000, 0.95, 0


def classification_metrics():
    from sklearn.metrics import accuracy_score, f1_score

    return {"val/acc": lambda true, predicted: accuracy_score(true, predicted),
            "val/f1": lambda true, predicted: f1_score(true, predicted, average="macro", zero_division=0)}


def regression_metrics():
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {"val/rmse": lambda true, predicted: math.sqrt(mean_squared_error(true, predicted)),
            "val/mae": lambda true, predicted: mean_absolute_error(true, predicted),
            "val/r2": lambda true, predicted: r2_score(true, predicted)}


def interval(metric, targets: np.ndarray, predictions: np.ndarray) -> dict:
    """The metric on every example, and the percentile bootstrap's 95% interval (pairs resampled together)."""
    from scipy.stats import bootstrap

    value = float(metric(targets, predictions))
    with warnings.catch_warnings():
        # A metric the same in every resample (every prediction right) has an interval of that one value.
        warnings.simplefilter("ignore")
        result = bootstrap((targets, predictions), lambda t, p: metric(t, p), paired=True, vectorized=False,
                           n_resamples=RESAMPLES, confidence_level=CONFIDENCE, method="percentile",
                           random_state=np.random.default_rng(SEED))
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if math.isnan(low) or math.isnan(high):
        low = high = value
    return {"value": value, "low": min(low, value), "high": max(high, value)}


def card_figures(path: str) -> dict:
    saved = np.load(path, allow_pickle=False)
    targets, predictions = saved["targets"], saved["predictions"]
    classes = [str(name) for name in saved["classes"]]
    classification = len(classes) > 0
    metrics = classification_metrics() if classification else regression_metrics()
    out = {"kind": "classification" if classification else "regression", "examples": int(len(targets)),
           "resamples": RESAMPLES, "confidence": CONFIDENCE,
           "metrics": {name: interval(metric, targets, predictions) for name, metric in metrics.items()}}
    if classification:
        from sklearn.metrics import precision_recall_fscore_support

        labels = list(range(len(classes)))
        precision, recall, f1, support = precision_recall_fscore_support(targets, predictions, labels=labels,
                                                                         zero_division=0)
        out["per_class"] = [{"class": name, "support": int(support[i]), "precision": float(precision[i]),
                             "recall": float(recall[i]), "f1": float(f1[i]),
                             "predicted": int((predictions == i).sum())} for i, name in enumerate(classes)]
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m mlx_runtime.card PREDICTIONS.npz\n")
        raise SystemExit(2)
    json.dump(card_figures(sys.argv[1]), sys.stdout)
    sys.stdout.write("\n")
