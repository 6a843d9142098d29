# Two commands for a fresh machine: `make book` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# The book's chapters (MyST notebooks), as _toc.yml lists them: book/toc.py. Read only once
# the venv exists (before that, every target that needs them builds from scratch anyway).
CHAPTERS = $(shell test -x $(BIN)/python && $(BIN)/python -m book.toc)

.PHONY: help setup data assets lite book pdf notebook sync-check lint test serve clean bench lighthouse
help:
	@echo "make book   set up .venv, get the data and npm assets, build the HTML book (warnings are errors)"
	@echo "            and its in-browser notebook (JupyterLite; 'make lite' builds only that)"
	@echo "make test   everything 'make book' does, then the whole test suite"
	@echo "make pdf    'make book', then every chapter as _build/pdf/<chapter>.pdf, linked from its page"
	@echo "            (PDF_ARGS=--paper Letter; A4 by default)"
	@echo "make notebook   from each chapter's .md: its executed reference notebook (nbval) and"
	@echo "                its learner's notebook (what JupyterLite, Binder and Colab open)"
	@echo "make sync-check   check that every chapter's notebooks agree with its .md"
	@echo "make serve  preview the built book on http://127.0.0.1:8000/ (gzip, as a static host)"
	@echo "make lighthouse  Lighthouse scores of the built chapter, mobile and desktop (LIGHTHOUSE_ARGS=--runs 1)"
	@echo "make bench  time data loading, training, the notebook and a clean book build (BENCH_ARGS=--quick)"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Everything building and testing the book needs: requirements-dev.txt, which includes
# requirements.txt (running the chapter; Binder installs only that). Reinstall only when
# one of the two or pyproject.toml changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

data: setup
	$(BIN)/python -m d2lutil.data fetch

# Front-end files, pinned in package-lock.json; npm ci runs only when node_modules/ is
# missing or the lock changed. The pages load one of them: the widgets' manager (npm
# @jupyter-widgets/html-manager, dist/embed.js, which needs no require.js), copied to
# vendor/static/npm/ (html_static_path in _config.yml puts it in _build/html/_static/npm/).
# Not its Font Awesome 5 fonts: no widget has an icon, and static/d2l.css keeps the theme's
# icons on the theme's own font (a widget icon would show as a failed request in the tests).
# The others run from node_modules/: MathJax typesets the formulas during the build
# (_ext/d2l_site); axe-core (tests/test_browser.py) and Lighthouse (make lighthouse,
# tests/test_lighthouse.py) check the built pages.
NPM ?= npm
# `make book NPM_CI_ARGS=--omit=dev` skips axe-core and Lighthouse, which only the tests use
# (the Pages workflow does so).
NPM_CI_ARGS ?=
# Touched by `npm ci` here only (npm itself rewrites node_modules/.package-lock.json on any
# `npm install`, which would pass for an up-to-date `npm ci`).
NPM_STAMP := node_modules/.npm-ci-done
VENDOR := vendor/static/npm
WIDGETS_DIST := node_modules/@jupyter-widgets/html-manager/dist

$(NPM_STAMP): package.json package-lock.json
	$(NPM) ci $(NPM_CI_ARGS)
	touch $@

vendor/.copied: $(NPM_STAMP) Makefile
	rm -rf vendor/static
	mkdir -p $(VENDOR)/html-manager
	cp $(WIDGETS_DIST)/embed.js $(WIDGETS_DIST)/embed.js.LICENSE.txt $(VENDOR)/html-manager/
	touch $@

assets: vendor/.copied

# The chapter in the reader's browser (README.md, "The chapter in your browser"): a JupyterLite
# site whose Python is Pyodide, with d2lutil and the data, all checked and served from the
# book. lite/build.py writes it to vendor/lite-site/lite/, which _config.yml's
# html_extra_path turns into _build/html/lite/. Rebuilt only when one of its inputs changes.
LITE := vendor/lite-site/lite
LITE_INPUTS := $(wildcard lite/*.*) $(NPM_STAMP) $(VENV)/.installed \
  pyproject.toml _toc.yml $(CHAPTERS:=.ipynb) $(shell find d2lutil -name '*.py')

vendor/.lite-built: $(LITE_INPUTS) | data
	$(BIN)/python lite/build.py $(LITE)
	touch $@

lite: vendor/.lite-built

book: data assets lite
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is built: open $(CURDIR)/_build/html/index.html"

# Every chapter of _toc.yml printed from its built page by Chromium (README.md, "The PDF"):
# _build/pdf/<chapter>.pdf, copied to _build/html/pdf/ and linked from the page's download
# menu. Builds the book first, so the PDF is always that of the pages beside it.
pdf: book
	$(BIN)/python _ext/d2l_site/pdf.py --site _build/html --out _build/pdf $(PDF_ARGS)

# The .md is each chapter's source. From it: the reference notebook, executed from a fresh
# kernel (tests/reference/<chapter>.ipynb, which nbval tests), and the learner's notebook
# (<chapter>.ipynb: no outputs, no checks, MyST made plain; the launch buttons open it).
# Both are overwritten: changes made only to a notebook are lost.
notebook: data
	$(BIN)/python -m book.learner_notebook write

# Fails when a chapter's notebooks say other than its .md (run `make notebook`).
sync-check: setup
	$(BIN)/pytest -q tests/test_chapter_sync.py

# Benchmarks (README.md, "Benchmarks"): a table, and JSON in benchmarks/results/latest.json.
bench: data assets
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check d2lutil tests benchmarks lite _ext book
	$(BIN)/ruff format --check d2lutil tests benchmarks lite _ext book
	$(BIN)/actionlint -pyflakes= $$(command -v shellcheck >/dev/null || echo -shellcheck=) .github/workflows/*.yml

test: book lint
	$(BIN)/pytest --nbval

# The built book as a static host serves it (gzip): tests/site_server.py.
serve:
	@test -f _build/html/index.html || { echo "No built book: run 'make book' first."; exit 1; }
	$(BIN)/python tests/site_server.py --port 8000 --directory _build/html

# Lighthouse on the built chapter, mobile and desktop, 3 runs each (README.md, "Benchmarks");
# reports in artifacts/lighthouse/. Builds the book first only when it is missing.
lighthouse: assets
	@test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python -m benchmarks.lighthouse $(LIGHTHOUSE_ARGS)

clean:
	rm -rf _build vendor
