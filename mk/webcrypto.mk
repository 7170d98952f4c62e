# WebCrypto (crate sworn-webcrypto): see docs/webcrypto.md.
# `make test-cargo` runs the crate's tests unoptimized with Wycheproof
# sampled; this target runs every vector with optimized code (about 20 s of
# tests after the build), in the test-opt profile (its own directory).


TEST_TARGETS += test-webcrypto

.PHONY: test-webcrypto
test-webcrypto: ## webcrypto: all Wycheproof and RFC vectors, optimized build
	SWORN_WEBCRYPTO_FULL=1 $(CARGO) test --profile test-opt -p sworn-webcrypto --locked
