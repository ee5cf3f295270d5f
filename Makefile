# ideal — developer entry points. Everything installs into .venv; nothing needs the network
# after the first install.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PREFECT_HOME ?= $(CURDIR)/var/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_EXTRA_LOGGERS := ideal
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: demo test lint bench install clean docs

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "is ignored" || true
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v "is ignored" || true
	@$(BIN)/python -c "import ideal, duckdb, prefect, great_expectations" 
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/ideal demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check ideal pipelines tests bench
	$(BIN)/ruff format --check ideal pipelines tests bench
	$(BIN)/mypy ideal pipelines

bench: $(STAMP)
	$(BIN)/python -m bench

docs: $(STAMP)
	$(BIN)/ideal docs

clean:
	rm -rf var reports/*/ .pytest_cache .mypy_cache .ruff_cache
