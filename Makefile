# Task runner. Every target creates .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz bench lint templates clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# A fresh out/ each time: the inbox is a scratch copy (sample_inputs/ stays untouched); exit 1 = findings.
demo: $(STAMP)
	rm -rf out inbox
	mkdir -p out
	cp -rp sample_inputs inbox
	$(BIN)/jixiao run inbox --out out || [ $$? -le 1 ]

test: $(STAMP)
	$(BIN)/pytest

# Thousands of mutated sample workbooks checked in-process (tests/test_fuzz.py); prints the figures.
# FUZZ_SEED=n replays the mutations of seed n (unset: new ones each run).
FUZZ_EXAMPLES ?= 3000
FUZZ_SEED ?=
fuzz: $(STAMP)
	JIXIAO_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) JIXIAO_FUZZ_SEED=$(FUZZ_SEED) $(BIN)/pytest tests/test_fuzz.py -s

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

templates: $(STAMP)
	$(BIN)/jixiao template --year 2023 --out templates_xlsx

clean:
	rm -rf out .pytest_cache
