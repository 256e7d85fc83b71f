# Every target sets itself up: a fresh clone needs only python3 (>= 3.10) and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: all install test lint typecheck check-spec generate drift pytest demo bench sandbox clean redis-server

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

LINTED := src codegen tests $(wildcard bench)

lint: $(STAMP)
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)

typecheck: $(STAMP)
	$(PY) -m mypy

check-spec: $(STAMP)
	$(PY) -m codegen check

# Regenerates, then shows what changed against the last committed catalogue.
generate: $(STAMP)
	$(PY) -m codegen generate
	-$(PY) -m codegen diff HEAD

# Fails when the committed generated code is not what the catalogue produces.
drift: $(STAMP)
	$(PY) -m codegen generate --check

# Real services the tests use: a redis-server binary (Debian's package) when absent.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || ./.ci/install-redis

pytest: $(STAMP) redis-server
	$(PY) -m pytest -q

test: lint typecheck check-spec drift pytest

demo: $(STAMP)
	$(PY) -m temu_async.cli demo

bench: $(STAMP)
	$(PY) bench/run_all.py

sandbox: $(STAMP)
	$(PY) -m temu_async.cli sandbox

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache
