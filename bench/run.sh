#!/usr/bin/env bash
# `make bench`: runs every benchmark and writes docs/benchmarks.md from their output.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/benchmarks.md
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (bench/run.sh); do not edit by hand. Measured $(date -u +%Y-%m-%d) on $(nproc) cores,"
  echo "Node $(node --version). The machines are shared and noisy: each figure is a ratio to a baseline"
  echo "measured in the same run, interleaved."
  echo
  node bench/validate-many.mjs
  echo
  node bench/compare-10k.mjs
  echo
  node bench/recipe-quality.mjs
  echo
  .venv/bin/python bench/parity.py
  echo
  .venv/bin/python bench/parity_instructions.py
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
