"""Running a recipe template in-process on a config resolved by mlx itself (``mlx validate --json``)."""

import copy
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]


def resolve_config(yaml_text: str, folder: Path, *overrides: str) -> dict:
    """The config as a run would get it: written as YAML, validated and resolved by the mlx CLI."""
    config = folder / "c.yaml"
    config.write_text(yaml_text)
    sets = [arg for override in overrides for arg in ("--set", override)]
    result = subprocess.run(["node", str(REPO / "bin" / "run.js"), "validate", str(config), "--json", *sets],
                            capture_output=True, text=True, cwd=folder, env={**os.environ, "NODE_ENV": "production"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["valid"][0]["config"]


def run_recipe(template: Path, base: dict, run_dir: Path, resume=None, **sections):
    """Runs ``template`` on ``base`` with ``sections`` merged in; returns (metrics, events, run_dir).

    TensorBoard files and the analysis figures are tested end to end; here they are off
    unless a test turns them on.
    """
    sections.setdefault("train", {})
    sections["train"] = {"tensorboard": False, "artifacts": False, **sections["train"]}
    cfg = copy.deepcopy(base)
    for section, values in sections.items():
        if isinstance(values, dict) and isinstance(cfg.get(section), dict):
            cfg[section].update(values)
        else:
            cfg[section] = values
    run_dir.mkdir(exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(cfg))
    saved = dict(os.environ), list(sys.argv)
    os.environ.update(MLX_RUN_DIR=str(run_dir), MLX_METRICS_FILE=str(run_dir / "metrics.jsonl"))
    sys.argv = [str(template), "--config", str(run_dir / "config.json")] + (["--resume", str(resume)] if resume else [])
    try:
        runpy.run_path(str(template), run_name="__main__")
    finally:
        os.environ.clear()
        os.environ.update(saved[0])
        sys.argv = saved[1]
        torch.use_deterministic_algorithms(False)
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    metrics = [line for line in lines if line["kind"] == "metrics"]
    events = [line for line in lines if line["kind"] == "event"]
    return metrics, events, run_dir
