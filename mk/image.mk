# crates/eif: the `eif` tool (sworn-eif crate). mk/enclave.mk owns `eif-tool`
# and `EIF` (the runner image); names here are prefixed to stay clear of them.

IMAGE_TRIPLE := x86_64-unknown-linux-gnu
# Fully static `eif` (no OpenSSL: RustCrypto only), for CI and release use.
EIF_STATIC := $(BUILD)/bin/eif
# Seconds per fuzz target for `make fuzz-image`.
FUZZ_TIME ?= 600
IMAGE_FUZZ_TARGETS := eif_reader
CARGO_FUZZ_VERSION ?= 0.12.0
CARGO_FUZZ := $(SWORN_CACHE)/tools/cargo-fuzz-$(CARGO_FUZZ_VERSION)/bin/cargo-fuzz

TEST_TARGETS += test-image

.PHONY: eif-static test-image bench-eif fuzz-image fuzz-attestation

# Same flags as the enclave's binaries (mk/enclave.mk), so both share one build.
eif-static: ## build a fully static `eif` binary into build/bin/eif
	SOURCE_DATE_EPOCH=0 RUSTFLAGS="$(ENCLAVE_RUSTFLAGS)" CFLAGS_x86_64_unknown_linux_gnu="$(ENCLAVE_CFLAGS)" \
	  $(CARGO) build --locked --release -p sworn-eif --bin eif --target $(IMAGE_TRIPLE)
	@mkdir -p $(dir $(EIF_STATIC))
	install -m 0755 $(CARGO_TARGET_DIR)/$(IMAGE_TRIPLE)/release/eif $(EIF_STATIC)

# The static binary links no shared library (so no OpenSSL) and works.
test-image: eif-static ## check that `eif` builds static and verifies the AWS test document
	@if ldd $(EIF_STATIC) 2>&1 | grep -q '=>'; then echo "test-image: $(EIF_STATIC) is dynamically linked:" >&2; ldd $(EIF_STATIC) >&2; exit 1; fi
	$(EIF_STATIC) attestation verify tests/data/aws-nitro-attestation-debug.cbor >/dev/null
	@echo "test-image: static eif ok"

bench-eif: ## time `eif build` against sha384sum and the AWS EifBuilder (bench/eif/run)
	bench/eif/run

fuzz-image: fuzz-attestation ## fuzz the EIF reader and the attestation parser, FUZZ_TIME seconds each (default 600)
	@mkdir -p $(BUILD)
	cd crates/eif/fuzz && for t in $(IMAGE_FUZZ_TARGETS); do \
	  mkdir -p corpus/$$t; \
	  RUSTC_BOOTSTRAP=1 $(CARGO_FUZZ) fuzz run $$t corpus/$$t seeds/$$t -- \
	    -max_total_time=$(FUZZ_TIME) -max_len=16384 -rss_limit_mb=2048 -malloc_limit_mb=64 \
	    > $(CURDIR)/$(BUILD)/fuzz-$$t.log 2>&1 || { tail -40 $(CURDIR)/$(BUILD)/fuzz-$$t.log; exit 1; }; \
	  echo "fuzz $$t: $$(grep -E '^Done [0-9]+ runs' $(CURDIR)/$(BUILD)/fuzz-$$t.log)"; \
	done

# Seeded from tests/data (the real AWS document), the one copy of the fixtures.
fuzz-attestation: $(CARGO_FUZZ) ## fuzz the attestation document parser and verifier, FUZZ_TIME seconds (default 600)
	@mkdir -p $(BUILD)
	cd crates/attestation/fuzz && mkdir -p corpus/attestation && \
	  RUSTC_BOOTSTRAP=1 $(CARGO_FUZZ) fuzz run attestation corpus/attestation ../../../tests/data -- \
	    -max_total_time=$(FUZZ_TIME) -max_len=16384 -rss_limit_mb=2048 -malloc_limit_mb=64 \
	    > $(CURDIR)/$(BUILD)/fuzz-attestation.log 2>&1 || { tail -40 $(CURDIR)/$(BUILD)/fuzz-attestation.log; exit 1; }; \
	  echo "fuzz attestation: $$(grep -E '^Done [0-9]+ runs' $(CURDIR)/$(BUILD)/fuzz-attestation.log)"

$(CARGO_FUZZ):
	$(CARGO) install --locked cargo-fuzz --version $(CARGO_FUZZ_VERSION) --root $(SWORN_CACHE)/tools/cargo-fuzz-$(CARGO_FUZZ_VERSION)
