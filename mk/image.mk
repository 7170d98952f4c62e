# image/: the `eif` tool (sworn-image crate).

# Static `eif` binary other parts call: `$(MAKE) eif-tool` then `$(EIF) build ...`.
EIF_TRIPLE := x86_64-unknown-linux-gnu
EIF := $(BUILD)/bin/eif
IMAGE_CARGO_TARGET_DIR ?= $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),$(CURDIR)/target)

.PHONY: eif-tool bench-eif fuzz-image

eif-tool: ## build the static `eif` binary into build/bin/eif
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --locked --release -p sworn-image --bin eif --target $(EIF_TRIPLE)
	@mkdir -p $(dir $(EIF))
	install -m 0755 $(IMAGE_CARGO_TARGET_DIR)/$(EIF_TRIPLE)/release/eif $(EIF)
