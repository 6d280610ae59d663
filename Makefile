# Outreach: `make run` serves the app on http://127.0.0.1:5000, `make test` runs every test.
# Both set themselves up on a fresh machine (a .venv, packages, translations, the schema).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Parallel test processes (pytest-xdist); each has its own databases.
TEST_WORKERS ?= auto

.PHONY: run test bench lint format translations extract-messages db-upgrade install install-dev \
        browser-deps clean

run: install translations db-upgrade ## Serve the app and its mail worker, demo data on SQLite in instance/
	$(FLASK) outreach seed-demo --if-empty
	@echo "Outreach on http://$(HOST):$(PORT)/  (emails: http://$(HOST):$(PORT)/dev/mailbox)"
	@echo "Demo logins (password outreach-demo): team@brueckenwerk.example.org (staff),"
	@echo "  partner@sahel-forum.example.org (partner organisation)"
	@# The mail worker runs beside the web server and stops with it.
	$(FLASK) outreach worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-dev translations browser-deps ## Run the whole suite (PostgreSQL too if TEST_DATABASE_URL is set)
	$(BIN)/pytest -n $(TEST_WORKERS)

bench: install-dev translations ## Run the benchmarks in bench/ (not part of CI)
	$(BIN)/python bench/rsvp.py
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/mail.py
	$(BIN)/python bench/campaign.py

lint: install-dev ## What CI checks besides the tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -c pyproject.toml -r . --severity-level medium

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

db-upgrade: install
	$(FLASK) db upgrade

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed node_modules/.installed

$(VENV)/.runtime-installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# axe-core (accessibility checks) and the Nu HTML validator for the browser tests.
# --ignore-scripts: install scripts would try to download things this machine cannot reach.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# Headless Chromium for the browser tests, from Debian's packages (needs root).
browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	  else echo "chromium missing: browser tests will be skipped (apt-get install chromium)"; fi; }

translations: install ## Compile the translation catalogues (.po -> .mo)
	$(BIN)/pybabel -q compile -d outreach/translations

extract-messages: install ## Refresh the catalogues after changing user-visible text
	$(BIN)/pybabel extract -F babel.cfg -k _l -o outreach/translations/messages.pot outreach templates
	$(BIN)/pybabel update -i outreach/translations/messages.pot -d outreach/translations

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis
