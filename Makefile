# Set-up is part of every target: on a fresh machine `make serve` or `make test` is enough.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080

.PHONY: setup serve test lint unit integration e2e soak

setup: $(STAMP)

# uv installs what pip would, from the same index, in seconds rather than minutes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/switchboard serve --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain adapters entrypoints infra
	$(BIN)/mypy loadtests
	$(BIN)/mypy --explicit-package-bases tests
	$(BIN)/lint-imports
	bash infra/lint.sh

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration tests/contract

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

# Two processes: CI has 2 cores, and many tests wait on sockets and subprocesses.
test: lint
	$(BIN)/pytest -n 2

# The soak tests (churn, load) at full length; `make test` runs them in a short form.
soak: $(STAMP)
	SWITCHBOARD_SOAK=full $(BIN)/pytest -m soak
