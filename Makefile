# The two commands: `make demo` runs the penguin pipeline and prints where the card is;
# `make test` runs the linters and the whole test suite. Both set up .venv first.
SHELL := /bin/bash
PYTHON := .venv/bin/python
STAMP := .venv/.installed
DEMO_DIR ?= build/demo
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test lint format lock clean

$(STAMP): requirements.lock setup.py pyproject.toml
	@bash scripts/bootstrap.sh

demo: $(STAMP)
	$(PYTHON) -m pipelines.run_local --output-dir $(DEMO_DIR)

test: $(STAMP) lint
	$(PYTHON) -m pytest

lint: $(STAMP)
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

format: $(STAMP)
	$(PYTHON) -m ruff check --fix .
	$(PYTHON) -m ruff format .

# Re-resolve requirements.in into requirements.lock (needs the package index).
lock:
	uv pip compile --python "$$(bash scripts/find_python310.sh)" \
		--python-platform x86_64-manylinux_2_36 requirements.in -o requirements.lock

clean:
	rm -rf build .pytest_cache .ruff_cache
