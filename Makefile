# Two commands set up everything on a fresh machine: `make run` and `make test`.
# Both create .venv (Python 3.11) and install the pinned stack the first time, and reuse it afterwards
# (reinstalled only when pyproject.toml or constraints.txt changes). constraints.txt pins every resolved package, so
# two installs months apart get the same versions; `make lock` refreshes it from a fresh resolution.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export HF_HUB_OFFLINE ?= 1
export MPLBACKEND := Agg

.PHONY: run test lint lock viz viz-build mlflow-ui graphviz benchmark clean-data mutate readme-tables

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned stack into $(VENV) (first time: about 3 minutes, 6.6 GB with torch)…"
	$(BIN)/python -m pip install -qq -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

# Re-resolve the stack in a throw-away venv and pin every package it installs (run after editing pyproject.toml).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -qq -e '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^ndg.pipeline' > constraints.txt
	rm -rf .lock-venv

# Graphviz draws the dependency graph. Installed with apt-get where we can; otherwise say what is missing.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Graphviz (apt-get install graphviz)…"; \
	    (apt-get install -y -qq graphviz >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq graphviz >/dev/null 2>&1)) \
	      || echo "WARNING: could not install Graphviz; graph pictures will be skipped (the HTML view still works)."; \
	  else \
	    echo "NOTE: Graphviz 'dot' not found; install it (apt-get install graphviz / brew install graphviz) for graph pictures."; \
	  fi; }

run: $(STAMP) graphviz  ## every lens and the timeline on one model, on the embedded data
	$(BIN)/kedro run

test: $(STAMP) graphviz  ## the test suite
	$(BIN)/python -m pytest -q

# Mutation testing of the science cores (on demand, not in CI): mutmut changes one operator or constant at a time and
# runs the fast unit tests that reach it; prints killed / survived / timeout and the score per module.
# MODULES="ndg/edges.py ndg/counting.py" limits it to some modules.
mutate: $(STAMP)
	$(BIN)/python tools/mutation_score.py $(MODULES)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

readme-tables: $(STAMP)  ## the README's result tables, from the newest outputs made with the project's parameters
	$(BIN)/python -m ndg_pipeline.reporting.readme

viz-build: $(STAMP)
	$(BIN)/kedro viz build

viz: $(STAMP)
	$(BIN)/kedro viz run --host 127.0.0.1 --port 4141 --no-browser

mlflow-ui: $(STAMP)
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow ui -w 1 --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host 127.0.0.1 --port 5000

benchmark: $(STAMP)
	$(BIN)/python benchmarks/mine_edges.py
