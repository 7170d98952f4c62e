# Sworn: top-level build. Each part adds its targets in mk/<part>.mk and its
# Debian packages in mk/<part>.apt; `make test` runs every part's tests.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Heavy, reusable builds (kernel, QEMU, cargo tools) live outside the clone.
export SWORN_CACHE ?= $(HOME)/.cache/sworn
BUILD := build
CARGO ?= cargo

# Parts append their test targets here.
TEST_TARGETS := test-cargo

include $(sort $(wildcard mk/*.mk))

.PHONY: help deps test test-cargo
help: ## list targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

deps: ## install the Debian packages and tools the build needs
	@scripts/install-deps

test: deps ## run every test: units, integration, image verification, emulator end-to-end
	@$(MAKE) --no-print-directory $(TEST_TARGETS)

test-cargo: ## unit and integration tests of every crate
	$(CARGO) test --workspace --locked
