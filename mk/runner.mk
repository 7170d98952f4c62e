# JS runner: static release build, local development run, benchmark vs workerd, soak.
# See README.md, "Runner".

# The runner the image packs (mk/enclave.mk builds it).
RUNNER_BIN := $(ENCLAVE_RELEASE)/runner
RUNNER_LOCAL_LISTEN ?= tcp:127.0.0.1:1057
RUNNER_LOCAL_WORKER ?= examples/hello.js
# Extra runner flags of run-local, e.g. --tls --dev-measurements enclave/measurements.json
RUNNER_LOCAL_ARGS ?=

.PHONY: runner run-local bench-runner bench-soak

runner: enclave-binaries ## build the runner the image packs, static, release (prints its path)
	@echo $(RUNNER_BIN)

run-local: runner ## run the runner on tcp:127.0.0.1:1057 with examples/hello.js (RUNNER_LOCAL_WORKER=...)
	$(RUNNER_BIN) --listen $(RUNNER_LOCAL_LISTEN) --worker $(RUNNER_LOCAL_WORKER) $(RUNNER_LOCAL_ARGS)

bench-runner: runner ## requests/s, p99, RSS and start-up time: runner vs workerd, side by side
	RUNNER_BIN=$(RUNNER_BIN) bench/runner/run.sh

# Not part of `make test`: about SOAK_MINUTES minutes plus a release build.
SOAK_MINUTES ?= 20
bench-soak: ## soak: good workers under wrk, hostile workers and slow clients every minute (SOAK_MINUTES=20)
	SOAK_MINUTES=$(SOAK_MINUTES) bench/soak/run.sh
