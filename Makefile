# tcbot: `make demo` rehearses on the sandbox, `make test` runs the tests.
# Both set themselves up: a virtual environment in .venv with tcbot and its test tools.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-tcbot

.PHONY: test demo bench check services browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## test: install, start the services the tests need, run the whole suite
test: $(STAMP) services browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## demo: post a short #TraineeTalk thread to the sandbox X API and read it back
demo: $(STAMP)
	$(BIN)/tcbot demo

## bench: print speed and cost figures (not tests)
bench: $(STAMP)
	@for script in benchmarks/*.py; do [ -e "$$script" ] || continue; echo "== $$script"; $(BIN)/python "$$script" || exit 1; done

## check: formatting, lint and types
check: $(STAMP)
	$(BIN)/python -m ruff format --check bot archive tests benchmarks
	$(BIN)/python -m ruff check bot archive tests benchmarks
	$(BIN)/python -m mypy --strict bot archive

# The browser tests drive Debian's Chromium; install it when missing (needs root).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Chromium for the browser tests"; \
	    apt-get install -y chromium >/dev/null 2>&1 \
	      || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }; \
	  else \
	    echo "Chromium is missing: the browser tests will be skipped (apt-get install -y chromium)"; \
	  fi; \
	fi

# PostgreSQL tests run when TCBOT_TEST_POSTGRES_URL is set; start the local server if it is down.
services:
	@if [ -n "$$TCBOT_TEST_POSTGRES_URL" ] && command -v pg_ctlcluster >/dev/null 2>&1 \
	    && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  echo "Starting PostgreSQL for the tests"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
