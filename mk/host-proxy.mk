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

# Fuzzing the SOCKS5 codec (crates/socks5: both halves) with cargo-fuzz
# (RUSTC_BOOTSTRAP: no nightly here).
SOCKS5_FUZZ_TIME ?= $(or $(PROXY_FUZZ_TIME),600)
SOCKS5_CARGO_FUZZ_VERSION := 0.12.0
SOCKS5_CARGO_FUZZ := $(SWORN_CACHE)/tools/cargo-fuzz-$(SOCKS5_CARGO_FUZZ_VERSION)/bin/cargo-fuzz

.PHONY: fuzz-socks5 fuzz-proxy
fuzz-socks5: ## fuzz the SOCKS5 codec (server and client halves) for SOCKS5_FUZZ_TIME seconds (default 600)
	@test -x $(SOCKS5_CARGO_FUZZ) || $(CARGO) install --locked cargo-fuzz --version $(SOCKS5_CARGO_FUZZ_VERSION) --root $(SWORN_CACHE)/tools/cargo-fuzz-$(SOCKS5_CARGO_FUZZ_VERSION)
	@mkdir -p $(BUILD) crates/socks5/fuzz/corpus/socks5
	cd crates/socks5/fuzz && RUSTC_BOOTSTRAP=1 $(SOCKS5_CARGO_FUZZ) fuzz run socks5 corpus/socks5 seeds/socks5 -- \
	    -max_total_time=$(SOCKS5_FUZZ_TIME) -max_len=1024 -rss_limit_mb=2048 \
	    > $(CURDIR)/$(BUILD)/fuzz-socks5.log 2>&1 || { tail -40 $(CURDIR)/$(BUILD)/fuzz-socks5.log; exit 1; }
	@echo "fuzz socks5: $$(grep -E '^Done [0-9]+ runs' $(BUILD)/fuzz-socks5.log)"

# The old name, from when the codec lived in host-proxy.
fuzz-proxy: fuzz-socks5 ## alias of fuzz-socks5
