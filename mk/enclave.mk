# Enclave image: kernel, init, runner.eif, PCR verification, emulator e2e test.
# See README.md, "Enclave image".

ENCLAVE_TARGET := x86_64-unknown-linux-gnu
# Built outside the clone so two clones share dependencies' builds and the
# remapped paths below do not depend on where the clone is.
ENCLAVE_CARGO_TARGET_DIR ?= $(SWORN_CACHE)/cargo-target/enclave
ENCLAVE_CARGO_HOME := $(or $(CARGO_HOME),$(HOME)/.cargo)
ENCLAVE_RELEASE := $(ENCLAVE_CARGO_TARGET_DIR)/$(ENCLAVE_TARGET)/release
# Static, stripped (profile.release), no build paths in the binaries.
ENCLAVE_RUSTFLAGS := -C target-feature=+crt-static \
  --remap-path-prefix=$(ENCLAVE_CARGO_HOME)=/cargo \
  --remap-path-prefix=$(ENCLAVE_CARGO_TARGET_DIR)=/target
ENCLAVE_CFLAGS := -ffile-prefix-map=$(ENCLAVE_CARGO_HOME)=/cargo -ffile-prefix-map=$(ENCLAVE_CARGO_TARGET_DIR)=/target

# Kernel: ours by default; KERNEL=/path/to/bzImage uses another one (with
# NSM_KO=/path/to/nsm.ko when its NSM driver is a module).
KERNEL ?=
NSM_KO ?=
ENCLAVE_KERNEL := $(or $(KERNEL),$(BUILD)/kernel/bzImage)
# nitro-cli's x86_64 command line; init's sworn.* settings may be added here.
EIF_CMDLINE ?= reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on
EIF_NAME := sworn-runner
EIF := $(BUILD)/runner.eif
EIF_TOOL := $(ENCLAVE_CARGO_TARGET_DIR)/release/eif
MEASUREMENTS := enclave/measurements.json
ENCLAVE_STAGE := $(BUILD)/enclave

# Emulator tools (make emulator).
VHOST_DEVICE_VSOCK_VERSION := 0.3.0
VHOST_DEVICE_VSOCK := $(SWORN_CACHE)/tools/vhost-device-vsock-$(VHOST_DEVICE_VSOCK_VERSION)/bin/vhost-device-vsock

TEST_TARGETS += verify test-e2e

.PHONY: kernel enclave-kernel eif enclave-binaries eif-tool verify measurements emulator test-e2e test-init

kernel: ## build the enclave kernel (cached in $SWORN_CACHE) into build/kernel/bzImage
	scripts/build-kernel --dest $(BUILD)/kernel/bzImage >/dev/null

# Our kernel (a cache lookup when built before), unless KERNEL was given.
enclave-kernel:
ifeq ($(KERNEL),)
	scripts/build-kernel --dest $(BUILD)/kernel/bzImage >/dev/null
else
	@test -f "$(KERNEL)" || { echo "KERNEL=$(KERNEL): no such file" >&2; exit 1; }
endif

eif-tool:
	CARGO_TARGET_DIR=$(ENCLAVE_CARGO_TARGET_DIR) $(CARGO) build --release --locked -q -p sworn-eif --bin eif

enclave-binaries:
	SOURCE_DATE_EPOCH=0 CARGO_TARGET_DIR=$(ENCLAVE_CARGO_TARGET_DIR) \
	RUSTFLAGS="$(ENCLAVE_RUSTFLAGS)" CFLAGS_x86_64_unknown_linux_gnu="$(ENCLAVE_CFLAGS)" \
	  $(CARGO) build --release --locked --target $(ENCLAVE_TARGET) -p sworn-init -p sworn-runner
	scripts/check-no-paths $(ENCLAVE_RELEASE)/init $(ENCLAVE_RELEASE)/runner -- "$(CURDIR)" "$(ENCLAVE_CARGO_HOME)" "$(ENCLAVE_CARGO_TARGET_DIR)" "$(HOME)/.rustup"

eif: enclave-kernel enclave-binaries eif-tool ## build build/runner.eif and build/runner.eif.json (KERNEL=bzImage to use another kernel)
	rm -rf $(ENCLAVE_STAGE) && mkdir -p $(ENCLAVE_STAGE)
	scripts/stage-ramdisks $(ENCLAVE_STAGE) $(ENCLAVE_RELEASE)/init $(ENCLAVE_RELEASE)/runner enclave/app "$(NSM_KO)"
	SOURCE_DATE_EPOCH=0 $(EIF_TOOL) build --kernel $(ENCLAVE_KERNEL) --cmdline "$(EIF_CMDLINE)" \
	  --ramdisk $(ENCLAVE_STAGE)/bootstrap --ramdisk $(ENCLAVE_STAGE)/app \
	  --output $(EIF) --name $(EIF_NAME) --image-version $$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1) >/dev/null
	@echo "eif: $(EIF) ($$(stat -c %s $(EIF)) bytes), sha256 $$(sha256sum $(EIF) | cut -c1-64)"

verify: ## rebuild build/runner.eif from scratch and check its PCRs against enclave/measurements.json
	rm -rf $(ENCLAVE_STAGE) $(EIF) $(EIF).json
	$(MAKE) --no-print-directory eif
	@$(EIF_TOOL) verify $(EIF) --measurements $(MEASUREMENTS) || { \
	  echo "verify: $(EIF) does not match $(MEASUREMENTS). If the image changed on purpose, run 'make measurements' and commit $(MEASUREMENTS) in the same commit." >&2; exit 1; }

measurements: eif ## regenerate enclave/measurements.json from a fresh build/runner.eif
	cp $(EIF).json $(MEASUREMENTS)
	@echo "measurements: wrote $(MEASUREMENTS); commit it with the change that altered the image"

emulator: ## build QEMU with the nitro-enclave machine and install vhost-device-vsock (cached in $SWORN_CACHE)
	scripts/build-qemu >/dev/null
	@if ! [ -x $(VHOST_DEVICE_VSOCK) ]; then \
	  echo "emulator: cargo install vhost-device-vsock $(VHOST_DEVICE_VSOCK_VERSION)"; \
	  $(CARGO) install --locked --quiet vhost-device-vsock --version $(VHOST_DEVICE_VSOCK_VERSION) \
	    --root $(SWORN_CACHE)/tools/vhost-device-vsock-$(VHOST_DEVICE_VSOCK_VERSION); \
	fi

test-e2e: emulator eif host-proxy ## boot build/runner.eif under QEMU (TCG), alone and behind host-proxy, and test it end to end
	SWORN_QEMU="$$(scripts/build-qemu)" SWORN_VHOST_DEVICE_VSOCK=$(VHOST_DEVICE_VSOCK) \
	SWORN_HOST_PROXY=$(PROXY_BIN) SWORN_MEASUREMENTS=$(CURDIR)/$(MEASUREMENTS) \
	SWORN_EIF=$(CURDIR)/$(EIF) SWORN_QEMU_FIRMWARE=/usr/share/qemu \
	SWORN_EIF_TOOL=$(EIF_TOOL) SWORN_KERNEL=$(abspath $(ENCLAVE_KERNEL)) SWORN_EIF_CMDLINE="$(EIF_CMDLINE)" \
	SWORN_ENCLAVE_STAGE=$(CURDIR)/$(ENCLAVE_STAGE) \
	  $(CARGO) test --locked -p sworn-e2e -- --ignored --nocapture --test-threads=1

test-init: ## unit tests of init
	$(CARGO) test --locked -p sworn-init
