# Everything a fresh machine with Python 3.11+ needs: `make run` and `make test`.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(PY) -m flask --app wsgi
STAMP  := $(VENV)/.installed

# The embedded default for a laptop: sandbox agencies that answer in 1.5 s, and the sandbox's
# identity proofing (every identity confirmed at once, but IMPOSTOR... refused).
RUN_ENV := IPC_SANDBOX_COUNTRIES=$${IPC_SANDBOX_COUNTRIES:-KE,TH,NG,GB,FR,ES,IN,BR,ZA,PH,CA,MA} \
           IPC_SANDBOX_LATENCY_MS=$${IPC_SANDBOX_LATENCY_MS:-1500} \
           IPC_IDENTITY_PROOFING=$${IPC_IDENTITY_PROOFING:-sandbox}

.PHONY: run serve test lint format check fuzz audit bench install clean translations

$(STAMP): pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## install: create the virtual environment and install the service with its test tools
install: $(STAMP)

## run: migrate, seed the demo accounts and serve on http://127.0.0.1:5000
run: $(STAMP)
	$(RUN_ENV) $(FLASK) db upgrade
	@echo "Demo accounts:"
	@$(RUN_ENV) $(FLASK) demo seed
	@echo "Serving on http://127.0.0.1:5000  (Ctrl-C stops)"
	$(RUN_ENV) $(FLASK) run --host 127.0.0.1 --port 5000 --no-reload

## serve: production-like: gunicorn on http://127.0.0.1:8000 (set IPC_* as for production)
serve: $(STAMP)
	$(FLASK) db upgrade
	$(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

## test: the whole test suite
test: $(STAMP)
	$(PY) -m pytest

## lint: ruff (lint and format check), mypy, and the layers (import-linter, pyproject.toml)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

## format: apply ruff's formatting and safe fixes
format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## fuzz: schemathesis against the OpenAPI document of a running service
fuzz: $(STAMP)
	$(PY) tools/fuzz_api.py

## audit: known vulnerabilities in the installed dependencies (pip-audit)
audit: $(STAMP)
	$(VENV)/bin/pip-audit --skip-editable --progress-spinner off

## translations: gather the catalogue's strings from code and templates into every language's .po
translations: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k _l --no-location --sort-output \
		--project "International Police Certificate" -o certificate/i18n/messages.pot .
	$(VENV)/bin/pybabel update -i certificate/i18n/messages.pot -d certificate/i18n/translations \
		--ignore-obsolete --no-fuzzy-matching --width 100

## check: lint, then test
check: lint test

## bench: the benchmarks under bench/ (BENCH_ARGS=--quick for short runs; see docs/performance.md)
bench: $(STAMP)
	@status=0; \
	$(PY) bench/fanout.py || status=1; \
	for name in verify issue scale; do $(PY) bench/$$name.py $(BENCH_ARGS) || status=1; done; \
	exit $$status

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
