# deckcheck: `make` sets everything up, checks every deck and publishes the passing ones to site/.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DECKCHECK := $(BIN)/deckcheck
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The torch pair that this machine's pip finds on disk; override for another machine.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
# `make matrix`: the oldest torch that requirements.txt claims, the pinned one, the newest on the registry.
OLDEST_SPEC ?= $(strip $(shell sed -n -E 's/^(torch|torchvision)>=([0-9.]+).*$$/\1==\2/p' requirements.txt))
NEWEST_SPEC ?= torch==2.15.0 torchvision==0.29.2
# Lectures must not lean on what is on its way out: deprecations fail `make check` and CI.
WARNINGS ?= -W error::DeprecationWarning -W error::FutureWarning
DECKS ?= slides
ARGS ?=
SITES ?= shards/site-*
# The tests that run decks through the command, the session and the pytest plugin.
NOFORK_TESTS ?= tests/test_execution.py tests/test_failures.py tests/test_session.py tests/test_warnings.py \
	tests/test_courses.py tests/test_cuda_fork.py tests/test_pytest_plugin.py tests/test_interrupts.py

.DEFAULT_GOAL := all
.PHONY: all setup python node browser data diagrams check build html pdf handout notebook serve matrix test test-nofork static notebooks bench fuzz lint assemble course-check clean

all: build

setup: python node browser data

python: $(PY_STAMP)
# deckcheck (with the browser extra and the dev tools), and the lectures' requirements beside it.
$(PY_STAMP): pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(TORCH_SPEC) 2> >(grep -v "is ignored: it is neither" >&2)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -e '.[browser,dev]' 2> >(grep -v "is ignored: it is neither" >&2)
	touch $@

node: $(NODE_STAMP)
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

browser:
	@scripts/ensure-browser.sh

data: $(PY_STAMP)
	$(BIN)/python scripts/fetch_data.py

diagrams: $(PY_STAMP)
	$(BIN)/python scripts/draw_autograd_graphs.py

check: python data
	$(DECKCHECK) check $(DECKS) --locked-outputs $(WARNINGS) $(ARGS)

build: setup
	$(DECKCHECK) build $(DECKS) $(WARNINGS) $(ARGS)

html: setup
	$(DECKCHECK) build --formats html $(DECKS) $(WARNINGS) $(ARGS)

pdf: setup
	$(DECKCHECK) build --formats pdf $(DECKS) $(WARNINGS) $(ARGS)

handout: setup
	$(DECKCHECK) build --formats handout $(DECKS) $(ARGS)

notebook: setup
	$(DECKCHECK) build --formats ipynb $(DECKS) $(ARGS)

serve: setup
	$(DECKCHECK) serve $(DECKS) $(WARNINGS) $(ARGS)

matrix: python data
	$(DECKCHECK) matrix $(DECKS) --with "$(OLDEST_SPEC)" --with "$(TORCH_SPEC)" --with "$(NEWEST_SPEC)" \
		$(WARNINGS) --markdown MATRIX.md $(ARGS)

# What we write is checked before it is run: ruff (lint and format), mypy and deptry (every
# package deckcheck imports is declared in pyproject.toml, and none it does not), then the tests.
test: setup static
	$(BIN)/pytest -q $(ARGS)

# The path macOS and Windows users get: every kernel a fresh interpreter, no fork server.
test-nofork: setup
	DECKCHECK_FORK=0 $(BIN)/pytest -q $(NOFORK_TESTS) $(ARGS)

static: python
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy
	$(BIN)/deptry src

notebooks: setup
	$(BIN)/pytest -q -m lectures tests/test_notebooks.py $(ARGS)

bench: setup
	$(BIN)/python scripts/bench.py $(ARGS)

fuzz: python
	$(BIN)/pytest -q tests/test_fuzz.py tests/test_parser.py --hypothesis-profile=long $(ARGS)

lint: static node
	$(BIN)/python -m deckcheck.workflow_lint

# A new course from `deckcheck init`, outside this repository: make, make test, a deck added, npx.
course-check: python
	DECKCHECK=$(CURDIR)/$(DECKCHECK) scripts/course_check.sh

# One site from the sites that the CI shards built (`deckcheck build --shard K/N`).
assemble: python
	$(DECKCHECK) assemble $(SITES) --site site

clean:
	rm -rf site shards .cache build .pytest_cache .ruff_cache .hypothesis
