# The two commands: `make demo` runs the penguin pipeline and prints where the card is;
# `make test` runs the linters (ruff, mypy) and the whole test suite. Both set up .venv first.
SHELL := /bin/bash
PYTHON := .venv/bin/python
STAMP := .venv/.installed
DEMO_DIR ?= build/demo
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo demo-beam compile-kubeflow bench test test-fast lint format lock clean

$(STAMP): requirements.lock bench/requirements-peer.txt setup.py pyproject.toml
	@bash scripts/bootstrap.sh

demo: $(STAMP)
	$(PYTHON) -m pipelines.run_local --output-dir $(DEMO_DIR)

# The demo on BeamDagRunner; BEAM_ARGS go to the Beam-based components.
BEAM_ARGS ?= --direct_running_mode=multi_processing --direct_num_workers=0
demo-beam: $(STAMP)
	$(PYTHON) -m pipelines.run_beam --output-dir build/demo-beam --beam-pipeline-args "$(BEAM_ARGS)"

# The Kubeflow Pipelines v2 / Vertex definition: PIPELINE_ROOT=gs://BUCKET/penguin [IMAGE=…].
IMAGE ?= mct-component:latest
compile-kubeflow: $(STAMP)
	@test -n "$(PIPELINE_ROOT)" || { echo "set PIPELINE_ROOT, e.g. PIPELINE_ROOT=gs://BUCKET/penguin make compile-kubeflow" >&2; exit 2; }
	$(PYTHON) -m pipelines.run_kubeflow --pipeline-root "$(PIPELINE_ROOT)" --image "$(IMAGE)"

# Benchmark against Model Card Toolkit 2.0 (card build, the page in Chromium, our PDF)
# and lineage at scale; long (tens of minutes).
# Inputs and MLMD stores are cached in build/bench/; results go to bench/RESULTS.md.
bench: $(STAMP)
	@bash scripts/ensure_debian_packages.sh
	$(PYTHON) -m bench.run --update-results-md
	$(PYTHON) -m bench.lineage_scale --update-results-md
	$(PYTHON) -m bench.dashboard_scale --update-results-md
	$(PYTHON) -m bench.verify_scale --update-results-md
	$(PYTHON) -m bench.console_load --update-results-md

test: $(STAMP) lint
	@bash scripts/ensure_debian_packages.sh
	$(PYTHON) -m pytest

# The pure tier while working: no pipeline run, TensorFlow, browser or MariaDB; on both
# cores (pytest-xdist), under a minute.
test-fast: $(STAMP)
	$(PYTHON) -m pytest -m "not slow and not tf and not browser and not mysql" -q -n 2

lint: $(STAMP)
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

format: $(STAMP)
	$(PYTHON) -m ruff check --fix .
	$(PYTHON) -m ruff format .

# Re-resolve requirements.in into requirements.lock (needs the package index).
lock:
	"$$(bash scripts/find_python310.sh)" -m uv pip compile --python "$$(bash scripts/find_python310.sh)" \
		--python-platform x86_64-manylinux_2_36 --override requirements.override \
		requirements.in -o requirements.lock

clean:
	rm -rf build .pytest_cache .ruff_cache
