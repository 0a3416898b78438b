# Two commands a new user needs: `make run` and `make test`. Both set up .venv first.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per set of extras: `make run` installs what the stack needs; `make test` adds the dev tools on top.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# This machine's pip configuration names extra package folders that may be absent; its warnings are noise.
QUIET_PIP := { grep -v "is ignored: it is neither a file nor a directory" || true; }
# A first install takes about a minute: one line per package pip fetches, so it is never silent that long.
PIP_PROGRESS := { grep --line-buffered -E "^(Collecting|Installing collected|ERROR|error)" \
  | sed -u -E -e 's/^Collecting ([^ ;]+).*/turnout:   fetched \1/' -e 's/^Installing collected.*/turnout:   unpacking into .venv .../' \
  || true; }

.PHONY: run test unit checks fuzz integration lint time-bombs package bench interleavings redrive smoke clean chromium

$(BIN)/python:
	@echo "turnout: creating .venv with $(PYTHON) and upgrading its pip (first run only) ..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip 2>&1 | $(QUIET_PIP)

# The stack, the skill it serves and the device client the README presses buttons with: no test tools.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	@echo "turnout: installing the local stack's packages into .venv (first run only) ..."
	@$(BIN)/pip install --progress-bar off -e '.[api,skill,device,local]' 2>&1 | $(PIP_PROGRESS)
	@$(BIN)/python -c "import core, api, skills, iot, local, moto, amqtt, awsiot, gpiozero, icalendar, authlib"
	@touch $@

$(DEV_STAMP): $(RUN_STAMP)
	@echo "turnout: installing the test tools (pytest, schemathesis, cfn-lint, ...) into .venv (first test run only) ..."
	@$(BIN)/pip install --progress-bar off -e '.[api,skill,device,local,dev]' 2>&1 | $(PIP_PROGRESS)
	@$(BIN)/python -c "import pytest, xdist, hypothesis, schemathesis, cfnlint, playwright, axe_playwright_python, mypy, ruff"
	@touch $@

# The browser tests (tests/integration/test_web_page.py) drive the system's Chromium; they skip, saying so, without
# it. As root with apt-get, `make test` installs Debian's chromium once; otherwise it says what to run.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "turnout: installing Debian's chromium for the browser tests (apt-get update && apt-get install -y chromium) ..."; \
	    { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	      || echo "turnout: could not install chromium; the browser tests will skip"; \
	  else \
	    echo "turnout: no $(CHROMIUM); the browser tests will skip (install it with: sudo apt-get install -y chromium)"; \
	  fi; \
	fi

run: $(RUN_STAMP)
	$(BIN)/python -m local $(ARGS)

# Every tier, the lint and the moved clocks. The tiers (README, "Tests"): unit (pure and moto in-process), checks
# (template, packaging, fresh interpreters, the stack's own servers), fuzz (hypothesis by the thousand) and
# integration (the local stack over HTTP and MQTT), spread over the machine's cores a test file to a worker, the
# integration files first so that the unit tests fill their waits; beside them the API fuzzing, which runs without
# xdist (under it schemathesis collected one operation); then the moved clocks.
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
test: $(DEV_STAMP) chromium
	@$(MAKE) --no-print-directory lint
	@$(BIN)/python -m pytest -q -p no:xdist tests/integration/test_fuzz_api.py > $(VENV)/fuzz-api.log 2>&1 & fuzz=$$!; \
	  $(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile tests/integration tests/unit tests/checks tests/fuzz \
	    --ignore tests/integration/test_fuzz_api.py; status=$$?; \
	  wait $$fuzz || { cat $(VENV)/fuzz-api.log; status=1; }; echo "API fuzzing: $$(tail -n 1 $(VENV)/fuzz-api.log)"; \
	  $(MAKE) --no-print-directory time-bombs || status=1; exit $$status

# ruff (ruff.toml) and mypy (pyproject.toml) over the code and the tests; the import contracts are
# tests/checks/test_import_directions.py.
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The unit tier again with the clock moved years ahead (a leap day among them), both at once: a test that
# depends on the day it runs fails the day it is written, not the day it goes off (tests/conftest.py, --clock).
CLOCKS := 2031-06-01T09:00:00Z 2036-02-29T23:30:00+01:00
time-bombs: $(DEV_STAMP)
	@pids=(); for clock in $(CLOCKS); do \
	  $(BIN)/python -m pytest tests/unit -q -p no:cacheprovider --clock=$$clock > $(VENV)/clock-$${clock%%T*}.log 2>&1 & pids+=($$!); \
	done; status=0; for pid in "$${pids[@]}"; do wait $$pid || status=1; done; \
	for clock in $(CLOCKS); do echo "clock at $$clock: $$(tail -n 1 $(VENV)/clock-$${clock%%T*}.log)"; done; \
	if [ $$status -ne 0 ]; then for clock in $(CLOCKS); do grep -E '^(FAILED|ERROR)' $(VENV)/clock-$${clock%%T*}.log || true; done; fi; \
	exit $$status

unit: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -n $(WORKERS) tests/unit

checks: $(DEV_STAMP)
	$(BIN)/python -m pytest -q tests/checks

# The random-input tests with more examples than make test sends (500): make fuzz EXAMPLES=5000
EXAMPLES ?= 5000
fuzz: $(DEV_STAMP)
	TURNOUT_FUZZ_EXAMPLES=$(EXAMPLES) $(BIN)/python -m pytest -q tests/fuzz

integration: $(DEV_STAMP) chromium
	$(BIN)/python -m pytest -q tests/integration

# The three Lambda zips template.yaml deploys, built offline for python3.13 on arm64 (README, "Deploy to AWS").
package: $(DEV_STAMP)
	$(BIN)/python -m deploy.package

# Issue 7's table: cold start, warm overhead, DynamoDB calls, memory, the local stack under load. Ratios and
# counts measured side by side in one run; never part of `make test` (tests/bench/ holds no test_*.py).
bench: $(DEV_STAMP)
	$(BIN)/python -m tests.bench $(ARGS)

# The concurrent model test run long: ROUNDS rounds of racing writes on a stack of its own (make test runs 6).
ROUNDS ?= 200
interleavings: $(DEV_STAMP)
	TURNOUT_INTERLEAVING_ROUNDS=$(ROUNDS) $(BIN)/python -m pytest tests/integration/test_interleavings.py -q -s

# What waits in a deployed stack's failure queues, invoked again once the fault is fixed (docs/OPERATIONS.md):
# make redrive STACK=turnout [ARGS="--region eu-west-1 clicks"]
redrive: $(RUN_STAMP)
	$(BIN)/python -m deploy.redrive --stack $(STACK) $(ARGS)

# The README's story against any Turnout (docs/DEPLOY.md): make smoke URL=https://... ORGANIZER_TOKEN=... PERSON_TOKEN=...
# (no tokens for a local stack in open mode). `make test` runs it against the local stack.
URL ?= http://127.0.0.1:3000
smoke: $(RUN_STAMP)
	$(BIN)/python -m deploy.smoke $(URL)

clean:
	rm -rf $(VENV) .turnout .pytest_cache .hypothesis build
