"""Runs a training script with its training epochs taking turns with another program's (bench/parity.py).

Usage: python bench/parity_turns.py SCRIPT [ARGS...], with PARITY_GO_FD and PARITY_DONE_FD naming
two pipe descriptors. Every pass over a shuffling DataLoader (a training epoch) first writes
"ready" on DONE_FD and waits for a byte on GO_FD; when the pass ends it writes "done SECONDS
BATCHES". The script itself is run unchanged (runpy); what it does between epochs (evaluation,
checkpoints) happens while the other program still waits for its turn, so the two never run at
once, and an epoch of one is timed right beside an epoch of the other: the slow drifts of a shared
machine (tens of percent over a second or two) fall on both alike.

With PARITY_IMPORTS_OF naming a script, that script's libraries load first (bench/parity.py's hand
loop with the recipe's libraries loaded).
"""

import os
import sys
import time

from parity import run_with_training_passes_wrapped

GO_FD, DONE_FD = int(os.environ["PARITY_GO_FD"]), int(os.environ["PARITY_DONE_FD"])


def timed_turn(batches, loader):
    os.write(DONE_FD, b"ready\n")
    if not os.read(GO_FD, 1):
        raise SystemExit("parity_turns: the benchmark went away")
    count, start = 0, time.perf_counter()
    try:
        for batch in batches:
            count += 1
            yield batch
    finally:
        os.write(DONE_FD, f"done {time.perf_counter() - start:.9f} {count}\n".encode())


run_with_training_passes_wrapped(timed_turn, sys.argv[1:])
