# Everything a contributor or CI runs. `make help` lists the targets; `make test` is the gate.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# The one Python of the project: the virtualenv, the tests, the local runtime's workers and the
# functions' Lambda runtime (tests/test_python_version.py fails when they drift). pyenv users get
# it from .python-version; others need python3.12 on PATH.
PYTHON_VERSION := $(shell cat .python-version)
PYTHON ?= python$(PYTHON_VERSION)
VENV := .venv
CHECKOV_VENV := .venv-checkov
BIN := $(VENV)/bin
# One worker more than CPUs: the e2e worker mostly waits on the provider during its
# `terraform apply`; loadgroup keeps each xdist_group (a module's plan cases, the e2e stack) on
# one worker.
PYTEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)) + 1)')
PYTEST_ARGS ?= -n $(PYTEST_WORKERS) --dist loadgroup
CHECKOV_ARGS ?=
# environments/_shared holds the files every environment links; it is not an environment.
ENVIRONMENTS := $(filter-out _%,$(sort $(notdir $(patsubst %/,%,$(dir $(wildcard environments/*/*.tf))))))

# Terraform installs providers from a local mirror when there is one (TF_PLUGIN_DIR, or a
# standard mirror directory), from the registry otherwise: see tools/terraform_cli_config.py.
export TF_CLI_CONFIG_FILE := $(shell $(PYTHON) tools/terraform_cli_config.py build/terraform.rc)
export TF_IN_AUTOMATION := 1
export CHECKPOINT_DISABLE := 1
export PYTHONDONTWRITEBYTECODE := 1

# pip prints a warning per package for index locations configured on some machines but absent.
PIP_QUIET_FILTER := { grep -v 'is ignored: it is neither a file nor a directory' || true; }

.PHONY: help setup fmt lint docs test pytest checkov package layers dist placeholders produce replay inventories providers \
        plan apply destroy guard-env clean local-up local-down demo bench verify rewind

help: ## List the targets
	@echo "Usage: make <target> [ENV=<environment>]"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Environments: $(or $(ENVIRONMENTS),none yet)"

setup: ## Create both virtualenvs (idempotent)
	@$(MAKE) -s -j2 $(VENV)/.installed $(CHECKOV_VENV)/.installed

# uv (pinned in requirements/bootstrap.txt, installed by pip) installs the exact pins several
# times faster than pip, compiled to bytecode once: every test process, local-runtime worker
# and CLI run then imports boto3, botocore and pydantic at half the CPU (nothing writes .pyc
# later, PYTHONDONTWRITEBYTECODE). The project itself is installed editable (its console script
# `stream-pipeline` in $(BIN)), without build isolation and without resolving again what
# requirements/dev.txt pins.
$(VENV)/.installed: requirements/dev.txt requirements/lambda.txt requirements/bootstrap.txt .python-version pyproject.toml
	@echo "setup: $(VENV) (Python $(PYTHON_VERSION)) from requirements/dev.txt, then this project (pip install -e .)"
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/bootstrap.txt 2>&1 | $(PIP_QUIET_FILTER)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements/dev.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	@touch $@

# checkov pins boto3==1.35.49 exactly: it cannot share the functions' virtualenv.
$(CHECKOV_VENV)/.installed: requirements/checkov.txt requirements/bootstrap.txt .python-version
	@echo "setup: $(CHECKOV_VENV) from requirements/checkov.txt"
	$(PYTHON) -m venv --clear $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements/bootstrap.txt 2>&1 | $(PIP_QUIET_FILTER)
	$(CHECKOV_VENV)/bin/uv pip install --quiet --compile-bytecode --python $(CHECKOV_VENV)/bin/python -r requirements/checkov.txt
	@touch $@

fmt: setup ## Format Terraform and Python in place
	terraform fmt -recursive
	$(BIN)/ruff check --fix --quiet .
	$(BIN)/ruff format --quiet .

docs: setup ## Regenerate the inputs/outputs tables of the module READMEs
	$(BIN)/python -m tools.terraform_docs

lint: setup ## Formatting, terraform validate of every root, ruff, mypy, README tables
	terraform fmt -check -recursive -diff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m tools.terraform_docs --check
	$(BIN)/python -m tools.terraform_validate

pytest: setup layers ## Python unit tests, plan tests and native terraform tests (PYTEST_ARGS=...)
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

checkov: setup ## Policy scan of modules/ and environments/ (0 failed checks)
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yml $(CHECKOV_ARGS)

# lint, checkov and the layer builds are single-threaded or wait on I/O: they share the cores;
# pytest then takes them all.
test: setup ## Everything CI runs: lint, all tests, checkov
	@$(MAKE) -j3 --output-sync=target lint checkov layers
	@$(MAKE) pytest

package: setup ## Build build/<function>.zip for every function and the dependencies layer
	$(BIN)/stream-pipeline-package
	$(BIN)/python -m tools.dependencies_layer --arch arm64

# The layer for arm64 (what the environments deploy) and for this machine (the tests import the
# handlers from it); rebuilt only when requirements/lambda.txt changes.
layers: setup
	$(BIN)/python -m tools.dependencies_layer --arch arm64 --arch $$($(BIN)/python -c 'from tools.dependencies_layer import host_architecture as a; print(a())')

dist: setup ## Release artifacts in dist/: function zips, both layers, wheel, sdist, SHA256SUMS
	$(BIN)/python -m tools.dist --out dist

# REPLAY_ARGS: the CLI's arguments (default `stats`; e.g. 'run --dry-run', 'run --reason
# RETRIES_EXHAUSTED --max 100'). With ENV=<environment>, the DLQ URL comes from that root's
# `terraform output -json` (output dlq_url), piped to the CLI; without ENV pass --queue-url.
replay: setup ## Replay the DLQ into its stream(s): REPLAY_ARGS='run --dry-run' [ENV=<env>]
	$(if $(ENV),@$(MAKE) guard-env)
	$(if $(ENV),$(TF_OUTPUTS) | )$(LOCAL_AWS_ENV)$(BIN)/stream-pipeline replay $(or $(REPLAY_ARGS),stats)$(if $(ENV), --terraform-outputs -)$(LOCAL_ENDPOINT_ARG)

# VERIFY_ARGS: the canary's arguments (e.g. '--timeout 600 --keep'). The stream, results table,
# DLQ and e-mail notifier come from ENV's `terraform output -json`; ENV=local uses the stack
# `make local-up` started (build/local) and the emulator's dummy credentials.
verify: setup ## Post-deploy canary: put tagged records, report where each ended, clean up: ENV=<env> [VERIFY_ARGS=...]
	@$(MAKE) guard-env
	$(TF_OUTPUTS) | $(LOCAL_AWS_ENV)$(BIN)/stream-pipeline verify $(VERIFY_ARGS) --terraform-outputs -$(LOCAL_ENDPOINT_ARG)

# REWIND_ARGS: the rewind's arguments (e.g. "--consumer processor --from 2026-01-31T10:00:00Z
# --until 2026-01-31T11:00:00Z"); the stream and the consumers' names come from ENV's outputs.
rewind: setup ## Reprocess a time range of the stream through one consumer: ENV=<env> REWIND_ARGS='--consumer processor --from <ISO time>'
	@$(MAKE) guard-env
	$(TF_OUTPUTS) | $(LOCAL_AWS_ENV)$(BIN)/stream-pipeline rewind $(REWIND_ARGS) --terraform-outputs -$(LOCAL_ENDPOINT_ARG)

# PRODUCE_ARGS: the producer's arguments (e.g. '--count 10000 --poison-rate 0.05 --manifest
# build/manifest.jsonl'). With ENV=<environment> the stream comes from that root's
# `terraform output -json` (output stream_name); ENV=local also points at the emulator.
produce: setup ## Put test events on the stream: PRODUCE_ARGS='--count 1000' [ENV=<env>]
	$(if $(ENV),@$(MAKE) guard-env)
	$(if $(ENV),$(TF_OUTPUTS) | )$(LOCAL_AWS_ENV)$(BIN)/stream-pipeline produce $(PRODUCE_ARGS)$(if $(ENV), --terraform-outputs -)$(LOCAL_ENDPOINT_ARG)

# The local stack (`stream-pipeline local`): the local runtime on 127.0.0.1:$(LOCAL_PORT) (pid
# in build/local/runtime.pid, state in build/local/state) with environments/local applied to it
# from a copy in build/local/stack (Terraform state build/local/terraform.tfstate).
# ROOT=<dir> applies another root of the checkout (e.g. examples/orders; its stack lives in
# build/local-<dir>), FUNCTIONS=<dir> adds a folder of handler packages the runtime imports.
LOCAL_ROOT_ARGS = $(if $(ROOT), --terraform-root $(ROOT))$(if $(FUNCTIONS), --functions-dir $(FUNCTIONS))

local-up: package ## Start the local runtime, apply environments/local (or ROOT=<dir>, FUNCTIONS=<dir>) to it
	$(BIN)/stream-pipeline local up --port $(LOCAL_PORT)$(LOCAL_ROOT_ARGS)

local-down: setup ## Stop the runtime local-up started (ROOT= as for local-up) and remove its build/local*
	$(BIN)/stream-pipeline local down$(LOCAL_ROOT_ARGS)

demo: local-up ## local-up, 2,000 events (2 % poison), drain, account for every record
	$(BIN)/stream-pipeline demo

# bench/ imports the functions' packages (stream_processor, hydrate) as a deployment zip holds
# them: functions/ on PYTHONPATH.
bench: setup ## Benchmarks: build/bench.json + a table (BENCH_ARGS=--quick for a smoke run)
	PYTHONPATH=functions $(BIN)/python -m bench $(BENCH_ARGS)

inventories: setup ## Regenerate every plan inventory after an intended change
	$(BIN)/pytest -p no:cacheprovider -n auto tests/modules/test_plan_inventories.py --update-inventories

providers: setup ## Install the providers once (warms TF_PLUGIN_CACHE_DIR before parallel tests)
	$(BIN)/python -m tools.terraform_validate modules/kinesis-stream

# Before packaging, credentials and `terraform init`: the environment's files hold no placeholder.
placeholders: setup
	@$(BIN)/python -m tools.check_placeholders $(ENV)

guard-env:
	@if [ -z "$(ENV)" ] || [ -z "$(filter $(ENV),$(ENVIRONMENTS))" ]; then \
	  echo "ENV='$(ENV)' is not an environment. Use ENV=<name>, one of: $(or $(ENVIRONMENTS),none yet (environments/<name>/ holds none))" >&2; \
	  exit 2; \
	fi

# The local emulator's port (make local-up); tools reach it with --endpoint-url.
LOCAL_PORT ?= 4566
LOCAL_ENDPOINT_ARG = $(if $(filter local,$(ENV)), --endpoint-url http://127.0.0.1:$(LOCAL_PORT))
# ...with the emulator's dummy credentials and the Region environments/local declares.
LOCAL_AWS_ENV = $(if $(filter local,$(ENV)),AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=$$($(BIN)/python -c 'from stream_pipeline.local.stack import local_region; print(local_region())') )

# A per-environment backend config (bucket, key, region) lives next to the root when it has one.
TF_ENV = terraform -chdir=environments/$(ENV)
# The outputs replay/produce read; environments/local is applied by `make local-up` from a copy
# in build/local, whose outputs `stream-pipeline local outputs` prints.
TF_OUTPUTS = $(if $(filter local,$(ENV)),$(BIN)/stream-pipeline local outputs -json,$(TF_ENV) output -json)
TF_BACKEND_CONFIG = $(if $(wildcard environments/$(ENV)/backend.hcl),-backend-config=backend.hcl)

# Real environments need credentials for the provider and the S3 backend; `local` talks to the
# emulator with dummy ones.
CHECK_CREDENTIALS = $(if $(filter-out local,$(ENV)),$(BIN)/python -m tools.aws_credentials $(ENV))

plan: guard-env placeholders package ## terraform plan of ENV=<environment> (writes environments/<env>/tfplan)
	@$(CHECK_CREDENTIALS)
	$(TF_ENV) init -input=false $(TF_BACKEND_CONFIG)
	$(TF_ENV) plan -input=false -out=tfplan

apply: plan ## terraform apply of the plan just made for ENV=<environment>
	$(TF_ENV) apply -input=false tfplan

destroy: guard-env placeholders ## terraform destroy of ENV=<environment> (asks for confirmation)
	@$(CHECK_CREDENTIALS)
	$(TF_ENV) init -input=false $(TF_BACKEND_CONFIG)
	$(TF_ENV) destroy

clean: ## Remove virtualenvs, build output and Terraform working directories
	rm -rf $(VENV) $(CHECKOV_VENV) build dist .pytest_cache .mypy_cache .ruff_cache
	find . -name .terraform -type d -prune -exec rm -rf {} +
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find environments -name tfplan -delete 2>/dev/null || true
