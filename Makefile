# newsbeam: `make run` and `make test` work on a fresh machine (they create .venv first).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test
INPUT  ?= seeds/*.txt
OUTPUT ?= out

.PHONY: setup setup-test run test test-slow bench clean browser

setup: $(STAMP)
setup-test: $(TESTSTAMP)

# Every dependency is pinned with its sha256 in requirements.lock (the spaCy model included).
$(STAMP): requirements.lock setup.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "newsbeam needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# Test tools and the optional runners the tests exercise (Dask, Dataflow translation), also hash-locked.
$(TESTSTAMP): $(STAMP) requirements-test.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-test.lock
	touch $(TESTSTAMP)

run: setup
	$(BIN)/newsbeam run --input '$(INPUT)' --output $(OUTPUT)
	$(BIN)/newsbeam report $(OUTPUT)

test: setup-test
	$(BIN)/python -m pytest -q

test-slow: setup-test
	HYPOTHESIS_PROFILE=slow \
	$(BIN)/python -m pytest -q -m "slow or property"

# Throughput and memory against the bare spaCy loop (bench/run.py; figures, not tests).
bench: setup-test
	$(BIN)/python bench/run.py

# Headless Chromium for the report's browser test (tests/test_report.py): Debian's package, driven by
# Playwright with executable_path=/usr/bin/chromium; never a browser download (no `playwright install`).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }
	@chromium --version 2>/dev/null

clean:
	rm -rf $(VENV) $(OUTPUT) build *.egg-info
