# JS runner: static release build, local development run, benchmark vs workerd.
# See README.md, "Runner".

RUNNER_TARGET := x86_64-unknown-linux-gnu
RUNNER_CARGO_TARGET_DIR ?= $(SWORN_CACHE)/cargo-target/runner
RUNNER_BIN := $(RUNNER_CARGO_TARGET_DIR)/$(RUNNER_TARGET)/release/runner
RUNNER_LOCAL_LISTEN ?= tcp:127.0.0.1:1057
RUNNER_LOCAL_WORKER ?= examples/hello.js

.PHONY: runner run-local bench-runner

runner: ## build the runner as a static release binary (prints its path)
	RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR=$(RUNNER_CARGO_TARGET_DIR) \
	  $(CARGO) build --release --locked -q -p sworn-runner --target $(RUNNER_TARGET)
	@echo $(RUNNER_BIN)

run-local: runner ## run the runner on tcp:127.0.0.1:1057 with examples/hello.js (RUNNER_LOCAL_WORKER=...)
	$(RUNNER_BIN) --listen $(RUNNER_LOCAL_LISTEN) --worker $(RUNNER_LOCAL_WORKER)

bench-runner: runner ## requests/s, p99, RSS and start-up time: runner vs workerd, side by side
	RUNNER_BIN=$(RUNNER_BIN) bench/runner/run.sh
