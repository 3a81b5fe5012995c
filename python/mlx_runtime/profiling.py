"""``mlx profile``: a few of a recipe's real optimiser steps under ``torch.profiler``, each step's phases marked.

The training loop calls ``phase`` where a step moves on:
- ``data``: waiting for the loader's next batch;
- ``forward``: the recipe's code until ``loop.backward`` (the forward pass and the loss);
- ``backward``;
- ``optimizer``: unscaling, clipping, the optimiser step and the schedule;
- ``other``: what a recipe does between steps outside a loader, such as DQN's environment steps.

It calls ``step`` after each optimiser step. Each phase is a ``record_function`` range
(``mlx/<phase>``) in the trace, and is timed on the wall clock, with CUDA synchronised at each
boundary while profiling.

The profiler's schedule skips ``wait`` steps and warms up for ``warmup`` steps, then records
``active`` steps. The trace goes to ``<run>/profile/`` for TensorBoard's PyTorch profiler plugin
(``tensorboard --logdir <run>/profile``) and for Perfetto (ui.perfetto.dev opens the
``.pt.trace.json``). The summary holds the top operators by self CPU (and CUDA) time, with their
shares of all operators' time, the split of a step into its phases, and a hint where one
dominates. It is written to ``profile/summary.json``, printed, and logged as a ``profile`` event.

Without ``$MLX_PROFILE`` the loop gets a ``NoProfiler``: the same calls, doing nothing.
"""

import json
import time
from pathlib import Path
from typing import Any, Optional

import torch

PHASES = ("data", "forward", "backward", "optimizer", "other")
TOP_OPERATORS = 15


class NoProfiler:
    """What the loop calls when nothing is profiled."""

    def phase(self, name: str) -> None:
        pass

    def step(self) -> None:
        pass

    def close(self) -> Optional[dict]:
        return None


class StepProfiler:
    def __init__(self, request: dict, out_dir: Path, device: torch.device, rank: int, data_cfg: dict,
                 train_cfg: dict):
        from torch.profiler import ProfilerActivity, profile, schedule, tensorboard_trace_handler

        self.wait, self.warmup, self.active = request.get("wait", 1), request.get("warmup", 1), request["active"]
        self.out_dir, self.device, self.rank = out_dir, device, rank
        self.data_cfg, self.train_cfg = data_cfg, train_cfg
        out_dir.mkdir(parents=True, exist_ok=True)
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        trace_handler = tensorboard_trace_handler(str(out_dir), worker_name=f"rank{rank}")
        self.summary: Optional[dict] = None

        def on_trace_ready(prof) -> None:
            trace_handler(prof)
            self.summary = self._summarise(prof)

        self.profiler = profile(activities=activities, record_shapes=True, profile_memory=True, with_stack=True,
                                schedule=schedule(wait=self.wait, warmup=self.warmup, active=self.active, repeat=1),
                                on_trace_ready=on_trace_ready)
        self.profiler.start()
        self.steps_done, self.recorded = 0, 0
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.current: Optional[str] = None
        self.range = None
        self.phase_start = time.perf_counter()
        self.phase("other")

    @property
    def recording(self) -> bool:
        return self.wait + self.warmup <= self.steps_done < self.wait + self.warmup + self.active

    def phase(self, name: str) -> None:
        if name == self.current:
            return
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        now = time.perf_counter()
        if self.current is not None and self.recording:
            self.seconds[self.current] += now - self.phase_start
        if self.range is not None:
            self.range.__exit__(None, None, None)
        self.current, self.phase_start = name, now
        self.range = torch.profiler.record_function(f"mlx/{name}")
        self.range.__enter__()

    def step(self) -> None:
        self.phase("other")  # closes the optimizer phase in this step
        self.recorded += self.recording
        self.steps_done += 1
        self.profiler.step()

    def close(self) -> Optional[dict]:
        """Stops the profiler; the summary (None on ranks other than 0, or before the active steps ended)."""
        if self.range is not None:
            self.range.__exit__(None, None, None)
            self.range = None
        self.profiler.stop()
        return self.summary if self.rank == 0 else None

    def _summarise(self, prof) -> dict:
        averages = prof.key_averages()
        # Operators only: mlx's own phase ranges and the profiler's step markers hold other operators' time.
        operators = [event for event in averages
                     if not event.key.startswith(("mlx/", "ProfilerStep")) and event.self_cpu_time_total > 0]
        cpu_total = sum(event.self_cpu_time_total for event in operators) or 1.0
        device_total = sum(getattr(event, "self_device_time_total", 0.0) for event in operators)
        operators.sort(key=lambda event: event.self_cpu_time_total, reverse=True)

        def row(name: str, events: list) -> dict:
            cpu = sum(event.self_cpu_time_total for event in events)
            device = sum(getattr(event, "self_device_time_total", 0.0) for event in events)
            return {"name": name, "calls": sum(event.count for event in events), "self_cpu_ms": cpu / 1000,
                    "cpu_share": cpu / cpu_total, "self_device_ms": device / 1000,
                    "device_share": device / device_total if device_total else 0.0}

        top = [row(event.key, [event]) for event in operators[:TOP_OPERATORS]]
        if len(operators) > TOP_OPERATORS:
            top.append(row(f"({len(operators) - TOP_OPERATORS} other operators)", operators[TOP_OPERATORS:]))
        steps = max(1, self.recorded)
        per_step = {name: seconds / steps * 1000 for name, seconds in self.seconds.items()}
        step_ms = sum(per_step.values()) or 1.0
        phases = {name: {"ms_per_step": ms, "share": ms / step_ms} for name, ms in per_step.items()}
        calls = sum(event.count for event in operators) / steps
        traces = sorted(path.name for path in self.out_dir.glob("*.pt.trace.json"))
        return {"steps": {"wait": self.wait, "warmup": self.warmup, "active": self.active, "recorded": self.recorded},
                "device": str(self.device), "threads": torch.get_num_threads(), "step_ms": step_ms,
                "operator_calls_per_step": calls, "operators": top, "phases": phases,
                "hints": hints(phases, calls, step_ms, self.device, self.data_cfg, self.train_cfg),
                "trace": traces[-1] if traces else None}


def hints(phases: dict, calls_per_step: float, step_ms: float, device: torch.device, data_cfg: dict,
          train_cfg: dict) -> list:
    """A plain hint where one part of the step dominates it."""
    found = []
    if phases["data"]["share"] > 0.3:
        found.append(f"data-bound: {phases['data']['share']:.0%} of a step waits for data; raise data.num_workers "
                     f"(now {data_cfg.get('num_workers', 0)})"
                     + ("" if device.type != "cuda" or data_cfg.get("pin_memory") is True else
                        " and set data.pin_memory: true"))
    if phases["optimizer"]["share"] > 0.3:
        found.append(f"the optimiser step takes {phases['optimizer']['share']:.0%} of a step: a larger batch "
                     "(data.batch_size) spreads it over more samples")
    average_us = step_ms * 1000 / max(1.0, calls_per_step)
    if calls_per_step > 200 and average_us < 50 and not train_cfg.get("compile"):
        found.append(f"many small operators ({calls_per_step:.0f} a step, {average_us:.0f} µs each on average): "
                     "try train.compile: true, which fuses them")
    compute = phases["forward"]["share"] + phases["backward"]["share"]
    if not found and compute > 0.7 and device.type == "cuda" and not train_cfg.get("amp"):
        found.append(f"compute-bound ({compute:.0%} forward and backward): train.amp: bf16 (or fp16) runs it in "
                     "mixed precision")
    return found


def step_profiler(request: Optional[str], out_dir: Path, device: torch.device, rank: int, data_cfg: dict,
                  train_cfg: dict) -> Any:
    """The loop's profiler: a StepProfiler under ``mlx profile`` ($MLX_PROFILE), else one that does nothing."""
    if not request:
        return NoProfiler()
    return StepProfiler(json.loads(request), out_dir, device, rank, data_cfg, train_cfg)


def format_summary(summary: dict) -> str:
    """The summary as the text mlx profile prints (and the script's log keeps)."""
    lines = [f"profile: {summary['steps']['active']} steps on {summary['device']}, {summary['threads']} thread(s), "
             f"{summary['step_ms']:.2f} ms a step, {summary['operator_calls_per_step']:.0f} operator calls a step",
             f"{'operator':<44} {'calls':>7} {'self CPU ms':>12} {'share':>7}"
             + (f" {'self CUDA ms':>13} {'share':>7}" if summary["device"].startswith("cuda") else "")]
    for row in summary["operators"]:
        lines.append(f"{row['name'][:44]:<44} {row['calls']:>7} {row['self_cpu_ms']:>12.3f} {row['cpu_share']:>7.1%}"
                     + (f" {row['self_device_ms']:>13.3f} {row['device_share']:>7.1%}"
                        if summary["device"].startswith("cuda") else ""))
    lines.append("a step: " + ", ".join(f"{name} {phase['ms_per_step']:.2f} ms ({phase['share']:.0%})"
                                        for name, phase in summary["phases"].items()))
    lines += [f"hint: {hint}" for hint in summary["hints"]]
    return "\n".join(lines)


def write_summary(summary: dict, out_dir: Path) -> None:
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

