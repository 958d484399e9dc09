# Two commands matter: `make run` (server + demo data on the embedded PostgreSQL)
# and `make test` (installs what the tests need, then runs the whole suite).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup tools run test lint bench bench-sky clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,demo]'
	touch $(STAMP)

run: setup
	$(VENV)/bin/vo-server serve --demo

# Tools the tests run (TOPCAT's STILTS: taplint, votlint, tapquery); Debian package, needs root.
tools:
	@command -v stilts >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq stilts; }

test: setup tools
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/ingest.py
	$(PY) bench/oai_harvest.py
	$(PY) bench/sia.py
	$(PY) bench/xmatch.py --fallback-rows 10
	$(PY) bench/tap_latency.py
	$(PY) bench/tap_stream.py

# Sky benchmarks against q3c and pgSphere on Debian's PostgreSQL 15 (docs/sky.md).
bench-sky: setup
	apt-get install -y postgresql-15 postgresql-15-q3c postgresql-15-pgsphere >/dev/null
	$(PY) bench/cone.py
	$(PY) bench/gw_overlap.py

clean:
	rm -rf $(VENV) var .pytest_cache
