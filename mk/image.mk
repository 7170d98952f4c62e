# image/: the `eif` tool (sworn-image crate). mk/enclave.mk owns `eif-tool`
# and `EIF` (the runner image); names here are prefixed to stay clear of them.

IMAGE_TRIPLE := x86_64-unknown-linux-gnu
IMAGE_CARGO_TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
# Fully static `eif` (no OpenSSL: RustCrypto only), for CI and release use.
EIF_STATIC := $(BUILD)/bin/eif

.PHONY: eif-static bench-eif fuzz-image

eif-static: ## build a fully static `eif` binary into build/bin/eif
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --locked --release -p sworn-image --bin eif --target $(IMAGE_TRIPLE)
	@mkdir -p $(dir $(EIF_STATIC))
	install -m 0755 $(IMAGE_CARGO_TARGET_DIR)/$(IMAGE_TRIPLE)/release/eif $(EIF_STATIC)
	@file $(EIF_STATIC) 2>/dev/null || true
