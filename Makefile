# The template's own workflow. `make help` lists the commands.
.DEFAULT_GOAL := help
.PHONY: help test test-fast lint format readme sample

SAMPLE ?= /tmp/sample-service

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

test: ## the whole suite, as CI runs it (needs PostgreSQL on 127.0.0.1:5432)
	uv run pytest

test-fast: ## everything but installing and running rendered projects
	uv run pytest -m "not generated"

lint: ## ruff on the template's own Python
	uv run ruff check .
	uv run ruff format --check .

format: ## format and autofix the template's own Python
	uv run ruff format .
	uv run ruff check --fix .

readme: ## regenerate the answers reference in README.md from copier.yml
	uv run python -m tests.readme

sample: ## render the working tree with default answers into $(SAMPLE), for a look
	rm -rf $(SAMPLE)
	uv run copier copy --trust --defaults --vcs-ref HEAD "$(CURDIR)" $(SAMPLE)
