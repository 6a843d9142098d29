# Two commands for a fresh machine: `make book` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
CHAPTER := chapters/softmax-regression-scratch

.PHONY: help setup data book notebook sync-check lint test serve clean
help:
	@echo "make book   set up .venv, get the data, build the HTML book (warnings are errors)"
	@echo "make test   everything 'make book' does, then the whole test suite"
	@echo "make notebook   re-execute the chapter and re-pair its .md and .ipynb"
	@echo "make serve  preview the built book on http://127.0.0.1:8000/"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when requirements.txt changes.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed

data: setup
	$(BIN)/python -m d2lutil.data fetch

book: data
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is built: open $(CURDIR)/_build/html/index.html"

# Execute the chapter from a fresh kernel and write both paired files.
notebook: data
	$(BIN)/jupytext --to ipynb $(CHAPTER).md
	$(BIN)/jupyter execute --inplace $(CHAPTER).ipynb
	$(BIN)/jupytext --sync $(CHAPTER).ipynb

lint: setup
	$(BIN)/ruff check d2lutil tests benchmarks
	$(BIN)/ruff format --check d2lutil tests benchmarks

test: book lint
	$(BIN)/pytest --nbval

serve:
	@test -f _build/html/index.html || { echo "No built book: run 'make book' first."; exit 1; }
	@echo "Serving the book at http://127.0.0.1:8000/ (Ctrl-C stops)"
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build
