# The verifying client: `sworn attest`, `sworn connect`, the management
# commands. See docs/client.md.

SWORN_BIN := $(CARGO_TARGET_DIR)/release/sworn

.PHONY: sworn bench-tls

sworn: ## build the verifying client `sworn` (prints its path)
	@$(CARGO) build --release --locked -p sworn --bin sworn
	@echo $(SWORN_BIN)

bench-tls: runner host-proxy sworn ## attested TLS vs plain HTTP through host-proxy: req/s, handshakes/s, attest verify time
	$(CARGO) build --release --locked -q -p sworn-attestation --example verify_timing
	RUNNER_BIN=$(RUNNER_BIN) HOST_PROXY=$(PROXY_BIN) SWORN_BIN=$(SWORN_BIN) \
	  VERIFY_TIMING=$(CARGO_TARGET_DIR)/release/examples/verify_timing bench/tls/run.sh
