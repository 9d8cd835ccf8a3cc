# Tally: `make demo` builds and serves a demo ledger; `make test` runs the whole suite.
# Both set up the virtual environment in .venv first (Python 3.11 or newer).
# `make demo PORT=8001` serves on another port; `make test JOBS=1` runs the tests serially.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= var
DEMO_DB := sqlite:///$(DEMO_DIR)/demo.db
DEMO_KEY := $(DEMO_DIR)/demo.key
PORT ?= 8000
# Test processes (pytest-xdist); `auto` is one per core.
JOBS ?= auto

# The browser tests drive Debian's chromium; Playwright must never download one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: demo test lint pytest bench vectors install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Tally needs Python 3.11 or newer; found " + sys.version.split()[0] + " (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@mkdir -p $(DEMO_DIR)
	$(BIN)/tally --db $(DEMO_DB) --key $(DEMO_KEY) demo --seed 1 --port $(PORT)

test: lint pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy --strict --explicit-package-bases bench
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest -n $(JOBS) --dist worksteal

bench: $(STAMP)
	$(BIN)/python -m bench

vectors: $(STAMP)
	$(BIN)/python specs/vectors/generate.py
	$(BIN)/python specs/vectors/receipts_generate.py
	$(BIN)/python specs/vectors/invalid_generate.py
	$(BIN)/python specs/vectors/retirement_generate.py
	$(BIN)/python specs/vectors/requests_generate.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts
