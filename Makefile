# edossier — every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= ./edossier-data

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/edossier --data-dir $(DATA_DIR) demo

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(BIN)/.installed
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) $(DATA_DIR) build *.egg-info
