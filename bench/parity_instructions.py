"""The instructions a training step of the image recipe executes, against the hand-written loop's.

bench/parity.py times the two programs, and on these shared machines its figure moves by about a
point from run to run. An instruction count does not move: valgrind's callgrind counts every
instruction the process executes during two training passes (after one pass of warm-up), in the
recipe, in bench/hand_loop.py and in the hand loop with the recipe's libraries loaded and unused
(bench/parity.py's second reference), each run as bench/parity.py runs it (one thread, the same
malloc settings, the recipe logging every 10 steps with TensorBoard on). What the recipe adds in
work is its count over the hand loop's; what its timed overhead holds beyond that is the machine
(caches, predictors, where memory lies), not code it runs.

Run: `.venv/bin/python bench/parity_instructions.py` (or `make bench`); needs valgrind, its
callgrind.h and a C compiler, and says so when one is missing. Prints a Markdown section: the counts,
then which shared object runs the recipe's extra instructions (read from callgrind's own output files).
The three programs run at once (a count does not depend on the machine's load): about six minutes
on two cores, most of it torch loading under valgrind. COUNTED_PASSES (default 2) sets the passes.

Inside: `parity_instructions.py --count TOGGLE_LIBRARY SCRIPT ARGS...` is the child, counting SCRIPT's
passes (TOGGLE_LIBRARY: the compiled TOGGLE_SOURCE).
"""

import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import parity

COUNTED_PASSES = int(os.environ.get("COUNTED_PASSES", "2"))
# A pass of warm-up first, and one after the counted ones: the recipe leaves its last pass at the last
# step, before the DataLoader's iterator ends, where a counted pass stops counting.
EPOCHS = COUNTED_PASSES + 2
CALLGRIND_HEADER = Path("/usr/include/valgrind/callgrind.h")
# Instrumenting starts at the first counted pass (torch loads at valgrind's plain speed), and
# collecting is toggled on and off around each counted pass.
TOGGLE_SOURCE = """#include <valgrind/callgrind.h>
void toggle_collect(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_TOGGLE_COLLECT; }
"""


def count_passes(toggle_library: str, script: list) -> None:
    """The child: runs the script, collecting instructions during its training passes 2 .. COUNTED_PASSES + 1."""
    toggle = ctypes.CDLL(toggle_library).toggle_collect
    passes = {"started": 0, "counted_batches": 0}

    def counted(batches, loader):
        passes["started"] += 1
        counting = 1 < passes["started"] <= 1 + COUNTED_PASSES
        if counting:
            toggle()
            passes["counted_batches"] += len(loader)
        yield from batches
        if counting:
            toggle()
            if passes["started"] == 1 + COUNTED_PASSES:
                print(f"counted batches: {passes['counted_batches']}", file=sys.stderr, flush=True)
                os._exit(0)  # callgrind writes its counts as the process exits

    parity.run_with_training_passes_wrapped(counted, script)
    raise SystemExit(f"{script[0]} finished before {COUNTED_PASSES + 1} training passes")


def instructions_by_object(callgrind_file: str) -> Counter:
    """Each shared object's own instructions in a callgrind file (a call's cost, which follows its
    ``calls=`` line, belongs to the callee's object and is not counted twice). Objects are named once,
    on the first ``ob=`` or ``cob=`` that mentions them, then by number."""
    names, own, current, after_call = {}, Counter(), None, False
    with open(callgrind_file) as lines:
        for line in lines:
            if line.startswith(("ob=", "cob=")):
                number, _, name = line.partition("=")[2].strip().partition(" ")
                names.setdefault(number, name)
                if line.startswith("ob="):
                    current = number
            elif line.startswith("calls="):
                after_call = True
            elif line[:1] in "0123456789+-*":  # a cost line: a position, then the instruction count
                if not after_call:
                    own[current] += int(line.split()[-1])
                after_call = False
    return Counter({names[number]: count for number, count in own.items()})


def object_label(path: str) -> str:
    # oneDNN writes its convolution kernels at run time, into memory no file backs.
    if path == "???":
        return "kernels generated at run time (oneDNN)"
    return f"`{path.partition('site-packages/')[2] or Path(path).name}`"


def where_the_difference_runs(hand: dict, recipe: dict, rows: int = 6) -> str:
    """A Markdown table: the shared objects whose instructions a step (``hand`` and ``recipe``: object
    to count) differ most between the two programs."""
    difference = {name: recipe.get(name, 0) - hand.get(name, 0) for name in hand.keys() | recipe.keys()}
    largest = sorted(difference, key=lambda name: -abs(difference[name]))[:rows]
    rest = [name for name in difference if name not in largest]

    def row(label: str, names: list) -> str:
        hand_count, recipe_count = sum(hand.get(n, 0) for n in names), sum(recipe.get(n, 0) for n in names)
        relative = f"{(recipe_count / hand_count - 1) * 100:+.2f}%" if hand_count else "new"
        return f"| {label} | {hand_count / 1e3:,.1f} k | {recipe_count / 1e3:,.1f} k | {(recipe_count - hand_count) / 1e3:+,.1f} k | {relative} |"

    lines = [row(object_label(name), [name]) for name in largest] + [row("everything else", rest),
                                                                    row("all", list(difference))]
    return "\n".join(["| code | hand loop, a step | recipe, a step | difference | relative |",
                      "| --- | ---: | ---: | ---: | ---: |", *lines])


def missing_tools() -> list:
    return [name for name, found in (("valgrind", shutil.which("valgrind")), ("a C compiler (cc)", shutil.which("cc")),
                                     (str(CALLGRIND_HEADER), CALLGRIND_HEADER.exists())) if not found]


def main() -> None:
    print("### Instructions a training step executes (callgrind; recipe and hand-written loop as above)\n")
    missing = missing_tools()
    if missing:
        print(f"Not measured: this machine lacks {', '.join(missing)}.")
        return
    folder = Path(tempfile.mkdtemp(prefix="mlx-instructions-"))
    (folder / "toggle.c").write_text(TOGGLE_SOURCE)
    toggle_library = str(folder / "toggle.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", toggle_library, str(folder / "toggle.c")], check=True)
    programs = {"hand loop": parity.hand_command(EPOCHS, folder / "hand"),
                "recipe": parity.recipe_command(parity.resolved_config(EPOCHS), folder / "recipe"),
                parity.WITH_LIBRARIES: parity.hand_command(EPOCHS, folder / "libraries", recipe_libraries=True)}
    children = {}
    for name, (args, env) in programs.items():
        files = folder / name.replace(" ", "-").replace("'", "")
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
                   f"--callgrind-out-file={files}.callgrind", sys.executable, __file__, "--count", toggle_library, *args]
        with open(f"{files}.log", "w") as log:
            child = subprocess.Popen(command, env={**env, **parity.ONE_THREAD, **parity.STEADY_MALLOC, "PYTHONHASHSEED": "0"},
                                     cwd=folder, stdout=subprocess.DEVNULL, stderr=log)
        children[name] = (files, child)
    per_step, objects_per_step = {}, {}
    for name, (files, child) in children.items():
        log = Path(f"{files}.log").read_text() if child.wait() == 0 else ""
        batches = re.search(r"counted batches: (\d+)", log)
        if not batches:
            raise SystemExit(f"{name} under callgrind failed (exit status {child.returncode}); its output: {files}.log")
        steps = int(batches.group(1))
        by_object = instructions_by_object(f"{files}.callgrind")
        per_step[name] = (sum(by_object.values()) / steps, steps)
        objects_per_step[name] = {path: count / steps for path, count in by_object.items()}
    hand = per_step["hand loop"][0]

    def over_hand(name: str, count: float) -> str:
        return "" if name == "hand loop" else f"{(count / hand - 1) * 100:+.2f}%"

    rows = "\n".join(f"| {name} | {steps} | {count / 1e6:.3f} M | {over_hand(name, count)} |"
                     for name, (count, steps) in per_step.items())
    print(f"""Every instruction each process executed during {COUNTED_PASSES} training passes (after one of warm-up),
Python, torch's kernels and the DataLoader alike, over the optimiser steps of those passes.

| program | steps counted | instructions a step | over the hand loop |
| --- | ---: | ---: | ---: |
{rows}

Where the recipe's extra instructions run: each shared object's own instructions a step (not those of
what it calls), the recipe against the hand loop.

{where_the_difference_runs(objects_per_step["hand loop"], objects_per_step["recipe"])}
""")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--count"]:
        count_passes(sys.argv[2], sys.argv[3:])
    else:
        main()
