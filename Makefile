# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TOOLS := .venv-tools
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test lint bench stack-up stack-down clean

$(STAMP): pyproject.toml constraints.txt
	@command -v java >/dev/null || { echo "gridtape needs Java 17+ for Spark (apt-get install openjdk-17-jre-headless)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/gridtape demo

test: install
	$(BIN)/pytest -q

# checkov lives in its own venv: its pins would fight the project's.
$(TOOLS)/.stamp: constraints-tools.txt
	test -x $(TOOLS)/bin/python || $(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q -r constraints-tools.txt
	touch $@

lint: install $(TOOLS)/.stamp
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/cfn-lint infra/*.yaml
	$(TOOLS)/bin/checkov --quiet --compact --skip-download -d infra --framework cloudformation

# The benchmark peers (gridstatus) are an extra, installed only here.
bench: install
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python bench/run.py

stack-up: install
	$(BIN)/gridtape stack up

stack-down:
	-$(BIN)/gridtape stack down

clean: stack-down
	rm -rf $(VENV) $(TOOLS) .gridtape .pytest_cache .mypy_cache .ruff_cache
