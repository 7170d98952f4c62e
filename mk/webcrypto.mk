# WebCrypto (crate sworn-webcrypto): see README.md, "WebCrypto".
# `make test-cargo` runs the crate's tests unoptimized with Wycheproof
# sampled; this target runs every vector with optimized code (about 20 s of
# tests after the build), in its own cached target dir.

WEBCRYPTO_CARGO_TARGET_DIR ?= $(SWORN_CACHE)/cargo-target/webcrypto-opt

TEST_TARGETS += test-webcrypto

.PHONY: test-webcrypto
test-webcrypto: ## webcrypto: all Wycheproof and RFC vectors, optimized build
	SWORN_WEBCRYPTO_FULL=1 CARGO_PROFILE_DEV_OPT_LEVEL=2 CARGO_TARGET_DIR=$(WEBCRYPTO_CARGO_TARGET_DIR) \
	  $(CARGO) test -p sworn-webcrypto --locked
