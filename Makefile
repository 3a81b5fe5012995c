# mlx: `make demo` (set up, train the demo config, print the compare table) and
# `make test` (set up, run every test). Both are idempotent; `make setup` is what they share.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV   := .venv
PYTHON := $(VENV)/bin/python
MLX    := NODE_ENV=production node bin/run.js
# The files tsc compiles; dist is rebuilt when any of them changes.
SOURCES := $(shell find src -name '*.ts' -o -name '*.tsx') tsconfig.json

.PHONY: setup demo test test-python test-node lint docs bench clean install

setup: node_modules/.package-lock.json $(VENV)/.installed dist/.built

# npm writes node_modules/.package-lock.json on every install: it stands for "installed".
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(VENV)/.installed: python/requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r python/requirements.txt
	touch $@

# The terminal UI is then bundled with ink and React into one file (dist/ui/render.js):
# one module loads much faster than ink's hundred-odd; so do the command table with oclif
# (dist/commands/index.js, build/bundle-commands.mjs) and zod and yaml, one module each
# (dist/vendor/, build/vendor.mjs). docs/benchmarks.md has the figures (bench/startup.mjs).
dist/.built: node_modules/.package-lock.json $(SOURCES) build/bundle-commands.mjs build/vendor.mjs
	rm -rf dist
	npx tsc -p tsconfig.json
	node build/bundle-commands.mjs
	npx esbuild src/ui/render.tsx --bundle --platform=node --format=esm --target=node20 \
	  --outfile=dist/ui/render.js --sourcemap --log-level=warning \
	  --define:process.env.NODE_ENV='"production"' --alias:react-devtools-core=./src/ui/no-devtools.ts \
	  --banner:js="import {createRequire as mlxCreateRequire} from 'node:module'; const require = mlxCreateRequire(import.meta.url);"
	node build/vendor.mjs
	touch $@

# `make install`: mlx on the PATH without root, as a link in $(PREFIX)/bin (default ~/.local/bin,
# which most shells put on the PATH) to this checkout's bin/run.js.
PREFIX ?= $(HOME)/.local
install: setup
	mkdir -p "$(PREFIX)/bin"
	ln -sfn "$(CURDIR)/bin/run.js" "$(PREFIX)/bin/mlx"
	@echo "installed: $(PREFIX)/bin/mlx"
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo "$(PREFIX)/bin is not on your PATH: add  export PATH=\"$(PREFIX)/bin:\$$PATH\"  to your shell's rc file";; esac
	@echo "shell completion: mlx autocomplete bash (or zsh) says the line to add"

demo: setup
	$(MLX) run configs/image-classification.yaml
	$(MLX) compare --last 5

test: setup test-python test-node

test-python: $(VENV)/.installed dist/.built
	cd python && ../$(PYTHON) -m pytest -q -rs

test-node: setup
	npx vitest run

# ESLint and Prettier (oclif's settings) on the TypeScript, tsc over src, test and bench together,
# ruff on the Python.
lint: node_modules/.package-lock.json $(VENV)/.installed
	npx tsc -p tsconfig.check.json
	npx eslint .
	npx prettier --check .
	$(VENV)/bin/ruff check .

# Benchmarks (not tests): ratios measured in one run, written into docs/benchmarks.md.
bench: setup
	bench/run.sh

# Files generated from the config schema (tests fail when they are stale).
docs: setup
	$(MLX) schema > mlx.schema.json
	$(MLX) schema --markdown > docs/config-reference.md

clean:
	rm -rf dist node_modules $(VENV) .mlx
