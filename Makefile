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
# The pytest stages leave junit XML here and `make test` each stage's exit code; the last line
# of `make test` adds them up (.ci/summary.py).
RESULTS := _build/test-results
STAGES := lint unit exercises book site-test
PYTEST = $(BIN)/python -m pytest -q -p no:cacheprovider
# Colour codes only on a terminal: jupyter-book colours its messages and IPython its tracebacks
# whatever the output is, so a log file would be full of escape sequences.
plain = { if [ -t 1 ]; then cat; else sed -u 's/\x1b\[[0-9;]*[A-Za-z]//g'; fi; }

.PHONY: book pdf tex test lint unit exercises site-test setup vendor browser sandbox bench student clean
.DEFAULT_GOAL := book

book: setup vendor
	@fresh=""; \
	if [ "$$(cat _build/.library-hash 2>/dev/null)" != "$(LIB_HASH)" ]; then \
	  echo "library changed (or first build): clearing the execution cache"; \
	  rm -rf $(CACHE); fresh="--all"; fi; \
	if [ -f _build/html/index.html ] && [ vendor/site/.stamp -nt _build/html/index.html ]; then \
	  fresh="--all"; fi; \
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python book/_ext/execute_parallel.py --jobs 2 \
	  2>&1 | $(plain); \
	$(BIN)/jupyter-book build . --builder html --warningiserror --keep-going $$fresh 2>&1 | $(plain)
	@mkdir -p _build && echo "$(LIB_HASH)" > _build/.library-hash
	@echo "book ready: _build/html/index.html"

# The whole book as a printed book, _build/pdf/book.pdf: Jupyter Book's LaTeX builder (Sphinx's
# latex builder, sphinx-jupyterbook-latex, book/_ext/printbook.py), typeset by xelatex through
# latexmk. It renders the notebooks `make book` executed (the jupyter-cache), then rebuilds the
# site, whose download menu links the PDF once it exists (and `make book` alone has no link).
# TeX Live and fonts: Debian's packages, installed here when missing (as root, or with sudo).
TEX_PACKAGES := latexmk texlive-xetex texlive-latex-recommended texlive-latex-extra \
  texlive-fonts-recommended fonts-freefont-otf lmodern poppler-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

pdf: book tex
	@rm -rf _build/latex  # latexmk's state of an earlier run would only get in the way
	$(BIN)/jupyter-book build . --builder pdflatex --warningiserror --keep-going 2>&1 | $(plain)
	@mkdir -p _build/pdf && cp _build/latex/book.pdf _build/pdf/book.pdf
	$(BIN)/jupyter-book build . --builder html --warningiserror --keep-going 2>&1 | $(plain)
	@echo "PDF ready: _build/pdf/book.pdf (also linked from the site: _build/html/book.pdf)"

tex:
	@command -v xelatex >/dev/null && command -v latexmk >/dev/null && command -v pdftotext >/dev/null \
	  && kpsewhich ucharclasses.sty fncychap.sty >/dev/null && [ -n "$$(fc-list FreeSerif)" ] || { \
	  echo "installing Debian's TeX Live for the PDF: $(TEX_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends $(TEX_PACKAGES) >/dev/null; }

# Every stage runs even when an earlier one fails, so the last line adds up all of them;
# `make test` still exits non-zero when any stage failed.
test:
	@rm -rf $(RESULTS); mkdir -p $(RESULTS); rc=0; \
	for s in $(STAGES); do \
	  echo "== make $$s"; s_rc=0; $(MAKE) --no-print-directory $$s || s_rc=$$?; \
	  echo $$s_rc > $(RESULTS)/$$s.rc; [ $$s_rc = 0 ] || rc=1; \
	done; \
	$(PYTHON) .ci/summary.py $(RESULTS) $(STAGES) || rc=1; exit $$rc

lint: setup
	$(BIN)/ruff check .

# Tests that need a browser are marked `browser` and run in site-test, after Chromium is in.
# Two workers, a test file each at a time: the grading tests spend most of their six minutes
# waiting on kernels and timeouts, and the other worker runs the rest meanwhile.
unit: setup sandbox
	$(PYTEST) tests qnncourse --doctest-modules --ignore=tests/test_site.py -m "not browser" \
	  -n 2 --dist loadfile --junitxml=$(RESULTS)/unit.xml 2>&1 | $(plain)

exercises: setup sandbox
	@if ls exercises/solutions/*.ipynb >/dev/null 2>&1; then \
	  $(PYTEST) --nbval exercises/solutions --nbval-sanitize-with exercises/nbval_sanitize.cfg \
	    --junitxml=$(RESULTS)/exercises.xml 2>&1 | $(plain); \
	else echo "no exercise solution notebooks yet: nothing for nbval to run"; fi

# Two browsers, a test each at a time: a page test mostly waits (loading, the network going
# quiet, MathJax), so two of them share the cores well (5.5 min -> 3.5 min on 2 cores).
site-test: setup browser pdf
	$(PYTEST) tests -m browser -n 2 --dist load --junitxml=$(RESULTS)/site-test.xml 2>&1 | $(plain)

# --- set-up (each step keyed on the files it depends on) -------------------------------------
setup: $(VENV)/.installed

# setuptools' generic "Editable installation" advice is not about this project. The kernel
# spec: kernels and their local clients talk over loopback TCP, and ipykernel logs a warning
# about it at every start, so it keeps only the kernel app's errors (cells' own output is
# untouched); and figures are PNGs at twice their displayed size ("retina"), sharp on high-DPI
# screens.

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call pip_install,--upgrade pip)
	$(call pip_install,-r requirements.txt)
	PYTHONWARNINGS="ignore:Editable installation" $(call pip_install,--no-deps --no-build-isolation -e .)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(BIN)/python -c 'import json, pathlib, sys; \
	  p = pathlib.Path(sys.prefix, "share/jupyter/kernels/python3/kernel.json"); \
	  spec = json.loads(p.read_text()); spec["argv"] += ["--IPKernelApp.log_level=ERROR", \
	    "--InlineBackend.figure_formats=retina"]; \
	  p.write_text(json.dumps(spec, indent=1))'
	@# numba compiles each kernel on first use (the threaded ones took 25 s and more for a
	@# reader's first 19-qubit gradient): compile them all now, into numba's disk cache.
	$(BIN)/python -m qnncourse.simulators.warm
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
	@# some bundles resolve their icon fonts beside the module, others under html-manager/dist/
	cp vendor/node_modules/@jupyter-widgets/html-manager/dist/*.{woff,woff2,ttf,eot,svg} \
	   vendor/site/jupyter-widgets/
	cp vendor/shims/*.js vendor/site/
	@touch $@

browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser test"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

sandbox:  # the grader runs each notebook in a bubblewrap sandbox
	@command -v bwrap >/dev/null || { \
	  echo "installing Debian's bubblewrap for the grader's sandboxes"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq bubblewrap >/dev/null; }

# --- not part of the test run ------------------------------------------------------------------
bench: setup
	$(call pip_install,-r benchmarks/requirements.txt)
	@for b in benchmarks/bench_*.py benchmarks/compare_optimizers.py; do \
	  echo "== $$b"; $(BIN)/python $$b; done

student: setup
	$(BIN)/python -m qnncourse.grading.student exercises/solutions/*.ipynb

clean:
	rm -rf _build vendor/site vendor/node_modules
