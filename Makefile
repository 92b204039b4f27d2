# limelight — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEMO_DB ?= demo/limelight.duckdb
export SPARK_LOCAL_IP ?= 127.0.0.1
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test venv system-deps lint typecheck pytest bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel
	$(PIP) install -q -e '.[deep,spark,test]'
	touch $@

venv: $(VENV)/.installed

# Debian packages the suite needs: a JDK for Spark local mode, Chromium for the dashboard's browser tests.
system-deps:
	@if ! command -v java >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; fi
	@if [ ! -x /usr/bin/chromium ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi
	@if ! command -v wrk >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) || true; fi

demo: venv
	$(VENV)/bin/limelight demo --db $(DEMO_DB) --serve

lint: venv
	$(VENV)/bin/ruff check --no-cache src tests benchmarks

typecheck: venv
	$(VENV)/bin/mypy

pytest: venv system-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider --timeout=600

test: lint typecheck pytest

bench: venv
	@echo "see docs/benchmarks.md for each benchmark's command"

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
