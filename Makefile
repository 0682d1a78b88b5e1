# Every install step lives here: `make run` and `make test` work on a fresh Debian with only Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run demo test lint typecheck unit bench bench-htc clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv failed; installing Debian's python3-venv"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq python3-venv; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq python3-venv; fi; \
	  rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	@BIN=$(BIN) bash examples/live-demo.sh

demo: $(STAMP)
	$(BIN)/hal demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# Three workers on two cores: most live tests wait on servers and job processes, not the CPU (a run with two used
# 1.35 cores on average); worksteal evens out the long tests at the end.
# Byte-compiled once here: where PYTHONDONTWRITEBYTECODE is set, every server and CLI the live tests start would
# otherwise compile HAL's modules again (half a second of CPU per server start).
unit: $(STAMP)
	$(BIN)/python -m compileall -q src > /dev/null
	$(BIN)/pytest -n 3 --dist worksteal

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/engine_speed.py

bench-htc: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/htc.py --runs 3 --transport --write

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
