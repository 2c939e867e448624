# Self-describing targets; `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= build/demo

.PHONY: help venv demo test test-fast bench lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/copier: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/copier ## create .venv with the template's own tooling

demo: $(BIN)/copier ## render the template with its defaults into build/demo and run that suite
	bash scripts/demo.sh $(DEMO)

test: $(BIN)/copier ## run the template's own tests (fast and slow layers)
	$(BIN)/pytest -n 2 --dist loadgroup

test-fast: $(BIN)/copier ## run only the fast layer (render, lint, parse)
	$(BIN)/pytest -m "not slow and not docker" -n 2

bench: $(BIN)/copier ## print the benchmark (medians, side by side; see README "Measured")
	$(BIN)/python scripts/benchmark.py

lint: $(BIN)/copier ## ruff and mypy on the repository's own code
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

clean: ## remove renders and caches
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
