# host-proxy: the parent-instance daemon (ingress, SOCKS5 egress, heartbeat).
PROXY_TARGET_DIR ?= $(CURDIR)/target
PROXY_BIN := $(PROXY_TARGET_DIR)/release/host-proxy

.PHONY: host-proxy
host-proxy: ## build the host-proxy daemon (release) into target/release/host-proxy
	CARGO_TARGET_DIR=$(PROXY_TARGET_DIR) $(CARGO) build --release --locked -p host-proxy
