#!/usr/bin/env bash
# Soak test of the runner: good workers under wrk, hostile workers re-deployed
# every minute, slow clients; stops by itself after SOAK_MINUTES slices.
# Usage: bench/soak/run.sh [soak.py flags]   (SOAK_MINUTES, default 20; RUNNER_BIN to skip the build)
# e.g. bench/soak/run.sh --runner-arg=--slow-lane-after=0   (the runner without its slow lane)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
command -v wrk >/dev/null || { echo "bench-soak: wrk missing (make deps installs it)" >&2; exit 1; }
if [ -z "${RUNNER_BIN:-}" ]; then
  (cd "$root" && cargo build --release --locked -p sworn-runner --bin runner >&2)
  RUNNER_BIN="${CARGO_TARGET_DIR:-$root/target}/release/runner"
fi
exec python3 "$here/soak.py" --runner "$RUNNER_BIN" --minutes "${SOAK_MINUTES:-20}" "$@"
