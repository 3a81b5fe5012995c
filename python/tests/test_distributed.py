"""mlx_runtime.World: a world of one without torchrun; under real torchrun (two CPU processes,
gloo) the collectives the recipes rely on, and a restart that joins a fresh process group."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import torch

from mlx_runtime import CheckpointKeeper, World, restart_checkpoint

PYTHON_DIR = Path(__file__).resolve().parents[1]


def test_a_world_of_one_without_torchrun(monkeypatch, tmp_path):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "TORCHELASTIC_RESTART_COUNT"):
        monkeypatch.delenv(name, raising=False)
    world = World("cpu")
    assert (world.rank, world.world_size, world.is_main, world.distributed) == (0, 1, True, False)
    model = torch.nn.Linear(2, 2)
    assert world.wrap(model) is model
    assert world.any(False, True) == [False, True]
    assert world.sum(1.5, 2) == [1.5, 2.0]
    values = torch.arange(5)
    assert world.gather(values) is values
    assert world.shard(list(range(5))) == [0, 1, 2, 3, 4]
    # Not restarted: the checkpoint asked for, whatever the folder holds.
    assert restart_checkpoint(tmp_path, world, None) is None
    assert restart_checkpoint(tmp_path, world, "given.pt") == "given.pt"
    world.close()


def test_a_restarted_world_goes_on_from_the_newest_checkpoint(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCHELASTIC_RESTART_COUNT", "1")
    world = World("cpu")
    assert restart_checkpoint(tmp_path, world, None) is None  # nothing saved yet: from the start
    for name in ("epoch1.pt", "best.pt", "epoch2.pt"):
        (tmp_path / name).write_bytes(b"")
        time.sleep(0.02)
    (tmp_path / "epoch3.pt.partial").write_bytes(b"")  # a save cut short is never a candidate
    assert restart_checkpoint(tmp_path, world, "original.pt") == str(tmp_path / "epoch2.pt")


def test_checkpoints_are_written_by_rank_0_only(tmp_path):
    keeper = CheckpointKeeper(tmp_path / "checkpoints", keep_last=1, enabled=False)
    keeper.save("last.pt", {"step": 1})
    keeper.save_periodic(1, {"step": 1})
    assert not (tmp_path / "checkpoints").exists()


WORKER = textwrap.dedent("""
    import json, os, sys
    import torch
    from mlx_runtime import World

    world = World("cpu")
    out = {"rank": world.rank, "world_size": world.world_size, "restart": world.restart_count}
    out["any"] = world.any(world.rank == 1, False)
    out["sum"] = world.sum(world.rank + 1.0, 10)
    out["shard"] = world.shard(list(range(7)))
    out["gather"] = world.gather(torch.tensor(out["shard"])).tolist()
    model = world.wrap(torch.nn.Linear(3, 1))
    out["ddp"] = type(model).__name__
    batch_norm = torch.nn.BatchNorm1d(2)
    batch_norm.running_mean.fill_(world.rank + 5.0)
    world.broadcast_buffers(batch_norm)
    out["running_mean"] = batch_norm.running_mean.tolist()
    with open(os.path.join(sys.argv[1], f"rank{world.rank}-attempt{world.restart_count}.json"), "w") as file:
        json.dump(out, file)
    # The first attempt's rank 1 fails: torchrun restarts both, and the new group must form.
    if world.restart_count == 0 and world.rank == 1:
        raise SystemExit(3)
    world.close()
""")


def test_collectives_across_two_torchrun_processes_and_a_restart(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                             "--max-restarts", "1", str(script), str(tmp_path)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{rank}-attempt1.json").read_text()) for rank in (0, 1)]
    for rank, out in enumerate(ranks):
        assert out["rank"] == rank and out["world_size"] == 2 and out["restart"] == 1
        assert out["any"] == [True, False]
        assert out["sum"] == [3.0, 20.0]
        assert out["gather"] == [0, 2, 4, 6, 1, 3, 5]  # every item once, rank 0's share first
        assert out["ddp"] == "DistributedDataParallel"
        assert out["running_mean"] == [5.0, 5.0]  # rank 0's statistics everywhere
    assert ranks[0]["shard"] == [0, 2, 4, 6] and ranks[1]["shard"] == [1, 3, 5]
