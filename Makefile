# Sworn: top-level build. Each part adds its targets in mk/<part>.mk and its
# Debian packages in mk/<part>.apt; `make test` runs every part's tests.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Heavy, reusable builds (kernel, QEMU, cargo tools) live outside the clone.
export SWORN_CACHE ?= $(HOME)/.cache/sworn
# One cargo target directory for everything: tests, tools, and the enclave's
# static binaries (its --target subtree), so `make runner` runs the measured
# runner. Outside the clone, so fresh clones reuse dependencies' builds.
export CARGO_TARGET_DIR ?= $(SWORN_CACHE)/target
BUILD := build
CARGO ?= cargo

# Parts append their test targets here.
TEST_TARGETS := test-cargo

include $(sort $(wildcard mk/*.mk))

.PHONY: help deps lint test test-cargo
help: ## list targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

deps: ## install the Debian packages and tools the build needs, and workerd (the tests' oracle) from npm
	@scripts/install-deps
	@scripts/workerd >/dev/null

lint: ## the style gates: rustfmt, clippy (warnings are errors), one version of each crypto crate
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	scripts/check-crypto-stack

test: ## run every test: units, integration, image verification, emulator end-to-end (after `make deps`)
	@$(MAKE) --no-print-directory $(TEST_TARGETS)

test-cargo: ## unit and integration tests of every crate
	SWORN_WORKERD="$$(scripts/workerd)" $(CARGO) test --workspace --locked
