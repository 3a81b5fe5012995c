"""bench/parity_instructions.py's reading of callgrind files: which shared object runs the instructions."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from parity_instructions import instructions_by_object, object_label, where_the_difference_runs

# Shaped as callgrind writes it: names compressed to numbers after their first mention (here the first
# mention of libtorch is a callee's cob=), a call's inclusive cost on the line after calls=, and
# relative positions (+N, -N, *).
PYTHON_CALLS_TORCH = """# callgrind format
version: 1
positions: line
events: Ir
summary: 1170

ob=(1) /usr/lib/libpython3.11.so.1.0
fl=(1) ceval.c
fn=(1) _PyEval_EvalFrameDefault
10 100
+2 50
cob=(2) /site-packages/torch/lib/libtorch_cpu.so
cfl=(2) conv.cpp
cfn=(2) conv
calls=3 40
* 1000
-1 {python_tail}

ob=(2)
fl=(2)
fn=(2)
40 1000
ob=(3) ???
fn=(3) 0x00000000e0a4e000
0 {generated}
"""


def callgrind_file(folder: Path, name: str, python_tail: int = 20, generated: int = 0) -> str:
    path = folder / name
    path.write_text(PYTHON_CALLS_TORCH.format(python_tail=python_tail, generated=generated))
    return str(path)


def test_each_object_counts_its_own_instructions_and_a_call_is_not_counted_twice(tmp_path):
    counts = instructions_by_object(callgrind_file(tmp_path, "a.callgrind", generated=7))
    assert counts == {"/usr/lib/libpython3.11.so.1.0": 170, "/site-packages/torch/lib/libtorch_cpu.so": 1000, "???": 7}


def test_objects_are_labelled_by_their_package_path_and_generated_code_by_what_makes_it():
    assert object_label("/x/.venv/lib/python3.11/site-packages/torch/lib/libtorch_cpu.so") == "`torch/lib/libtorch_cpu.so`"
    assert object_label("/usr/lib/libpython3.11.so.1.0") == "`libpython3.11.so.1.0`"
    assert object_label("???") == "kernels generated at run time (oneDNN)"


def test_the_table_puts_the_largest_difference_a_step_first(tmp_path):
    hand = instructions_by_object(callgrind_file(tmp_path, "hand.callgrind"))
    recipe = instructions_by_object(callgrind_file(tmp_path, "recipe.callgrind", python_tail=220, generated=2))
    table = where_the_difference_runs(hand, recipe, rows=1).splitlines()
    assert table[2] == "| `libpython3.11.so.1.0` | 0.2 k | 0.4 k | +0.2 k | +117.65% |"
    assert table[3] == "| everything else | 1.0 k | 1.0 k | +0.0 k | +0.20% |"
    assert table[4] == "| all | 1.2 k | 1.4 k | +0.2 k | +17.26% |"
