# hotline — every set-up step a new machine needs, from nothing but Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Signature checks stay on in the demo: without your real Twilio auth token, the demo signs
# and checks with a local one (the simulator uses the same variable).
export TWILIO_AUTH_TOKEN ?= local-demo-auth-token
export HOTLINE_API_TOKEN ?= local-demo-api-token
export HOTLINE_SECRET_KEY ?= local-demo-session-secret

.PHONY: run test lint typecheck pytest replay bench bench-sim clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
ifeq ($(origin TWILIO_AUTH_TOKEN),file)
	@echo "TWILIO_AUTH_TOKEN is not set: signing and checking with the local demo token."
	@echo "For real calls: TWILIO_AUTH_TOKEN=<your auth token> make run"
endif
ifeq ($(origin HOTLINE_API_TOKEN),file)
	@echo "HOTLINE_API_TOKEN is not set: the API takes the demo token '$(HOTLINE_API_TOKEN)'."
	@echo "Before exposing this server: HOTLINE_API_TOKEN=<a secret> make run"
endif
ifeq ($(origin HOTLINE_SECRET_KEY),file)
	@echo "HOTLINE_SECRET_KEY is not set: the console's sessions are signed with a demo secret."
	@echo "Before exposing this server: HOTLINE_SECRET_KEY=<32 random characters> make run"
endif
	$(BIN)/hotline db upgrade
	$(BIN)/hotline serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check hotline tests bench
	$(BIN)/ruff format --check hotline tests bench

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test
	$(BIN)/pytest

replay: $(VENV)/.installed-test
	$(BIN)/hotline replay --coverage tests/calls

test: lint typecheck pytest replay

# make bench BENCH_JSON=bench.json also writes the figures as JSON; BENCH_ARGS passes options
# (e.g. BENCH_ARGS=--profile, or "--rounds 3 --latency-connections 64").
bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench_webhooks.py $(if $(BENCH_JSON),--json $(BENCH_JSON)) $(BENCH_ARGS)

bench-sim: $(VENV)/.installed-test
	$(BIN)/python bench/bench_sim.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.db *.db-wal *.db-shm *.db.lock
