# Rushes — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PACKAGES := $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
# Every hand-written package is type-checked (libs/proto holds generated code only; libs/testing
# builds media with PyAV calls whose stubs are too narrow, it is exercised by the tests instead).
TYPED_SOURCES := $(filter-out libs/proto/src libs/testing/src,$(wildcard libs/*/src services/*/src))
PROTO_STAMP := libs/proto/src/rushes/.generated
PROTOS := $(shell find proto -name '*.proto')
PYTEST_ARGS ?=
SAMPLES := $(wildcard tests/fixtures/samples/*.mp4 tests/fixtures/samples/*.mov tests/fixtures/samples/*.wav)

.PHONY: setup proto test run lint format bench clean down samples

setup: $(STAMP) $(PROTO_STAMP)

# The environment: pinned requirements (no resolver surprises): what the services run with
# (requirements.lock, all an image gets) and the test/lint/chart tools (requirements-dev.lock),
# then every lib and service editable.
$(STAMP): requirements.lock requirements-dev.lock $(PACKAGES)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-deps -r requirements.lock -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps --config-settings editable_mode=compat \
		$(foreach p,$(PACKAGES),-e $(dir $(p)))
	@touch $@

# Generated proto code: one command, one package (libs/proto/src/rushes), never committed.
proto: $(PROTO_STAMP)
$(PROTO_STAMP): $(STAMP) $(PROTOS)
	$(PY) libs/proto/generate.py
	@touch $@

# Prometheus and promtool (Debian's package, unpacked here, not installed) let the ops tests check
# the alert rules and evaluate them against a real scrape. Best effort: where apt-get cannot fetch
# it, those two tests skip and say why; nothing else depends on it.
PROMETHEUS_DIR := .cache/prometheus
$(PROMETHEUS_DIR)/usr/bin/prometheus:
	@mkdir -p $(PROMETHEUS_DIR)
	@cd $(PROMETHEUS_DIR) && { command -v apt-get >/dev/null && timeout 300 apt-get download prometheus \
		>/dev/null 2>&1 && dpkg -x prometheus_*.deb . && rm -f prometheus_*.deb; } \
		|| echo "note: Debian's prometheus package is not available; the tests that need it will skip"

test: setup $(PROMETHEUS_DIR)/usr/bin/prometheus
	PATH="$(CURDIR)/$(PROMETHEUS_DIR)/usr/bin:$$PATH" $(VENV)/bin/pytest $(PYTEST_ARGS)

# Start the local stack, ingest the sample footage, show the results; the stack keeps running.
run: setup
	$(VENV)/bin/rushes up
	$(VENV)/bin/rushes ingest --project samples --wait $(SAMPLES)
	@echo; echo "The stack is still running: inspect with 'rushes status', 'rushes show ASSET', 'rushes events tail --all'."
	@echo "Stop it with: $(VENV)/bin/rushes down"

down:
	$(VENV)/bin/rushes down

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd proto && ../$(VENV)/bin/buf lint
	$(VENV)/bin/mypy $(TYPED_SOURCES)

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(PY) -m bench

samples: setup
	$(PY) tests/fixtures/make_samples.py

clean:
	rm -rf $(VENV) libs/proto/src/rushes .pytest_cache .ruff_cache .mypy_cache .cache
