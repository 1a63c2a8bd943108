# Steward: `make demo` runs the demo, `make test` runs every check, `make lock` re-pins requirements.lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Every install takes its exact versions from the lock (pyproject.toml holds the ranges).
LOCKED := -c requirements.lock

.PHONY: demo test lint typecheck contracts pytest clean docs lock wheel-check

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Steward needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet $(LOCKED) -e .
	@touch $@

$(VENV)/.dev: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet $(LOCKED) -e '.[dev]'
	@touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	$(BIN)/steward demo

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy steward

contracts: $(VENV)/.dev
	$(BIN)/lint-imports

pytest: $(VENV)/.dev
	$(BIN)/pytest -n 4 --dist loadfile

test: lint typecheck contracts pytest

# Re-resolve pyproject.toml (with the dev extra) into exact pins; commit the result.
lock: | $(BIN)/python
	$(BIN)/python .ci/lock.py

# Build the wheel, install it into a fresh virtualenv, check it runs without the checkout (slow: not in CI).
wheel-check: | $(BIN)/python
	$(BIN)/python benchmarks/scripts/wheel_check.py

docs: $(VENV)/.runtime
	$(BIN)/steward permissions > docs/permissions.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
