"""``python -m mlx_runtime.plot SPEC OUT``: curves of runs' metrics, best points marked.

SPEC is a JSON file written by ``mlx plot``: ``{"title": ..., "x": "step", "log_y": false,
"metrics": [{"key", "goal", "series": [{"label", "steps", "values"}]}]}`` (``steps`` hold x). OUT ends in .png, .svg or .html (an SVG inside
a small page). One panel per metric, one line per run; each run's best value (by the
metric's goal) is marked with a star and its value.
"""

import html
import io
import json
import math
import sys
from pathlib import Path


def plot(spec: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = spec["metrics"]
    figure, axes = plt.subplots(len(metrics), 1, figsize=(9, 3.6 * len(metrics)), squeeze=False)
    for panel, metric in zip(axes[:, 0], metrics):
        for index, series in enumerate(metric["series"]):
            points = [(s, v) for s, v in zip(series["steps"], series["values"]) if v is not None and math.isfinite(v)]
            if not points:
                continue
            steps, values = zip(*points)
            line, = panel.plot(steps, values, marker="." if len(points) < 60 else None, label=series["label"])
            if metric["goal"] in ("min", "max"):
                best = (min if metric["goal"] == "min" else max)(range(len(values)), key=values.__getitem__)
                panel.plot([steps[best]], [values[best]], marker="*", markersize=14, color=line.get_color(),
                           markeredgecolor="black", zorder=5)
                # Each run's label a line higher than the one before, in its colour: close best values stay legible.
                panel.annotate(f"{values[best]:.4g}", (steps[best], values[best]), textcoords="offset points",
                               xytext=(6, 4 + 10 * index), fontsize=8, color=line.get_color())
        better = {"min": " (lower is better)", "max": " (higher is better)"}.get(metric["goal"], "")
        panel.set_title(f"{metric['key']}{better}")
        panel.set_xlabel(spec.get("x", "step"))
        if spec.get("log_y"):
            panel.set_yscale("log")
        panel.grid(alpha=0.3)
        panel.legend(fontsize=8)
    figure.suptitle(spec.get("title", ""))
    figure.tight_layout()
    if out.suffix == ".html":
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg")
        out.write_text(f"<!doctype html>\n<meta charset=\"utf-8\">\n<title>{html.escape(spec.get('title', 'mlx plot'))}</title>\n"
                       f"<body style=\"margin:2em;font-family:sans-serif\">\n{buffer.getvalue()}\n</body>\n")
    else:
        figure.savefig(out, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    plot(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
