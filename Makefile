# kubeslim: `make demo` and `make test` set everything up themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KUBESLIM := $(VENV)/bin/kubeslim
STAMP := $(VENV)/.kubeslim-installed
IMAGE ?= ghcr.io/kubeslim/kubeslim:latest
GPU_IMAGE ?= $(IMAGE)
LOCAL_IMAGE ?= kubeslim:local
LOCAL_GPU_IMAGE ?= kubeslim-gpu:local
PIPELINE ?= image_classifier
PIPELINE_YAML ?= build/kubeslim-$(subst _,-,$(PIPELINE)).yaml
PIPELINE_ROOT ?= runs
TEXT_PIPELINES := word2vec language_model translation

.DEFAULT_GOAL := help
.PHONY: help install demo test test-dask compile-pipeline compile-pipelines run-local run-word2vec run-language-model run-translation test-containers image image-gpu bench bench-convert profile-convert profile-word2vec bench-input bench-train bench-text docs lint format lock clean

help: ## Show this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Reinstalls only when pyproject.toml or the lock change; an existing .venv is reused.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

install: $(STAMP) ## Create .venv and install the locked dependencies and kubeslim (once)

demo: install compile-pipeline run-local ## Compile the pipeline, then run it locally on the embedded digits

# One worker more than the cores (the tests that wait on subprocesses leave a core idle at
# times), at most 8: each worker holds its own TensorFlow.
TEST_WORKERS ?= $(shell n=$$(( $$(nproc 2>/dev/null || echo 2) + 1 )); echo $$(( n > 8 ? 8 : n )))
test: install ## Run the test suite on cores + 1 pytest-xdist workers (at most 8), TEST_WORKERS=N to change (all but the Dask and container tiers)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

test-dask: install ## Start a Dask cluster (scheduler, 2 workers on 127.0.0.1), run every Beam job on it, stop it
	$(PY) -m pytest -o addopts="--import-mode=importlib -ra" -p no:cacheprovider tests/dask

test-containers: install ## Build the CPU image (Docker set up if needed) and run both pipelines in it
	ops/test-containers.sh

image: ## Build the CPU component image, LOCAL_IMAGE=kubeslim:local (BASE_IMAGE=... to change the base)
	ops/build-image.sh cpu $(LOCAL_IMAGE)

image-gpu: ## Build the GPU component image, LOCAL_GPU_IMAGE=kubeslim-gpu:local
	ops/build-image.sh gpu $(LOCAL_GPU_IMAGE)

compile-pipeline: install ## Write a KFP pipeline's YAML for the Kubeflow UI (PIPELINE=image_classifier, IMAGE=..., GPU_IMAGE=...)
	$(KUBESLIM) compile-pipeline --pipeline $(PIPELINE) --output $(PIPELINE_YAML) --image $(IMAGE) --gpu_image $(GPU_IMAGE)

compile-pipelines: install ## Write the YAML of every pipeline: image classifier and the three text models
	@for p in image_classifier $(TEXT_PIPELINES); do \
	  $(KUBESLIM) compile-pipeline --pipeline $$p --output build/kubeslim-$$(echo $$p | tr _ -).yaml --image $(IMAGE) --gpu_image $(GPU_IMAGE) || exit 1; \
	done

run-local: install ## Run a whole pipeline with kfp.local; outputs under runs/ (PIPELINE=..., ARGS="--num_epochs 5 ...")
	$(KUBESLIM) run-local --pipeline $(PIPELINE) --pipeline_root $(PIPELINE_ROOT) $(ARGS)

run-word2vec: install ## Run the word2vec pipeline locally on the embedded pydoc_text (ARGS=...)
	$(KUBESLIM) run-local --pipeline word2vec --pipeline_root $(PIPELINE_ROOT) $(ARGS)

run-language-model: install ## Run the PTB language-model pipeline locally on the embedded pydoc_text (ARGS=...)
	$(KUBESLIM) run-local --pipeline language_model --pipeline_root $(PIPELINE_ROOT) $(ARGS)

run-translation: install ## Run the translation pipeline locally on the embedded numbers_enfr (ARGS=...)
	$(KUBESLIM) run-local --pipeline translation --pipeline_root $(PIPELINE_ROOT) $(ARGS)

bench: bench-convert bench-input bench-train bench-text ## Run every benchmark (results under benchmarks/results/)

bench-convert: install ## Converter speed and memory: Beam vs one process vs TF-Slim's loop (minutes)
	$(PY) benchmarks/bench_convert.py

bench-input: install ## Input pipeline examples/s per preprocessing vs LeNet/CifarNet training rate
	$(PY) benchmarks/bench_input.py

bench-train: install ## LeNet/CifarNet training images/s: fed from TFRecords vs from memory
	$(PY) benchmarks/bench_train.py

profile-convert: install ## Where the converter's CPU goes: CPU vs wall per variant, cProfile (minutes)
	$(PY) benchmarks/profile_convert.py

profile-word2vec: install ## Where word2vec's time goes: fixed costs, pipeline vs step, kernel cost per row (minutes)
	$(PY) benchmarks/profile_word2vec.py

bench-text: install ## word2vec vs gensim (pydoc_text; gensim's enwiki at 100/200 dims), PTB small words/s (minutes)
	$(PY) benchmarks/bench_text.py
	$(PY) benchmarks/bench_enwiki.py

docs: install ## Rewrite the README's flag reference from the options dataclasses
	$(PY) -m kubeslim.cli.reference --write

lint: install ## Check formatting and lint with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## Format the code with ruff
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lock: ## Re-resolve the dependencies into requirements.lock and requirements-runtime.lock (minutes)
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet --disable-pip-version-check ".[dev]"
	{ echo "# Full lock of kubeslim's runtime and dev dependencies (Python 3.11, Linux x86_64)."; \
	  echo "# Regenerate with: make lock"; \
	  build/lock-venv/bin/pip freeze --exclude-editable | grep -v '^kubeslim'; } > requirements.lock
	build/lock-venv/bin/pip install --quiet --dry-run --ignore-installed \
	  --report build/runtime-report.json -c requirements.lock .
	$(PYTHON) ops/runtime_lock.py build/runtime-report.json > requirements-runtime.lock
	rm -rf build/lock-venv

clean: ## Remove build outputs and local runs (keeps .venv)
	rm -rf build $(PIPELINE_ROOT) .pytest_cache
