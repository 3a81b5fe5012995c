"""The optimiser and the learning-rate schedule that a config's ``optim`` and ``scheduler`` name.

Shared by every recipe: the mapping from config to torch objects is the same whatever the
model, and one copy keeps the recipes' schedules identical.
"""

import math
from collections.abc import Iterable, Sequence
from typing import Optional

import torch


def build_optimizer(optim_cfg: dict, params: Iterable) -> torch.optim.Optimizer:
    """Adam, AdamW or SGD, with the fields of ``optim`` (the schema has filled every default)."""
    name = optim_cfg["name"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=optim_cfg["lr"], momentum=optim_cfg["momentum"],
                               nesterov=optim_cfg["nesterov"], weight_decay=optim_cfg["weight_decay"])
    if name in ("adam", "adamw"):
        kind = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        return kind(params, lr=optim_cfg["lr"], betas=tuple(optim_cfg["betas"]), eps=optim_cfg["eps"],
                    weight_decay=optim_cfg["weight_decay"])
    raise ValueError(f"unknown optimiser {name!r}")


def build_scheduler(sched_cfg: dict, optimizer: torch.optim.Optimizer, base_lr: float, steps_per_epoch: int,
                    total_steps: int) -> tuple[object, str]:
    """The schedule, and when it steps: after every optimiser ``step``, every ``epoch``, or every ``eval``.

    ``none`` is a constant factor of 1, so the loop has one code path with or without a schedule.
    """
    name = sched_cfg["name"]
    schedules = torch.optim.lr_scheduler
    if name == "none":
        return schedules.LambdaLR(optimizer, lambda step: 1.0), "epoch"
    if name == "step":
        return schedules.StepLR(optimizer, step_size=sched_cfg["step_size"], gamma=sched_cfg["gamma"]), "epoch"
    if name == "multistep":
        return schedules.MultiStepLR(optimizer, milestones=sched_cfg["milestones"], gamma=sched_cfg["gamma"]), "epoch"
    if name == "cosine":
        return schedules.CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=sched_cfg["min_lr"]), "step"
    if name == "warmup_cosine":
        warmup = max(1, round(sched_cfg["warmup_epochs"] * steps_per_epoch))
        floor = sched_cfg["min_lr"] / base_lr

        def warmup_cosine(step: int) -> float:
            """Factor of optim.lr: linear warmup from 0, then a cosine down to min_lr."""
            if step < warmup:
                return (step + 1) / warmup
            progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

        return schedules.LambdaLR(optimizer, warmup_cosine), "step"
    if name == "onecycle":
        return schedules.OneCycleLR(optimizer, max_lr=sched_cfg.get("max_lr") or base_lr, total_steps=total_steps,
                                    pct_start=sched_cfg["pct_start"], div_factor=sched_cfg["div_factor"],
                                    final_div_factor=sched_cfg["final_div_factor"]), "step"
    if name == "plateau":
        return schedules.ReduceLROnPlateau(optimizer, mode=sched_cfg["mode"], factor=sched_cfg["factor"],
                                           patience=sched_cfg["patience"], min_lr=sched_cfg["min_lr"]), "eval"
    raise ValueError(f"unknown scheduler {name!r}")


def clip_gradients(parameters: Sequence[torch.Tensor], max_norm: float, measure: bool) -> Optional[torch.Tensor]:
    """``train.grad_clip``: scales the gradients down to a total norm of ``max_norm`` (``inf``:
    never) and returns their norm before clipping; ``None`` when nothing clips and ``measure``
    is false, since the norm is a pass over every gradient that only logging then needs.

    ``parameters`` is a list the recipe makes once: walking a model's modules at every logged step
    cost as much as the norm itself (its code and data are cold in the loop)."""
    if max_norm == math.inf and not measure:
        return None
    parameters = [p for p in parameters if p.grad is not None]
    # One foreach call over every gradient, as get_total_norm makes, without its grouping by device
    # and dtype (a process trains on one device), which costs more than the norm in the loop.
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm([p.grad for p in parameters])))
    if max_norm < math.inf:
        torch.nn.utils.clip_grads_with_norm_(parameters, max_norm, norm)
    return norm


def schedule_warnings(train_cfg: dict, batches_per_epoch: int, total_steps: int) -> list[str]:
    """What in ``train`` the data makes pointless, in words for the person who runs it: a run that still
    trains, but not as its config reads (an accumulation window longer than an epoch, no step at all, an
    evaluation interval longer than the run). The recipes log each with ``MetricsWriter.warning``."""
    warnings = []
    accum = train_cfg["grad_accum_steps"]
    if 0 < batches_per_epoch < accum:
        warnings.append(f"train.grad_accum_steps is {accum}, more than the {batches_per_epoch} batches of an epoch: "
                        f"each epoch makes one optimiser step, over its {batches_per_epoch} batches")
    if total_steps == 0:
        warnings.append("the run makes no optimiser step (train.max_steps, or no batch to train on)")
    if train_cfg["eval_every"] > train_cfg["epochs"]:
        warnings.append(f"train.eval_every is {train_cfg['eval_every']}, more than the {train_cfg['epochs']} epochs: "
                        f"the model is evaluated once, after the last epoch")
    return warnings

