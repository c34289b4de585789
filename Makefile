PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo service-demo test test-other-pythons lint venv bench bench-smoke clean docs docs-serve cluster-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/hello.py

# The reference service (examples/service) on this machine's PostgreSQL and Redis: creates
# its database if missing, applies the migrations, serves until Ctrl-C.
SERVICE_DATABASE_URL ?= postgresql://127.0.0.1:5432/ambi_service
service-demo: $(STAMP)
	SERVICE_DATABASE_URL=$(SERVICE_DATABASE_URL) $(BIN)/python -m examples.service serve --create-db

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks docs/examples docs/hooks
	$(BIN)/ruff format --check src tests examples benchmarks docs/examples docs/hooks
	$(BIN)/mypy

test: lint
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	@echo "coverage: $$($(BIN)/coverage report --format=total)% of lines and branches"

# examples/cluster end to end: two app hosts and a task worker in network namespaces (as
# root; else processes on 127.0.0.1), one Redis, nginx; shared state, a host killed under
# load, a rolling restart, Redis restarted. Also part of `make test`. Needs nginx, wrk,
# redis-server (.ci/run installs what is missing).
cluster-test: $(STAMP)
	$(BIN)/python -m pytest tests/examples/test_cluster.py -p no:randomly -v -s

# The fast part of the suite (no real servers, no docs site build) on the other Pythons
# users run: 3.12, 3.13.
OTHER_PYTHONS ?= 3.12 3.13
FAST_TESTS := -m "not server" -p no:randomly -q --ignore=tests/docs/test_site.py

test-other-pythons:
	@for v in $(OTHER_PYTHONS); do \
	  py=$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$v*/bin/python 2>/dev/null | tail -1); \
	  if [ -z "$$py" ]; then py=$$(command -v python$$v || true); fi; \
	  if [ -z "$$py" ]; then echo "python $$v not found"; exit 1; fi; \
	  echo "== Python $$v ($$py)"; \
	  [ -x .venv-$$v/bin/python ] || $$py -m venv .venv-$$v || exit 1; \
	  .venv-$$v/bin/python -m pip install -q --upgrade pip >/dev/null && \
	  .venv-$$v/bin/python -m pip install -q -e '.[dev]' && \
	  .venv-$$v/bin/python -m pytest $(FAST_TESTS) || exit 1; \
	done

# The user guide: built offline into site/, strict (a warning fails the build).
# NO_MKDOCS_2_WARNING silences Material's end-of-life banner (not a build warning).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:8001

bench-smoke: $(STAMP)
	$(BIN)/python -m benchmarks.run --smoke

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.run --rounds 5

clean:
	rm -rf $(VENV) .venv-3.* .pytest_cache .mypy_cache .ruff_cache .coverage site
