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
# With no Twilio account at all (none of these set), the server's REST requests (an agent taking
# a caller) go to the simulator's stand-in that `hotline call --rest-port` serves, for the
# simulator's own account: the demo works end to end without Twilio.
DEMO_REST_PORT ?= 8765
DEMO_CALL := TWILIO_AUTH_TOKEN=$(TWILIO_AUTH_TOKEN) $(BIN)/hotline call --url http://$(HOST):$(PORT) \
	--rest-port $(DEMO_REST_PORT) --real-time --dialled client:demo_agent=answer
ifeq ($(origin TWILIO_AUTH_TOKEN)$(origin TWILIO_ACCOUNT_SID)$(origin TWILIO_API_URL),fileundefinedundefined)
DEMO_REST_ENV = TWILIO_API_URL=http://127.0.0.1:$(DEMO_REST_PORT) \
	TWILIO_ACCOUNT_SID=$$($(BIN)/python -c \
	'from hotline.sim.engine.simulator import DEFAULT_ACCOUNT_SID; print(DEFAULT_ACCOUNT_SID)')
endif

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
ifdef DEMO_REST_ENV
	@echo "No Twilio account set: REST requests go to the simulator's stand-in on 127.0.0.1:$(DEMO_REST_PORT)."
	@echo "Place a demo caller in the warehouse queue (in a second terminal; press 2, then 1, then wait):"
	@echo "  $(DEMO_CALL)"
	@echo "then take them at http://$(HOST):$(PORT)/agent (demo / demo-agent-token: Available, Take next)."
endif
	$(BIN)/hotline db upgrade
	-$(BIN)/hotline demo seed
	@echo "The Message Center: http://$(HOST):$(PORT)/messages (the demo seller acme signs in with"
	@echo "  the token demo-seller-token, the warehouse with an agent's: demo-agent-token)."
	@echo "Starting the scheduler beside the server (sellers' mail goes to instance/mail/: [mail] mode = \"folder\")."
# One shell: the scheduler in the background, stopped (SIGTERM) whenever the server stops.
	@$(DEMO_REST_ENV) $(BIN)/hotline scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler' EXIT; trap 'exit 130' INT TERM; \
	$(DEMO_REST_ENV) $(BIN)/hotline serve --host $(HOST) --port $(PORT)

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
