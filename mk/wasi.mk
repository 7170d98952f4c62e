# WASI workers: the C workloads the runner's tests upload, built here with
# Debian's clang and wasi-libc (mk/wasi.apt). See docs/wasi.md.

WASI_CC ?= clang
WASI_CFLAGS := --target=wasm32-wasi -O2 -Wl,--strip-all
WASI_DIR := $(BUILD)/wasi
WASI_EXAMPLES := $(patsubst examples/wasi/%.c,$(WASI_DIR)/%.wasm,$(wildcard examples/wasi/*.c))
# The runner's and the crate's tests read the modules from here.
export SWORN_WASI_DIR := $(abspath $(WASI_DIR))

.PHONY: wasi-examples

wasi-examples: $(WASI_EXAMPLES) ## build the WASI workloads of examples/wasi (clang --target=wasm32-wasi)

$(WASI_DIR)/%.wasm: examples/wasi/%.c
	@mkdir -p $(WASI_DIR)
	$(WASI_CC) $(WASI_CFLAGS) -o $@ $<

test-cargo: wasi-examples

# Fuzzing the upload path and the runs after it (crates/wasi/fuzz: raw
# bytes and wasm-smith modules shaped like WASI commands). `make test` runs
# it for WASI_FUZZ_CI_TIME seconds; `make fuzz-wasi` for WASI_FUZZ_TIME.
# No sanitizer: the code under test is safe Rust and wasmtime's JIT code,
# and what is looked for is a panic, a hang or a crash of the process.
WASI_FUZZ_TIME ?= 600
WASI_FUZZ_CI_TIME ?= 60
# Its own target directory: the fuzzer's RUSTFLAGS (coverage) would
# otherwise rebuild the enclave binaries' dependencies in the shared one.
WASI_FUZZ_TARGET_DIR := $(SWORN_CACHE)/fuzz-target

TEST_TARGETS += test-fuzz-wasi
.PHONY: fuzz-wasi test-fuzz-wasi

fuzz-wasi: ## fuzz the wasi upload checks and runs for WASI_FUZZ_TIME seconds (default 600)
	@$(MAKE) --no-print-directory wasi-fuzz-run WASI_FUZZ_SECONDS=$(WASI_FUZZ_TIME)

test-fuzz-wasi: ## the same fuzzing, bounded for CI (WASI_FUZZ_CI_TIME seconds, default 60)
	@$(MAKE) --no-print-directory wasi-fuzz-run WASI_FUZZ_SECONDS=$(WASI_FUZZ_CI_TIME)

.PHONY: wasi-fuzz-run
# $(CARGO_FUZZ) and its install rule: mk/image.mk.
wasi-fuzz-run: $(CARGO_FUZZ)
	@mkdir -p $(BUILD) crates/wasi/fuzz/corpus/upload
	cd crates/wasi/fuzz && CARGO_TARGET_DIR=$(WASI_FUZZ_TARGET_DIR) RUSTC_BOOTSTRAP=1 $(CARGO_FUZZ) fuzz run --sanitizer none upload corpus/upload -- \
	    -max_total_time=$(WASI_FUZZ_SECONDS) -max_len=16384 -rss_limit_mb=4096 -timeout=10 \
	    > $(CURDIR)/$(BUILD)/fuzz-wasi.log 2>&1 || { tail -40 $(CURDIR)/$(BUILD)/fuzz-wasi.log; exit 1; }
	@echo "fuzz wasi upload: $$(grep -E '^Done [0-9]+ runs' $(BUILD)/fuzz-wasi.log)"

.PHONY: bench-wasm
bench-wasm: runner ## WebAssembly: SHA-256 over 10 MiB and a 1 MB module's requests, runner (wasmtime) vs workerd (V8) side by side
	RUNNER_BIN=$(RUNNER_BIN) WASI_CC=$(WASI_CC) bench/wasm/run.sh
