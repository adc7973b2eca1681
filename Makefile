# kubeslim: `make demo` and `make test` set everything up themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KUBESLIM := $(VENV)/bin/kubeslim
STAMP := $(VENV)/.kubeslim-installed
IMAGE ?= ghcr.io/kubeslim/kubeslim:latest
PIPELINE_YAML ?= build/kubeslim-image-classifier.yaml
PIPELINE_ROOT ?= runs

.DEFAULT_GOAL := help
.PHONY: help install demo test compile-pipeline run-local bench bench-convert bench-input bench-train lint format lock clean

help: ## Show this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Reinstalls only when pyproject.toml or the lock change; an existing .venv is reused.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

install: $(STAMP) ## Create .venv and install the locked dependencies and kubeslim (once)

demo: install compile-pipeline run-local ## Compile the pipeline, then run it locally on the embedded digits

test: install ## Run the test suite
	$(PY) -m pytest

compile-pipeline: install ## Write the KFP pipeline YAML to upload in the Kubeflow UI (IMAGE=...)
	$(KUBESLIM) compile-pipeline --output $(PIPELINE_YAML) --image $(IMAGE)

run-local: install ## Run the whole pipeline with kfp.local; outputs under runs/ (ARGS="--num_epochs 5 ...")
	$(KUBESLIM) run-local --pipeline_root $(PIPELINE_ROOT) $(ARGS)

bench: bench-convert bench-input bench-train ## Run every benchmark (results under benchmarks/results/)

bench-convert: install ## Converter speed and memory: Beam vs one process vs TF-Slim's loop (minutes)
	$(PY) benchmarks/bench_convert.py

bench-input: install ## Input pipeline examples/s per preprocessing vs LeNet/CifarNet training rate
	$(PY) benchmarks/bench_input.py

bench-train: install ## LeNet/CifarNet training images/s: fed from TFRecords vs from memory
	$(PY) benchmarks/bench_train.py

lint: install ## Check formatting and lint with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## Format the code with ruff
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lock: ## Re-resolve pyproject.toml's dependencies into requirements.lock (fresh venv, minutes)
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet --disable-pip-version-check ".[dev]"
	{ echo "# Full lock of kubeslim's runtime and dev dependencies (Python 3.11, Linux x86_64)."; \
	  echo "# Regenerate with: make lock"; \
	  build/lock-venv/bin/pip freeze --exclude-editable | grep -v '^kubeslim'; } > requirements.lock
	rm -rf build/lock-venv

clean: ## Remove build outputs and local runs (keeps .venv)
	rm -rf build $(PIPELINE_ROOT) .pytest_cache
