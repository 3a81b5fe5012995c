#!/usr/bin/env bash
# `make bench` (every benchmark) or `bench/run.sh NAME...` (the ones named): each benchmark's
# Markdown section replaces its own in docs/benchmarks.md (bench/splice.mjs), dated; the others
# are kept as they were measured.
set -euo pipefail
cd "$(dirname "$0")/.."
all=(validate compare-10k startup ingest json-output recipe-quality parity parity-resnet18 parity-instructions sweep sweep-text diagnostics)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for name in "${names[@]}"; do
  case "$name" in
    validate) command=(node bench/validate-many.mjs) ;;
    compare-10k) command=(node bench/compare-10k.mjs) ;;
    startup) command=(node bench/startup.mjs) ;;
    ingest) command=(node bench/ingest.mjs) ;;
    json-output) command=(node bench/json-output.mjs) ;;
    recipe-quality) command=(node bench/recipe-quality.mjs) ;;
    parity) command=(env WORKLOAD=digits .venv/bin/python bench/parity.py) ;;
    parity-resnet18) command=(env WORKLOAD=resnet18 .venv/bin/python bench/parity.py) ;;
    parity-instructions) command=(.venv/bin/python bench/parity_instructions.py) ;;
    sweep) command=(node bench/sweep.mjs) ;;
    sweep-text) command=(node bench/sweep-text.mjs) ;;
    diagnostics) command=(node bench/diagnostics.mjs) ;;
    *) echo "bench/run.sh: no benchmark named $name (there are: ${all[*]})" >&2; exit 2 ;;
  esac
  out=$(mktemp)
  echo "bench: $name" >&2
  "${command[@]}" > "$out"
  node bench/splice.mjs "$name" "$out"
  rm -f "$out"
done
cat docs/benchmarks.md
