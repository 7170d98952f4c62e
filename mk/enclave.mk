# Enclave image: kernel, init, runner.eif, PCR verification, emulator e2e test.
# See README.md, "Enclave image".

ENCLAVE_TARGET := x86_64-unknown-linux-gnu
# The one target directory (Makefile); the enclave's binaries are its
# $(ENCLAVE_TARGET) subtree. The paths below are remapped, so the bytes do not
# depend on where the clone or the cache is.
ENCLAVE_CARGO_TARGET_DIR := $(CARGO_TARGET_DIR)
ENCLAVE_CARGO_HOME := $(or $(CARGO_HOME),$(HOME)/.cargo)
ENCLAVE_RELEASE := $(ENCLAVE_CARGO_TARGET_DIR)/$(ENCLAVE_TARGET)/release
# Static, stripped (profile.release), no build paths in the binaries.
ENCLAVE_RUSTFLAGS := -C target-feature=+crt-static \
  --remap-path-prefix=$(ENCLAVE_CARGO_HOME)=/cargo \
  --remap-path-prefix=$(ENCLAVE_CARGO_TARGET_DIR)=/target
ENCLAVE_CFLAGS := -ffile-prefix-map=$(ENCLAVE_CARGO_HOME)=/cargo -ffile-prefix-map=$(ENCLAVE_CARGO_TARGET_DIR)=/target

# Kernel: the committed, reproducibly built enclave/kernel/bzImage (its
# PROVENANCE says how; `make kernel-check` rebuilds it from source), so an
# image builds without any package archive. KERNEL=/path/to/bzImage uses
# another one (with NSM_KO=/path/to/nsm.ko when its NSM driver is a module).
KERNEL ?=
NSM_KO ?=
KERNEL_BLOB := enclave/kernel/bzImage
ENCLAVE_KERNEL := $(or $(KERNEL),$(KERNEL_BLOB))
# The ramdisks are stored gzip-compressed (the kernel has CONFIG_RD_GZIP):
# the runner's 20 MB binary takes about a third of that in the image. With
# KERNEL= a kernel without it, EIF_RAMDISK_COMPRESSION=none.
EIF_RAMDISK_COMPRESSION ?= gzip
# nitro-cli's x86_64 command line; init's sworn.* settings may be added here.
EIF_CMDLINE ?= reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on
EIF_NAME := sworn-runner
EIF := $(BUILD)/runner.eif
EIF_TOOL := $(CARGO_TARGET_DIR)/release/eif
MEASUREMENTS := enclave/measurements.json
ENCLAVE_STAGE := $(BUILD)/enclave

# Emulator tools (make emulator).
VHOST_DEVICE_VSOCK_VERSION := 0.3.0
VHOST_DEVICE_VSOCK := $(SWORN_CACHE)/tools/vhost-device-vsock-$(VHOST_DEVICE_VSOCK_VERSION)/bin/vhost-device-vsock

TEST_TARGETS += verify test-e2e

TEST_TARGETS += kernel-check

.PHONY: kernel kernel-check enclave-kernel toolchain-check eif enclave-binaries eif-tool verify measurements emulator test-e2e test-init

kernel: ## rebuild the kernel from Debian's source + enclave/kernel/{patches,enclave.config} into enclave/kernel/bzImage
	scripts/build-kernel --dest $(KERNEL_BLOB) >/dev/null
	@echo "kernel: wrote $(KERNEL_BLOB) and its PROVENANCE; run 'make measurements' and commit all three with a CHANGELOG line"

kernel-check: ## rebuild the kernel from source and check it is byte for byte the committed enclave/kernel/bzImage
	@scripts/kernel-check $(KERNEL_BLOB)

# The committed kernel, unless KERNEL was given.
enclave-kernel:
	@test -f "$(ENCLAVE_KERNEL)" || { echo "kernel $(ENCLAVE_KERNEL): no such file" >&2; exit 1; }

# The enclave's bytes depend on the exact rustc (rust-toolchain.toml).
toolchain-check:
	@scripts/check-toolchain

eif-tool:
	$(CARGO) build --release --locked -q -p sworn-eif --bin eif

enclave-binaries: toolchain-check
	# One build per binary: built together, cargo would unify the features of
	# their shared dependencies (libc, nix), and every runner dependency
	# change would change init's bytes, and PCR1 with them.
	for p in sworn-init sworn-runner; do \
	  SOURCE_DATE_EPOCH=0 \
	  RUSTFLAGS="$(ENCLAVE_RUSTFLAGS)" CFLAGS_x86_64_unknown_linux_gnu="$(ENCLAVE_CFLAGS)" \
	    $(CARGO) build --release --locked --target $(ENCLAVE_TARGET) -p $$p; \
	done
	scripts/check-no-paths $(ENCLAVE_RELEASE)/init $(ENCLAVE_RELEASE)/runner -- "$(CURDIR)" "$(ENCLAVE_CARGO_HOME)" "$(ENCLAVE_CARGO_TARGET_DIR)" "$(HOME)/.rustup"

eif: toolchain-check enclave-kernel enclave-binaries eif-tool ## build build/runner.eif and build/runner.eif.json (KERNEL=bzImage to use another kernel)
	rm -rf $(ENCLAVE_STAGE) && mkdir -p $(ENCLAVE_STAGE)
	scripts/stage-ramdisks $(ENCLAVE_STAGE) $(ENCLAVE_RELEASE)/init $(ENCLAVE_RELEASE)/runner enclave/app "$(NSM_KO)"
	SOURCE_DATE_EPOCH=0 $(EIF_TOOL) build --kernel $(ENCLAVE_KERNEL) --cmdline "$(EIF_CMDLINE)" \
	  --ramdisk $(ENCLAVE_STAGE)/bootstrap --ramdisk $(ENCLAVE_STAGE)/app --ramdisk-compression $(EIF_RAMDISK_COMPRESSION) \
	  --output $(EIF) --name $(EIF_NAME) --image-version $$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1) >/dev/null
	@echo "eif: $(EIF) ($$(stat -c %s $(EIF)) bytes), sha256 $$(sha256sum $(EIF) | cut -c1-64)"

verify: toolchain-check ## rebuild build/runner.eif from scratch and check its PCRs against enclave/measurements.json
	rm -rf $(ENCLAVE_STAGE) $(EIF) $(EIF).json
	$(MAKE) --no-print-directory eif
	@$(EIF_TOOL) verify $(EIF) --measurements $(MEASUREMENTS) || { \
	  echo "verify: $(EIF) does not match $(MEASUREMENTS). If the image changed on purpose, run 'make measurements' and commit $(MEASUREMENTS) in the same commit." >&2; exit 1; }

measurements: toolchain-check eif ## regenerate enclave/measurements.json from a fresh build/runner.eif
	cp $(EIF).json $(MEASUREMENTS)
	@echo "measurements: wrote $(MEASUREMENTS); commit it with the change that altered the image"

emulator: ## build QEMU with the nitro-enclave machine and install vhost-device-vsock (cached in $SWORN_CACHE)
	scripts/build-qemu >/dev/null
	@if ! [ -x $(VHOST_DEVICE_VSOCK) ]; then \
	  echo "emulator: cargo install vhost-device-vsock $(VHOST_DEVICE_VSOCK_VERSION)"; \
	  $(CARGO) install --locked --quiet vhost-device-vsock --version $(VHOST_DEVICE_VSOCK_VERSION) \
	    --root $(SWORN_CACHE)/tools/vhost-device-vsock-$(VHOST_DEVICE_VSOCK_VERSION); \
	fi

test-e2e: emulator eif host-proxy sworn ## boot build/runner.eif under QEMU (TCG), alone and behind host-proxy, and test it end to end with sworn
	SWORN_QEMU="$$(scripts/build-qemu)" SWORN_VHOST_DEVICE_VSOCK=$(VHOST_DEVICE_VSOCK) \
	SWORN_HOST_PROXY=$(PROXY_BIN) SWORN_CLIENT=$(SWORN_BIN) SWORN_MEASUREMENTS=$(CURDIR)/$(MEASUREMENTS) \
	SWORN_EIF=$(CURDIR)/$(EIF) SWORN_QEMU_FIRMWARE=/usr/share/qemu \
	SWORN_EIF_TOOL=$(EIF_TOOL) SWORN_KERNEL=$(abspath $(ENCLAVE_KERNEL)) SWORN_EIF_CMDLINE="$(EIF_CMDLINE)" \
	SWORN_EIF_RAMDISK_COMPRESSION=$(EIF_RAMDISK_COMPRESSION) \
	SWORN_ENCLAVE_STAGE=$(CURDIR)/$(ENCLAVE_STAGE) \
	  $(CARGO) test --locked -p sworn-e2e -- --ignored --nocapture --test-threads=1

test-init: ## unit tests of init
	$(CARGO) test --locked -p sworn-init
