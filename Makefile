# The two commands of the README: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CLIENTS ?= 20000
# test files run in parallel, each file in one worker (its module fixtures built once); most
# of the suite waits on servers, browsers and subprocesses, so two workers halve it on 2 cores
TEST_WORKERS ?= 2
export PAD_HOME ?= $(CURDIR)/data

.PHONY: install demo api docs test bench lint browsers postgres clean translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Debian's chromium for the browser tests (a Playwright browser download fails offline).
browsers:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# Debian's postgresql server binaries: the decision-store tests and bench start throwaway servers.
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq postgresql >/dev/null; fi; }

# Generate a portfolio, refresh it with a trained model, then serve the dashboard (Ctrl-C stops).
demo: install
	$(BIN)/pad sample --clients $(CLIENTS) --out $(PAD_HOME)/raw
	$(BIN)/pad refresh --raw $(PAD_HOME)/raw --retrain
	@echo "dashboard: http://127.0.0.1:5006/   (lookup API: make api)"
	$(BIN)/pad dashboard --port 5006

api: install
	$(BIN)/pad api

test: install browsers postgres
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

bench: install
	$(BIN)/pad bench

docs: install
	$(BIN)/python -m warehouse.dbt_runner

lint: install
	$(BIN)/ruff check warehouse flows models_ml dashboard tests

clean:
	rm -rf $(VENV) data

# Message catalogue (README "Languages"): extract the templates from the code and bring every
# language's .po file in step (new entries empty, gone ones dropped); then translate the empty
# msgstr of i18n/locale/{fr,en}/LC_MESSAGES/*.po — tests/i18n fails while one is left.
translations: install
	$(BIN)/python -m i18n.maintain
