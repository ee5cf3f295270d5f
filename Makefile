# ideal — developer entry points. Everything installs into .venv; after the first install
# nothing here needs the network. Offline settings for Prefect and GX live in
# ideal/runtime.py and are applied by the CLI, the tests and the benchmarks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP := $(BIN)/python -m pip --disable-pip-version-check --no-input

.PHONY: demo test lint bench install docs clean serve serve-stop

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[dev]"
	$(BIN)/python -c "import ideal.cli"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/ideal demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check ideal pipelines tests bench data
	$(BIN)/ruff format --check ideal pipelines tests bench data
	$(BIN)/mypy ideal pipelines

bench: $(STAMP)
	$(BIN)/python -m bench

# A local Prefect server on 127.0.0.1 with ideal's deployments and a process worker;
# state and logs under $(IDEAL_HOME)/prefect-server (default var/), PIDs in pids.json.
serve: $(STAMP)
	$(BIN)/python -m pipelines.serve start

serve-stop:
	$(BIN)/python -m pipelines.serve stop

docs: $(STAMP)
	$(BIN)/ideal docs

clean:
	rm -rf var reports/*/ .pytest_cache .mypy_cache .ruff_cache
