"""The set-up and the training loop every recipe shares.

A recipe keeps its data, model, loss and metrics in its own file, read top to bottom, and hands
the bookkeeping to two calls and a few steps of a loop::

    run = start_run(__doc__)                 # config, seeds, device, the checkpoint to go on from, metrics
    ...data, model, loss and metrics...
    optimizer = build_optimizer(cfg["optim"], model.parameters())
    loop = TrainingLoop(run, raw_model, optimizer, batches_per_epoch=len(train_loader))
    loop.start()                             # restores the checkpoint, logs the start
    for epoch in loop.epochs():
        for images, labels in loop.batches(train_loader):
            with loop.accumulating(model):
                with run.autocast:
                    loss = criterion(model(images), labels)
                loop.backward(loss, samples=labels.size(0))
            loop.optimizer_step()
        loop.end_epoch(evaluate)
    loop.finish()                            # the last checkpoint; interrupted: exit 130
    ...analysis...
    loop.close()

What the loop does, once for every recipe: the step window (gradient accumulation, the last window
of an epoch averaged over the batches it has, no all-reduce inside a window), the optimiser step
with AMP's gradient scaler, clipping and the schedule, train metrics every ``train.log_every``
steps, the divergence guard and Ctrl-C agreed by every rank; at the end of an epoch, evaluation,
early stopping, schedules that step per epoch or per evaluation, the best and periodic
checkpoints; resuming mid-epoch exactly; the last checkpoint, or the interrupted one and exit 130.
A recipe whose steps are not batches of a loader (DQN's updates between environment steps) calls
``backward`` and ``apply_gradients`` itself and keeps the rest.
"""

import argparse
import math
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import torch

from .checkpoints import CheckpointKeeper, restore_rng_states, rng_states
from .config import load_config
from .device import explain_out_of_memory
from .diagnostics import ANALYSIS_OFF, GradientWatch
from .distributed import World, restart_checkpoint
from .metrics import MetricsWriter
from .monitor import DivergenceGuard, Monitor
from .optim import build_scheduler, clip_gradients, schedule_warnings
from .profiling import NoProfiler, format_summary, step_profiler, write_summary
from .seeding import configure_determinism, seed_everything
from .signals import StopRequest


@dataclass
class Run:
    """What a recipe starts from: its resolved config and where this process stands."""

    cfg: dict[str, Any]
    run_dir: Path
    world: World
    # Seeded with the run's seed, apart from the model's random numbers: it shuffles the data.
    generator: torch.Generator
    resume_path: Optional[str]
    resume_from: Optional[dict[str, Any]]
    metrics: MetricsWriter
    stop: StopRequest
    autocast: Any  # train.amp's autocast, or a context that does nothing
    # mlx export: the checkpoint's model is exported at loop.start() instead of trained (export.py).
    export: Optional[Any] = None

    @property
    def device(self) -> torch.device:
        return self.world.device


def start_run(description: str) -> Run:
    """The command line (``--config``, ``--resume``), the config, determinism, the seeds (the same on
    every rank: every replica starts from the same weights), the device, the checkpoint to go on from
    (``--resume``, or the newest one when torchrun restarted the workers), the metrics writer (rank 0
    writes), Ctrl-C as a flag, and a hint naming the batch size should CUDA run out of memory."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--config", help="resolved config (JSON); default: $MLX_CONFIG_FILE")
    parser.add_argument("--resume", help="checkpoint to continue from (mlx resume passes the latest)")
    parser.add_argument("--export", metavar="REQUEST", help="JSON: export --resume's model instead of training "
                        "(mlx export)")
    args = parser.parse_args()
    cfg = load_config(args.config)
    export = None
    if args.export:
        from .export import request_from_json

        export = request_from_json(args.export)
        cfg["launch"]["device"] = export.device
    train_cfg = cfg["train"]
    run_dir = Path(os.environ.get("MLX_RUN_DIR", "."))
    configure_determinism(train_cfg["deterministic"])
    generator = seed_everything(cfg["seed"])
    world = World(cfg["launch"]["device"])
    resume_path = restart_checkpoint(run_dir / "checkpoints", world, args.resume)
    resume_from = torch.load(resume_path, map_location="cpu", weights_only=False) if resume_path else None
    # An export writes nothing of the run's but export/ (and, at its end, its figures to metrics.jsonl).
    # Histograms (analysis.histograms_every) have nowhere to go but TensorBoard: they turn it on.
    tensorboard = train_cfg["tensorboard"] or cfg.get("analysis", ANALYSIS_OFF)["histograms_every"] is not None
    metrics = MetricsWriter(enabled=world.is_main and export is None,
                            tensorboard_dir=run_dir if tensorboard else None,
                            purge_step=resume_from["step"] + 1 if resume_from else None)
    if resume_from is None:
        metrics.describe_run(cfg, os.environ.get("MLX_RUN_ID"))
    explain_out_of_memory(cfg["data"]["batch_size"], train_cfg["grad_accum_steps"])
    amp = train_cfg["amp"]  # false, "bf16" or "fp16"
    # nanoGPT's pattern: no autocast bookkeeping at all when it is off.
    autocast = (torch.autocast(world.device.type, dtype=torch.float16 if amp == "fp16" else torch.bfloat16) if amp
                else nullcontext())
    return Run(cfg, run_dir, world, generator, resume_path, resume_from, metrics, StopRequest(), autocast, export)


class TrainingLoop:
    """Epochs of optimiser steps, with everything around them that every recipe shares.

    ``model`` is the module whose state checkpoints hold (not its compiled or DistributedDataParallel
    wrapper). ``batches_per_epoch`` is the loader's length; without it (a recipe that drives its own
    steps), ``steps_per_epoch`` and ``total_steps`` say how many optimiser steps there are.
    ``shuffle``: a generator whose state at each epoch's start a checkpoint keeps, so that an
    interrupted epoch is drawn again in the same order (a recipe that reseeds its shuffle from the
    epoch's number needs none). ``extra_state`` returns what else the recipe's checkpoints hold; the
    recipe restores that from ``run.resume_from`` itself. ``unit`` names a step in messages.
    """

    def __init__(self, run: Run, model: torch.nn.Module, optimizer: torch.optim.Optimizer, *,
                 batches_per_epoch: Optional[int] = None, steps_per_epoch: Optional[int] = None,
                 total_steps: Optional[int] = None, schedule_steps_per_epoch: Optional[int] = None,
                 shuffle: Optional[torch.Generator] = None, extra_state: Callable[[], dict] = dict,
                 unit: str = "step", example_inputs: Optional[Callable[[int, int], tuple]] = None):
        self.run, self.model, self.optimizer = run, model, optimizer
        self.world, self.metrics, self.cfg = run.world, run.metrics, run.cfg
        train_cfg = self.cfg["train"]
        self.batches_per_epoch = batches_per_epoch
        self.accum = train_cfg["grad_accum_steps"] if batches_per_epoch is not None else 1
        self.max_epochs = train_cfg["epochs"]
        self.steps_per_epoch = (steps_per_epoch if steps_per_epoch is not None
                                else math.ceil(batches_per_epoch / self.accum))
        planned = total_steps if total_steps is not None else self.max_epochs * self.steps_per_epoch
        self.total_steps = planned if train_cfg["max_steps"] is None else min(planned, train_cfg["max_steps"])
        # schedule_interval: when the schedule steps (after every optimiser "step", every "epoch", every "eval").
        self.scheduler, self.schedule_interval = build_scheduler(
            self.cfg["scheduler"], optimizer, self.cfg["optim"]["lr"], schedule_steps_per_epoch or self.steps_per_epoch,
            self.total_steps)
        self.scaler = torch.amp.GradScaler(run.device.type, enabled=train_cfg["amp"] == "fp16")

        stopping_cfg = train_cfg["early_stopping"]
        self.early_stopping = (Monitor(stopping_cfg["monitor"], stopping_cfg["mode"], stopping_cfg["patience"],
                                       stopping_cfg["min_delta"]) if stopping_cfg
                               else Monitor(self.cfg["metrics"]["primary"], self.cfg["metrics"]["goal"], patience=None))
        self.checkpoint_cfg = train_cfg["checkpoint"]
        self.best_checkpoint = Monitor(self.checkpoint_cfg["monitor"], self.checkpoint_cfg["mode"])
        self.divergence = DivergenceGuard.from_config(train_cfg)  # a loss that is not finite, or that exploded
        self.checkpoints = CheckpointKeeper(run.run_dir / "checkpoints", keep_last=self.checkpoint_cfg["keep_last"],
                                            metrics=self.metrics, enabled=self.world.is_main)
        self.max_grad_norm = train_cfg["grad_clip"] or math.inf
        # Once: walking the modules at every logged step costs more than the norm.
        self.parameters = list(model.parameters())
        self.log_every, self.eval_every = train_cfg["log_every"], train_cfg["eval_every"]
        self.shuffle, self.extra_state, self.unit = shuffle, extra_state, unit
        self.example_inputs = example_inputs
        self.profiler = NoProfiler()  # mlx profile: torch.profiler over a few steps (start)
        # analysis.histograms_every: weight and gradient histograms, per-layer gradient norms and their warnings.
        self.gradients = GradientWatch(model, self.cfg.get("analysis", ANALYSIS_OFF), self.metrics,
                                       enabled=self.world.is_main)

        # Where training stands: epochs finished, optimiser steps taken, and batches of the next epoch
        # already trained (an interrupt can stop mid-epoch; that epoch's order comes back from the
        # shuffle state kept at its start, or from its number).
        self.epochs_done, self.step, self.batches_done, self.epoch = 0, 0, 0, 0
        self.shuffle_state = shuffle.get_state() if shuffle is not None else None
        self.stopping = False  # a Ctrl-C or SIGTERM on any rank, agreed by all of them at each batch
        self.batch_index, self.window_batches, self.window_ends = 0, 1, True
        self.window = self._empty_window()
        # What training costs (cost/* at the end): the seconds and samples of earlier attempts come from the checkpoint.
        self.train_seconds, self.samples_seen, self.attempt_start = 0.0, 0, time.perf_counter()

    # -- state -------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """A checkpoint: enough to go on exactly where training stands, or to rebuild the model."""
        shuffle = {"epoch_generator": self.shuffle_state} if self.shuffle is not None else {}
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
                "epochs_done": self.epochs_done, "step": self.step, "batches_done": self.batches_done,
                "early_stopping": self.early_stopping.state_dict(),
                "best_checkpoint": self.best_checkpoint.state_dict(), "divergence": self.divergence.state_dict(),
                **shuffle, "rng": rng_states(), "config": self.cfg,
                "cost": {"train_seconds": self._train_seconds(), "samples": self.samples_seen}, **self.extra_state()}

    def start(self, **event_fields: Any) -> None:
        """Restores the checkpoint the run goes on from, and logs the start (with ``event_fields``). Under
        ``mlx export``: exports the checkpoint's model instead, and ends the script."""
        resumed = self.run.resume_from
        if self.run.export is not None:
            self._export(resumed)
        if resumed:
            self.model.load_state_dict(resumed["model"])
            self.optimizer.load_state_dict(resumed["optimizer"])
            self.scheduler.load_state_dict(resumed["scheduler"])
            self.scaler.load_state_dict(resumed["scaler"])
            self.early_stopping.load_state_dict(resumed["early_stopping"])
            self.best_checkpoint.load_state_dict(resumed["best_checkpoint"])
            if "divergence" in resumed:  # checkpoints of mlx before the guard have none
                self.divergence.load_state_dict(resumed["divergence"])
            self.epochs_done, self.step, self.batches_done = (resumed["epochs_done"], resumed["step"],
                                                              resumed.get("batches_done", 0))
            if self.shuffle is not None:
                self.shuffle.set_state(resumed["epoch_generator"])
            restore_rng_states(resumed["rng"])
            cost = resumed.get("cost", {})  # checkpoints of mlx before cost/* have none
            self.train_seconds, self.samples_seen = cost.get("train_seconds", 0.0), cost.get("samples", 0)
        self.attempt_start = time.perf_counter()
        if resumed or self.world.restart_count:
            # mlx drops the metrics this run logged after this step: they are about to be logged again.
            self.metrics.event("resume", from_step=self.step, checkpoint=self.run.resume_path,
                               epochs_done=self.epochs_done, restart=self.world.restart_count)
        data_cfg = self.cfg["data"]
        accumulation = {"grad_accum_steps": self.accum} if self.batches_per_epoch is not None else {}
        self.metrics.event("start", epochs=self.max_epochs, steps_per_epoch=self.steps_per_epoch,
                           total_steps=self.total_steps, batch_size=data_cfg["batch_size"], **accumulation,
                           device=str(self.run.device), world_size=self.world.world_size, nodes=self.world.nodes,
                           parameters=sum(p.numel() for p in self.parameters), start_step=self.step, **event_fields)
        batches = self.batches_per_epoch if self.batches_per_epoch is not None else self.steps_per_epoch
        for warning in schedule_warnings(self.cfg["train"], batches, self.total_steps):
            self.metrics.warning(warning)
        self.profiler = step_profiler(os.environ.get("MLX_PROFILE"), self.run.run_dir / "profile", self.run.device,
                                      self.world.rank, self.cfg["data"], self.cfg["train"])
        self.window = self._empty_window()

    def _export(self, checkpoint: Optional[dict]) -> None:
        from .export import ExportUsageError, export_and_exit, main_usage_error

        if checkpoint is None:
            main_usage_error(ExportUsageError("mlx export needs a checkpoint (--resume)",
                                              "mlx export RUN names the run's own"), self.run.export.out_dir)
        export_and_exit(self.model, self.example_inputs, self.run.export, self.run.device, checkpoint["model"],
                        checkpoint["step"])

    @property
    def interrupted(self) -> bool:
        """Ctrl-C or SIGTERM: on this process, or (several of them) on any rank at the latest batch."""
        return self.stopping if self.world.distributed else self.run.stop.requested

    # -- epochs and batches ------------------------------------------------------------------------

    def epochs(self) -> Iterator[int]:
        """The number of each epoch still to train, until the last, the step limit, early stopping or
        an interrupt."""
        while (self.epochs_done < self.max_epochs and self.step < self.total_steps
               and not self.early_stopping.should_stop and not self.interrupted):
            self.epoch = self.epochs_done + 1
            if self.shuffle is not None:
                self.shuffle_state = self.shuffle.get_state()
            yield self.epoch

    def batches(self, loader: Iterable) -> Iterator[Any]:
        """This epoch's batches from ``loader``, less those trained before an interrupt; ends after the
        optimiser step that reaches the step limit or that follows an interrupt."""
        batches = self.batches_per_epoch
        data_start = time.perf_counter()
        self.profiler.phase("data")
        for index, batch in enumerate(loader):
            if index < self.batches_done:
                continue  # resuming mid-epoch: these batches were trained before the interrupt
            self.profiler.phase("forward")
            self.window["data_time"] += time.perf_counter() - data_start
            self.batch_index = index
            # The last accumulation window of an epoch may be short: average over the batches it has.
            self.window_batches = min(self.accum, batches - index // self.accum * self.accum)
            self.window_ends = (index + 1) % self.accum == 0 or index + 1 == batches
            yield batch
            if self.window_ends and (self.step >= self.total_steps or self.interrupted):
                return
            data_start = time.perf_counter()
            self.profiler.phase("data")

    def accumulating(self, model: torch.nn.Module):
        """Around the forward and backward passes: inside an accumulation window, the wrapped ``model``
        skips the all-reduce (DistributedDataParallel's ``no_sync``); its last batch averages them."""
        return self.world.no_sync(model, syncing=self.window_ends)

    # -- a step --------------------------------------------------------------------------------------

    def backward(self, loss: torch.Tensor, samples: int = 1) -> float:
        """Backpropagates ``loss`` (the mean over ``samples``) as its share of the window, unless it has
        diverged (here or on another rank): then the last good state is saved and the run ends."""
        loss_value = loss.item()
        diverged, self.stopping = self.world.any(self.divergence.diverged(loss_value), self.run.stop.requested)
        if diverged:
            self.checkpoints.stop_diverged(self.state(), loss_value, self.step, unit=self.unit,
                                           reason=self.divergence.reason)
        # Each batch adds its share of the window's mean; a window of one batch skips the division.
        self.profiler.phase("backward")
        self.scaler.scale(loss if self.window_batches == 1 else loss / self.window_batches).backward()
        self.window["loss"] += loss_value * samples
        self.window["samples"] += samples
        self.samples_seen += samples
        return loss_value

    def apply_gradients(self, measure_norm: bool):
        """One optimiser step from the gradients backpropagated: unscaled, clipped to
        ``train.grad_clip``, the schedule moved on. Returns the gradient norm (when measured) and the
        learning rate the step used."""
        self.profiler.phase("optimizer")
        self.scaler.unscale_(self.optimizer)
        self.gradients.after_backward(self.step + 1)
        grad_norm = clip_gradients(self.parameters, self.max_grad_norm, measure=measure_norm)
        step_lr = self.optimizer.param_groups[0]["lr"]  # before the schedule moves it
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        if self.schedule_interval == "step":
            self.scheduler.step()
        self.profiler.step()
        return grad_norm, step_lr

    def optimizer_step(self) -> bool:
        """At the end of an accumulation window: the optimiser step, and the train metrics when due.
        True when a step was taken."""
        if not self.window_ends:
            return False
        logging_now = ((self.step + 1) % self.log_every == 0 or self.batch_index + 1 == self.batches_per_epoch
                       or self.step + 1 == self.total_steps)
        grad_norm, step_lr = self.apply_gradients(measure_norm=logging_now)
        self.batches_done = self.batch_index + 1
        self.window["steps"] += 1
        if logging_now:
            self._log_window(grad_norm, step_lr)
        return True

    def _log_window(self, grad_norm, step_lr: float) -> None:
        window = self.window
        elapsed = time.perf_counter() - window["start"]
        device = self.run.device
        memory = {"perf/cuda_max_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30} \
            if device.type == "cuda" else {}
        loss_sum, samples = self.world.sum(window["loss"], window["samples"])  # every rank's batches
        self.metrics.log({"train/loss": loss_sum / samples, "lr": step_lr, "train/grad_norm": grad_norm,
                          "perf/samples_per_sec": samples / elapsed, "perf/step_time": elapsed / window["steps"],
                          "perf/data_time": window["data_time"] / window["steps"], **memory},
                         step=self.step, epoch=self.epoch)
        self.window = self._empty_window()

    @staticmethod
    def _empty_window() -> dict:
        return {"loss": 0.0, "samples": 0, "steps": 0, "data_time": 0.0, "start": time.perf_counter()}

    # -- the end of an epoch, and of training --------------------------------------------------------

    def end_epoch(self, evaluate: Callable[[], dict[str, float]], **event_fields: Any) -> dict[str, float]:
        """Evaluates when due (``evaluate`` returns the validation metrics), then early stopping, the
        schedules that step per epoch or per evaluation, the best and the periodic checkpoints. An epoch
        interrupted before its last batch ends here without any of it: ``finish`` saves it."""
        if (self.batches_per_epoch is not None and self.interrupted and self.batches_done < self.batches_per_epoch
                and self.step < self.total_steps):
            return {}
        epoch = self.epoch
        self.epochs_done, self.batches_done = epoch, 0
        evaluated = epoch % self.eval_every == 0 or epoch == self.max_epochs or self.step >= self.total_steps
        results: dict[str, float] = {}
        if evaluated:
            results = evaluate()
            self.metrics.log(results, step=self.step, epoch=epoch)
            self.early_stopping.update(results[self.early_stopping.metric])
            if self.schedule_interval == "eval":
                self.scheduler.step(results[self.cfg["scheduler"]["monitor"]])
        if self.schedule_interval == "epoch":
            self.scheduler.step()
        if self.shuffle is not None:
            self.shuffle_state = self.shuffle.get_state()
        # Every checkpoint of an epoch holds the state after all of that epoch's work, schedules included.
        if self.checkpoint_cfg["best"] and evaluated and self.best_checkpoint.update(results[self.best_checkpoint.metric]):
            self.checkpoints.save("best.pt", self.state(), epoch=epoch, step=self.step,
                                  metric=self.best_checkpoint.metric, value=self.best_checkpoint.best)
        every = self.checkpoint_cfg["every_epochs"]
        if every and epoch % every == 0:
            self.checkpoints.save_periodic(epoch, self.state(), step=self.step)
        self.metrics.event("epoch_end", epoch=epoch, step=self.step, **event_fields)
        if self.world.is_main:
            print(f"epoch {epoch}/{self.max_epochs} {self.unit} {self.step}/{self.total_steps}"
                  + "".join(f" {key.replace('_', ' ')} {value}" for key, value in event_fields.items())
                  + "".join(f" {key} {value:.4g}" for key, value in results.items()), flush=True)
        return results

    def finish(self) -> None:
        """After the last epoch: the last checkpoint, enough to resume or to reload the model for analysis
        or export (saved before any analysis, whose pass over the data draws random numbers a resumed
        run must not see). Interrupted: that checkpoint, an ``interrupted`` event, and exit 130. Under mlx profile,
        the profile's summary first."""
        profiled = self.profiler.close()
        if profiled is not None and self.world.is_main:
            write_summary(profiled, self.run.run_dir / "profile")
            print(format_summary(profiled), flush=True)
            self.metrics.event("profile", **profiled)
        self._log_cost()
        if self.interrupted:
            self.checkpoints.save("last.pt", self.state(), step=self.step)
            self.metrics.event("interrupted", signal=self.run.stop.signal, step=self.step)
            self.metrics.close()
            raise SystemExit(130)
        if self.early_stopping.should_stop:
            self.metrics.event("early_stop", epoch=self.epochs_done, step=self.step, metric=self.early_stopping.metric,
                               best=self.early_stopping.best, patience=self.early_stopping.patience)
        self.checkpoints.save("last.pt", self.state(), epoch=self.epochs_done, step=self.step)

    def _train_seconds(self) -> float:
        return self.train_seconds + time.perf_counter() - self.attempt_start

    def _log_cost(self) -> None:
        """What the model and its training cost, as metrics every run has (compare, --where and --sort read them):
        parameters, model size, training wall time (all attempts), time per step, samples/s (this rank's
        samples, all ranks summed), and peak memory (CUDA max allocated on a GPU, else the process's peak RSS)."""
        seconds = self._train_seconds()
        model_bytes = sum(t.numel() * t.element_size() for t in [*self.model.parameters(), *self.model.buffers()])
        device = self.run.device
        if device.type == "cuda":
            peak = torch.cuda.max_memory_allocated(device)
        else:
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
        (samples,) = self.world.sum(self.samples_seen)
        self.metrics.log({"cost/params": sum(p.numel() for p in self.parameters), "cost/model_bytes": model_bytes,
                          "cost/train_seconds": seconds, "cost/step_seconds": seconds / max(1, self.step),
                          "cost/samples_per_sec": samples / seconds if seconds > 0 else 0.0,
                          "cost/peak_memory_bytes": peak}, step=self.step, epoch=self.epochs_done)

    def close(self) -> None:
        """The ``end`` event: the run completed."""
        self.metrics.event("end", epoch=self.epochs_done, step=self.step)
        self.metrics.close()
        self.world.close()
