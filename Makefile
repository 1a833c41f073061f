# vpbx: the two commands are `make run` and `make test`; `make bench` prints benchmark figures.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test bench lint typecheck setup setup-system web clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV) || { apt-get update -qq && apt-get install -y -qq python3-venv && $(PY) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade 'pip<26.3'  # chalice 1.34 needs pip < 26.3
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Everything outside Python the tests need (apt packages, npm packages): each part of the
# project drops an idempotent script into infra/setup.d/, run here in name order.
setup-system: $(STAMP)
	@for s in infra/setup.d/*.sh; do [ -f "$$s" ] && { echo "== $$s"; bash "$$s" || exit 1; }; done; true

web: $(STAMP)
	@if [ -f web/package.json ]; then bash infra/build-web.sh; fi

run: setup web
	$(BIN)/vpbx serve --port $(PORT) --seed-demo

lint: $(STAMP)
	$(BIN)/ruff check domain media_core functions tests bench

typecheck: $(STAMP)
	$(BIN)/mypy domain media_core

test: setup-system web lint typecheck
	$(BIN)/pytest -n 2 --dist loadgroup -q

bench: setup-system
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python "$$b" || exit 1; done

clean:
	rm -rf var/*.sqlite* var/blobs .pytest_cache .mypy_cache .ruff_cache
