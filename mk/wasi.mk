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

