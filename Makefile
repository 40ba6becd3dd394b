# qnncourse: two commands do everything (each sets itself up, and is quick the second time).
#   make book   build the book into _build/html
#   make test   lint, unit tests, exercise notebooks (nbval), book build, browser test
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# jupyter-cache keys only on a notebook's code cells, so a change to the library would leave the
# book showing old numbers: the cache is cleared whenever the library's sources change.
LIB_HASH = $(shell cat $$(find qnncourse -name '*.py' | sort) pyproject.toml | sha256sum | cut -c1-16)
CACHE := _build/.jupyter_cache
# pip warns once per package about local mirror folders this machine's pip config names but
# does not have; the filter keeps the log readable (pipefail still reports pip's own failure).
pip_install = $(BIN)/python -m pip install --quiet $(1) 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }

.PHONY: book test lint unit exercises site-test setup vendor browser sandbox bench student clean
.DEFAULT_GOAL := book

book: setup vendor
	@fresh=""; \
	if [ "$$(cat _build/.library-hash 2>/dev/null)" != "$(LIB_HASH)" ]; then \
	  echo "library changed (or first build): clearing the execution cache"; \
	  rm -rf $(CACHE); fresh="--all"; fi; \
	if [ -f _build/html/index.html ] && [ vendor/site/.stamp -nt _build/html/index.html ]; then \
	  fresh="--all"; fi; \
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python book/_ext/execute_parallel.py --jobs 2; \
	$(BIN)/jupyter-book build . --builder html --warningiserror --keep-going $$fresh
	@mkdir -p _build && echo "$(LIB_HASH)" > _build/.library-hash
	@echo "book ready: _build/html/index.html"

test: lint unit exercises book site-test

lint: setup
	$(BIN)/ruff check .

unit: setup sandbox
	$(BIN)/python -m pytest tests qnncourse --doctest-modules --ignore=tests/test_site.py \
	  -q -p no:cacheprovider

exercises: setup sandbox
	@if ls exercises/solutions/*.ipynb >/dev/null 2>&1; then \
	  $(BIN)/python -m pytest --nbval exercises/solutions -q -p no:cacheprovider \
	    --nbval-sanitize-with exercises/nbval_sanitize.cfg; \
	else echo "no exercise solution notebooks yet: nothing for nbval to run"; fi

site-test: setup browser
	$(BIN)/python -m pytest tests/test_site.py -q -p no:cacheprovider

# --- set-up (each step keyed on the files it depends on) -------------------------------------
setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call pip_install,--upgrade pip)
	$(call pip_install,-r requirements.txt)
	$(call pip_install,--no-deps --no-build-isolation -e .)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

vendor: vendor/site/.stamp

vendor/site/.stamp: Makefile vendor/package.json vendor/package-lock.json $(wildcard vendor/shims/*.js)
	cd vendor && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf vendor/site && mkdir -p vendor/site/jupyter-widgets/html-manager/dist
	cp -r vendor/node_modules/mathjax/es5 vendor/site/mathjax
	cp vendor/node_modules/requirejs/require.js vendor/site/require.js
	cp vendor/node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js \
	   vendor/node_modules/@jupyter-widgets/html-manager/dist/*.{woff,woff2,ttf,eot,svg} \
	   vendor/site/jupyter-widgets/html-manager/dist/
	# some bundles resolve their icon fonts beside the module, others under html-manager/dist/
	cp vendor/node_modules/@jupyter-widgets/html-manager/dist/*.{woff,woff2,ttf,eot,svg} \
	   vendor/site/jupyter-widgets/
	cp vendor/shims/*.js vendor/site/
	@touch $@

browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

sandbox:  # the grader runs each notebook in a bubblewrap sandbox
	@command -v bwrap >/dev/null || { \
	  echo "installing Debian's bubblewrap for the grader's sandboxes"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; }

# --- not part of the test run ------------------------------------------------------------------
bench: setup
	$(call pip_install,-r benchmarks/requirements.txt)
	@for b in benchmarks/bench_*.py benchmarks/compare_optimizers.py; do \
	  echo "== $$b"; $(BIN)/python $$b; done

student: setup
	$(BIN)/python -m qnncourse.grading.student exercises/solutions/*.ipynb

clean:
	rm -rf _build vendor/site vendor/node_modules
