# Nexus: two commands on a fresh machine, `make demo` and `make test`.
# Each creates .venv when missing and installs what it needs: torch==2.13.0 first and on
# its own (the CPU wheel; a resolver left to pick torch would pull gigabytes of CUDA),
# then this package with its dev extras.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.nexus-installed
TORCH  := torch==2.13.0

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q $(TORCH)
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## The main job: nexus up. Data (simulated if the store is empty), first champions (a short
## training run if the registry is empty), the live feed, the engine, the API and dashboard
## at http://127.0.0.1:8000/. Ctrl-C stops it; run it again to resume.
demo: $(STAMP)
	$(BIN)/nexus up

## The whole test suite (unit, integration, e2e, validation, doctests).
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

## Speed figures as JSON (see docs/benchmarks.md).
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/learning.py
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[bench]'
	$(BIN)/python benchmarks/backtest.py
	$(BIN)/python benchmarks/live_latency.py --symbols 20 --clients 100
	$(BIN)/python benchmarks/live_latency.py --symbols 500 --clients 100
	$(BIN)/python benchmarks/monitor.py --symbols 20

clean:
	rm -rf $(VENV) .nexus .pytest_cache .ruff_cache
