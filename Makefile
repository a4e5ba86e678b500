# hrsync developer commands. `make` alone lists them.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: help install demo test check bench fmt clean

help: ## List the targets
	@echo "usage: make TARGET"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## Check system prerequisites (apt-install them where possible), create .venv/ with hrsync
	@bash scripts/install.sh

demo: install ## Simulated Flex HRM -> import -> provision a throwaway Samba AD domain -> serve the console
	@bash scripts/demo.sh

test: install ## Run the test suite (pass options with PYTEST_ARGS="-k engine -x")
	$(BIN)/pytest $(PYTEST_ARGS)

check: install ## Format check, lint, mypy --strict, import contracts
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

bench: install ## Benchmark: 10,000 persons into a fresh Samba domain vs raw ldapadd, plan time
	$(BIN)/python -m bench

fmt: install ## Format the code and apply safe lint fixes
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean: ## Remove caches, build output and the local data directory .hrsync/
	rm -rf .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist .hrsync
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 \
		| xargs -0 -r rm -rf
