# host-proxy: the parent-instance daemon (ingress, SOCKS5 egress, heartbeat).
PROXY_BIN := $(CARGO_TARGET_DIR)/release/host-proxy

.PHONY: host-proxy
host-proxy: ## build the host-proxy daemon (release; prints its path)
	$(CARGO) build --release --locked -q -p sworn-host-proxy
	@echo $(PROXY_BIN)

# Benchmark (bench/proxy/run) against socat and microsocks from Debian.
.PHONY: bench-proxy
bench-proxy: host-proxy ## benchmark host-proxy against socat (ingress) and microsocks (egress) side by side
	HOST_PROXY=$(PROXY_BIN) bench/proxy/run

# Fuzzing the SOCKS5 parser with cargo-fuzz (RUSTC_BOOTSTRAP: no nightly here).
PROXY_FUZZ_TIME ?= 600
PROXY_CARGO_FUZZ_VERSION := 0.12.0
PROXY_CARGO_FUZZ := $(SWORN_CACHE)/tools/cargo-fuzz-$(PROXY_CARGO_FUZZ_VERSION)/bin/cargo-fuzz

.PHONY: fuzz-proxy
fuzz-proxy: ## fuzz the host-proxy SOCKS5 parser for PROXY_FUZZ_TIME seconds (default 600)
	@test -x $(PROXY_CARGO_FUZZ) || $(CARGO) install --locked cargo-fuzz --version $(PROXY_CARGO_FUZZ_VERSION) --root $(SWORN_CACHE)/tools/cargo-fuzz-$(PROXY_CARGO_FUZZ_VERSION)
	@mkdir -p $(BUILD) crates/host-proxy/fuzz/corpus/socks5
	cd crates/host-proxy/fuzz && RUSTC_BOOTSTRAP=1 $(PROXY_CARGO_FUZZ) fuzz run socks5 corpus/socks5 seeds/socks5 -- \
	    -max_total_time=$(PROXY_FUZZ_TIME) -max_len=1024 -rss_limit_mb=2048 \
	    > $(CURDIR)/$(BUILD)/fuzz-proxy-socks5.log 2>&1 || { tail -40 $(CURDIR)/$(BUILD)/fuzz-proxy-socks5.log; exit 1; }
	@echo "fuzz socks5: $$(grep -E '^Done [0-9]+ runs' $(BUILD)/fuzz-proxy-socks5.log)"
