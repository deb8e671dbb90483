# edossier — every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= ./edossier-data
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve demo test lint bench clean audit-deps

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

serve: $(BIN)/.installed
	$(BIN)/edossier --data-dir $(DATA_DIR) serve --host $(HOST) --port $(PORT)

demo: $(BIN)/.installed
	$(BIN)/edossier --data-dir $(DATA_DIR) demo

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

audit-deps: $(BIN)/.installed
	$(BIN)/python .ci/audit_deps.py

bench: $(BIN)/.installed
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) $(DATA_DIR) build *.egg-info
