#!/usr/bin/env bash
# WebAssembly, runner vs workerd (V8), side by side on the same .wasm files:
# SHA-256 over 10 MiB (CPU-bound) and a request to a 1 MB module
# (instantiation per request). Usage: bench/wasm/run.sh  (RUNNER_BIN, MIB, ROUNDS)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${SWORN_CACHE:-$HOME/.cache/sworn}"
out="$root/build/bench-wasm"
mkdir -p "$out"
workerd="$("$root/scripts/workerd")"
RUNNER_BIN="${RUNNER_BIN:-${CARGO_TARGET_DIR:-$cache/target}/x86_64-unknown-linux-gnu/release/runner}"
cc="${WASI_CC:-clang} --target=wasm32-wasi -O2 -Wl,--strip-all"
# 1 MiB of incompressible data for the large module, the same bytes every time.
python3 - "$out/blob.h" <<'PY'
import hashlib, sys
data = b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range((1 << 20) // 32))
with open(sys.argv[1], "w") as f:
    f.write("static const uint8_t blob[1 << 20] = {" + ",".join(map(str, data)) + "};\n")
PY
$cc -o "$out/kernel.wasm" "$here/kernel.c"
$cc -DBLOB -I"$out" -o "$out/kernel-1mb.wasm" "$here/kernel.c"
cp "$here/worker.js" "$here/workerd.capnp" "$out/"
exec python3 "$here/bench.py" --runner "$RUNNER_BIN" --workerd "$workerd" --dir "$out" \
  --mib "${MIB:-10}" --rounds "${ROUNDS:-3}"
