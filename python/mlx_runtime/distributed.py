"""Data-parallel training under torchrun, with one code path for one process and for many.

torchrun (``launch.launcher: torchrun``) starts one copy of the script per process and sets
``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE`` and the rendezvous variables; run any other way, the
script is the only process of a world of one. ``World`` reads that, joins the process group
(NCCL on CUDA, gloo on the CPU), and offers the few collective steps a recipe needs. In a world
of one each of them is the local value, with no communication, so a recipe reads the same
whether it trains on one process or on sixteen.

Batch sizes are per process: ``data.batch_size`` samples go through each process per step, so
an optimiser step sees ``batch_size * world_size * grad_accum_steps`` samples.
"""

import atexit
import os
import time
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Optional

import torch
import torch.distributed as dist

# Long enough for a thread woken by the GIL's release to be scheduled on a busy machine; paid once a run.
WORKER_THREADS_RELEASE_S = 0.05


class World:
    """This process's place among the training processes, and the collectives the loop needs.

    Every rank must call the collective methods (``any``, ``sum``, ``gather``) at the same
    points, in the same order: a decision that ends the loop (an interrupt, a non-finite loss,
    early stopping) is taken from the values of every rank, so no rank waits on one that left.
    """

    def __init__(self, device_setting: str = "auto"):
        self.rank = int(os.environ.get("RANK", 0))
        self.local_rank = int(os.environ.get("LOCAL_RANK", 0))
        self.world_size = int(os.environ.get("WORLD_SIZE", 1))
        self.nodes = int(os.environ.get("GROUP_WORLD_SIZE", 1))
        # torchrun counts the times it restarted the workers (launch.max_restarts).
        self.restart_count = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", 0))
        self.is_main = self.rank == 0
        self.device = self._device(device_setting)
        self.distributed = self.world_size > 1
        if self.distributed:
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo", store=self._attempt_store(),
                                    rank=self.rank, world_size=self.world_size)
            # A collective's worker thread takes the GIL to let go of the tensors it was given. One still
            # waiting for it when the interpreter shuts down aborts the process, finished or not ("terminate
            # called without an active exception", PyTorch issue 190489; DDP keeps gloo's threads alive past
            # destroy_process_group). At exit, before the shutdown, a sleep hands them the GIL.
            atexit.register(time.sleep, WORKER_THREADS_RELEASE_S)

    def _attempt_store(self) -> dist.Store:
        """The rendezvous store at MASTER_ADDR:MASTER_PORT, its keys under this attempt's prefix.

        torchrun keeps one store (its agent's) across restarts, and the process group's keys of a
        failed attempt stay in it: without a prefix per attempt, a restarted rank can read a dead
        peer's address and fail to connect.
        """
        agent_hosts_it = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
        store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), self.world_size,
                              is_master=not agent_hosts_it and self.is_main)
        return dist.PrefixStore(f"mlx/attempt{self.restart_count}", store)

    def _device(self, requested: str) -> torch.device:
        from .device import select_device

        device = select_device(requested)
        if device.type == "cuda" and self.world_size > 1:
            # One GPU per process: the local rank's (CUDA_VISIBLE_DEVICES already holds the chosen ones).
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        return device

    def wrap(self, model: torch.nn.Module, find_unused_parameters: bool = False) -> torch.nn.Module:
        """The model as it trains: DistributedDataParallel (gradients averaged across ranks) when
        there are several processes. ``find_unused_parameters`` where some parameters may get no
        gradient in a step (a frozen backbone)."""
        if not self.distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=find_unused_parameters)

    def no_sync(self, model: torch.nn.Module, syncing: bool):
        """During gradient accumulation, the backward passes before the last one of a window skip
        the all-reduce (``model.no_sync()``); the last one averages the window's gradients."""
        return nullcontext() if syncing or not self.distributed else model.no_sync()

    def shard(self, indices: Sequence[int]) -> list[int]:
        """This rank's share of the evaluation items: every world_size-th, none repeated, so
        the gathered predictions are exactly the whole set (DistributedSampler would pad it)."""
        return list(indices[self.rank::self.world_size])

    def any(self, *flags: bool) -> list[bool]:
        """For each flag, whether it is true on any rank (one all-reduce for them all)."""
        if not self.distributed:
            # map(), not a comprehension (whose frame is one more cold thing to fetch): the loop asks at
            # every step, and this and StopRequest's plain attribute made that check measurably cheaper (bench/parity.py).
            return list(map(bool, flags))
        values = torch.tensor([float(flag) for flag in flags], device=self.device)
        dist.all_reduce(values, op=dist.ReduceOp.MAX)
        return [bool(value) for value in values.tolist()]

    def sum(self, *values: float) -> list[float]:
        """The sum over ranks of each value (one all-reduce for them all)."""
        if not self.distributed:
            return [float(value) for value in values]
        totals = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(totals)
        return totals.tolist()

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """Every rank's tensor (of any length along dim 0), concatenated in rank order, on every rank."""
        if not self.distributed:
            return tensor
        parts: list[Optional[torch.Tensor]] = [None] * self.world_size
        dist.all_gather_object(parts, tensor.cpu())
        return torch.cat(parts)

    def broadcast_buffers(self, model: torch.nn.Module) -> None:
        """Rank 0's buffers (batch-norm running statistics) on every rank: DDP sends them at the
        start of each training forward, after which each rank updates its own copy."""
        if not self.distributed:
            return
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)

    def close(self) -> None:
        """Leaves the process group once every rank is done: a rank that left early would take the
        rendezvous store of its node with it while another still talks to it."""
        if self.distributed:
            dist.barrier()
            dist.destroy_process_group()


def restart_checkpoint(checkpoints: Path, world: World, requested: Optional[str]) -> Optional[str]:
    """The checkpoint a run starts from: ``--resume`` (mlx resume), unless torchrun restarted the
    workers after a failure (``launch.max_restarts``): then the newest one the run saved, so
    the restarted workers go on from it rather than from the beginning."""
    if world.restart_count == 0:
        return requested
    saved = list(Path(checkpoints).glob("*.pt"))
    return str(max(saved, key=os.path.getmtime)) if saved else requested
