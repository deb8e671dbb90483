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

# Coverage-guided fuzzing of the input parsers (tests/fuzz/, atheris). Each target runs FUZZ_SECONDS;
# select some with FUZZ_TARGETS=zip_intake,bagit_reader (commas or spaces). Findings: fuzz-findings/<target>/.
FUZZ_SECONDS ?= 1800
FUZZ_TARGETS ?= zip_intake xml_validation eep_reader bagit_reader
FUZZ_RSS_MB ?= 2048
comma := ,
.PHONY: fuzz

$(BIN)/.fuzz-installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev,fuzz]'
	touch $@

fuzz: $(BIN)/.fuzz-installed
	$(BIN)/python -m tests.fuzz.run --seconds $(FUZZ_SECONDS) --rss-limit-mb $(FUZZ_RSS_MB) \
		--findings fuzz-findings $(subst $(comma), ,$(FUZZ_TARGETS))
