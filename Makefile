# chainwatch — `make help` lists the targets. Everything runs from a local virtualenv that the
# targets create and keep up to date from pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PACKAGES := schemas detectors streams
LINTED := $(PACKAGES) tests benchmarks

.DEFAULT_GOAL := help
.PHONY: help install demo test check format kafka-jars kafka-up kafka-down bench schema clean chromium ci-deps

help: ## Show the targets and what they do
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "chainwatch needs Python >= 3.11; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install chainwatch with its dev tools

demo: install ## Simulate agent sessions, detect, write demo/chainwatch.duckdb and print the alerts
	$(BIN)/chainwatch demo --db demo/chainwatch.duckdb

kafka-jars: ## Fetch the Apache Kafka jars with Maven into kafka/libs (once)
	$(PYTHON) kafka/broker.py jars

chromium: ## SYSTEM PACKAGES: apt-get install Debian's chromium for the browser tests (asked for, never implied)
	@test -x /usr/bin/chromium || { \
		echo "installing Debian's chromium with apt-get (system packages)"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
		else sudo apt-get update -q && sudo apt-get install -y -q chromium; fi; }

ci-deps: chromium ## SYSTEM PACKAGES: what CI installs before `make test` (.ci/run calls it)

# Never installs system packages: without Chromium the browser tests skip and say so (under CI=true
# they fail instead; CI runs `make ci-deps` first). The Kafka jars go into kafka/libs, not the system.
test: install kafka-jars ## Run the whole test suite (starts its own Kafka broker on 127.0.0.1)
	$(BIN)/python -m pytest

check: install ## ruff format + lint, mypy --strict on the packages, the import contracts (import-linter)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install ## Apply ruff formatting and safe fixes
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

kafka-up: ## Start a local Kafka broker on 127.0.0.1:9092 (data in kafka/.data)
	$(PYTHON) kafka/broker.py up

kafka-down: ## Stop the local Kafka broker
	$(PYTHON) kafka/broker.py down

bench: install ## Run the engine, model and redaction benchmarks (ratios and side by side, measured in the same run)
	$(BIN)/python -m benchmarks.engine_bench
	$(BIN)/python -m benchmarks.model_bench
	$(BIN)/python -m benchmarks.redaction_bench --against $$(git merge-base HEAD main 2>/dev/null || echo HEAD)

schema: install ## Re-export the JSON Schema files of the contract
	$(BIN)/chainwatch schema export --out schemas/jsonschema

clean: ## Remove the virtualenv, caches and demo output
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo *.egg-info
