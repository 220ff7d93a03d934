# `make run` and `make test` set everything up themselves: only Python >= 3.11 and make are needed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup setup-dev run serve test bench lint format messages clean

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Tracker needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Tests and tools on top of the runtime set; production never installs these.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

run: setup
	$(PY) manage.py migrate --noinput
	@echo
	@echo "Tracker is starting on http://$(HOST):$(PORT)  (Ctrl+C stops it)"
	@$(PY) manage.py set_public_url http://$(HOST):$(PORT) >/dev/null
	@$(PY) manage.py seed_demo
	@echo "Open the staff board, sign in, and open a tracking link in another window."
	@echo
	$(PY) -m tracker.serve --workers 1 --host $(HOST) --port $(PORT)

# Test-only npm tools (axe-core for the accessibility check). Without npm that
# check is skipped, or fails under CI=true.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --ignore-scripts --silent && touch $@; \
	else echo "npm not found: the accessibility check will be skipped"; fi

test: setup-dev node_modules/.installed
	$(VENV)/bin/pytest

# Production-style: N Daphne workers on one port (needs REDIS_URL for N > 1); see docs/DEPLOY.md.
WORKERS ?= 2
serve: setup
	$(PY) -m tracker.serve --workers $(WORKERS) --host $(HOST) --port $(PORT) --proxy-headers

# Not part of `make test`: measures this machine and rewrites docs/BENCHMARKS.md.
bench: setup-dev
	$(PY) -m bench.run

lint: setup-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: setup-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Needs GNU gettext; the compiled catalogues are committed so users do not.
messages: setup
	$(PY) manage.py makemessages -l ru -l en -l ru_TY --no-obsolete
	$(PY) manage.py makemessages -d djangojs -l ru -l en --no-obsolete --ignore=.venv
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles node_modules
