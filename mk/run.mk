# make run: build what is missing, then boot build/runner.eif in QEMU's
# nitro-enclave machine behind host-proxy (scripts/run-enclave).

# Host TCP port forwarded to the enclave's runner (vsock port 1057).
PORT ?= 1057
# Where `sworn connect` serves plain HTTP, relayed over the verified TLS.
CONNECT_PORT ?= 8057
# Guest memory (MiB) and vCPUs; the e2e test's defaults.
ENCLAVE_MEM ?= 512
ENCLAVE_CPUS ?= 2

.PHONY: run
run: ## boot the enclave in the emulator behind host-proxy (Ctrl-C stops everything)
	@+exec env MAKE="$(MAKE)" PORT="$(PORT)" CONNECT_PORT="$(CONNECT_PORT)" ENCLAVE_MEM="$(ENCLAVE_MEM)" ENCLAVE_CPUS="$(ENCLAVE_CPUS)" \
	  EIF="$(CURDIR)/$(EIF)" HOST_PROXY="$(PROXY_BIN)" SWORN="$(SWORN_BIN)" VHOST_DEVICE_VSOCK="$(VHOST_DEVICE_VSOCK)" \
	  QEMU_FIRMWARE=/usr/share/qemu RUN_LOG_DIR="$(CURDIR)/$(BUILD)/run" \
	  scripts/run-enclave
