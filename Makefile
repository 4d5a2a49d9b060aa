# Two commands on a fresh machine: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TOOLS := .venv-tools
# Glue 5.0's runtime (Spark 3.5.4, its pandas, pyarrow, numpy): the Spark tests of what the Glue
# jobs run (streaming transforms and stateful operator, compaction transforms) run there too.
GLUE := .venv-glue
GLUE_STAMP := $(GLUE)/.installed-stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test test-glue lint bench stack-up stack-down clean

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
	$(BIN)/pytest -q -n auto --maxprocesses 4 --dist loadfile
	$(MAKE) --no-print-directory test-glue

# The project without its dependencies (Glue provides them, the wheel brings only gridtape).
$(GLUE_STAMP): constraints-glue.txt pyproject.toml
	test -x $(GLUE)/bin/python || $(PY) -m venv $(GLUE)
	$(GLUE)/bin/pip install -q --upgrade pip
	$(GLUE)/bin/pip install -q -r constraints-glue.txt
	$(GLUE)/bin/pip install -q --no-deps -e .
	touch $@

# Tests marked glue (streaming) and the compaction transforms, on Glue 5.0's versions.
test-glue: $(GLUE_STAMP)
	$(GLUE)/bin/pytest -q -m glue tests/streaming
	$(GLUE)/bin/pytest -q tests/batch/test_compaction.py

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

# The benchmark peers (gridstatus) are an extra, installed only here (once, like the rest).
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py

stack-up: install
	$(BIN)/gridtape stack up

stack-down:
	-$(BIN)/gridtape stack down

clean: stack-down
	rm -rf $(VENV) $(TOOLS) $(GLUE) .gridtape .pytest_cache .mypy_cache .ruff_cache
