# Two commands do everything on a fresh clone:  `make run`  and  `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first of these that is Python >= 3.12 (pyenv shims honour .python-version).
PYTHON_CANDIDATES := python3 python3.13 python3.12 python
SYSTEM_PYTHON := $(shell for p in $(PYTHON_CANDIDATES); do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	command -v $$p; break; fi; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: help run test venv check-python system-deps node-deps lint format messages

help:
	@echo "make run    - set up .venv, migrate, load the demo data and serve http://127.0.0.1:8000 with the periodic jobs"
	@echo "make test   - set up .venv and run the whole test suite (PostgreSQL, Redis, Celery, Chromium)"
	@echo "make lint   - ruff check and format check, mypy"

check-python:
	@if [ -z "$(SYSTEM_PYTHON)" ]; then \
		echo "ERROR: Sáng kiến needs Python >= 3.12 (Django 6.1), and none was found on PATH."; \
		echo "       Install one (e.g. 'pyenv install 3.12' - .python-version selects it) and run make again."; \
		exit 1; fi

# (Re)create .venv when it is missing or was made with a Python older than 3.12; reinstall the
# requirements when requirements.txt (the runtime set, all the Docker image installs) or
# requirements-dev.txt (that plus the tests and tooling) is newer than the last install.
venv: check-python
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		echo "Recreating $(VENV): it was made with a Python older than 3.12."; rm -rf $(VENV); fi
	@[ -x $(PY) ] || $(SYSTEM_PYTHON) -m venv $(VENV)
	@if [ ! -f $(STAMP) ] || [ requirements.txt -nt $(STAMP) ] || [ requirements-dev.txt -nt $(STAMP) ]; then \
		echo "Installing requirements into $(VENV)..."; \
		$(PY) -m pip install --quiet --upgrade pip && $(PY) -m pip install --quiet -r requirements-dev.txt && touch $(STAMP); fi

# Debian packages the tests drive: Chromium (Playwright), npm (axe-core for the browser tests), docker-compose (config check), gettext,
# LibreOffice Calc (opens the emulation workbook), nginx and openssl (deploy/nginx.conf in front of gunicorn), wrk (bench/pages.py).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	command -v docker-compose >/dev/null 2>&1 || missing="$$missing docker-compose"; \
	command -v msgfmt >/dev/null 2>&1 || missing="$$missing gettext"; \
	command -v soffice >/dev/null 2>&1 || missing="$$missing libreoffice-calc-nogui"; \
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$$missing nginx-light"; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# The browser tests' JavaScript tools (package.json: axe-core), exactly as package-lock.json pins them.
NODE_STAMP := node_modules/.installed
node-deps: $(NODE_STAMP)
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# runportal: runserver plus, in the same process, the periodic jobs beat runs in production (the
# hourly leaderboard snapshot, the mail resend, the nightly clean-ups), since there is no beat here.
run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runportal 127.0.0.1:8000

# Two pytest processes, each taking the next test when it is free (worksteal): on two cores the suite
# took 12 min 33 s in one process, 9 min 47 s in two (pytest-xdist), 8 min 20 s with the e2e static
# files cached and one migrated SQLite database shared. `-n 0` runs it in one.
test: venv system-deps node-deps
	$(PY) -m pytest -n 2 --dist worksteal

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Regenerate the Vietnamese catalogues after changing UI text (django: Python and templates; djangojs:
# the admin's JavaScript msgids of sangkien/translations.js), then translate and compile them.
messages: venv
	$(PY) manage.py makemessages -l vi --no-obsolete --ignore=.venv --ignore=tests --ignore=bench
	$(PY) manage.py makemessages -d djangojs -l vi --no-obsolete --ignore=.venv --ignore=tests --ignore=bench --ignore=static/vendor
	$(PY) manage.py compilemessages -l vi --ignore=.venv
