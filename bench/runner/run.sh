#!/usr/bin/env bash
# Runner vs workerd, side by side: hello-world throughput and p99 under wrk,
# RSS under load, and process start to first response.
# Usage: bench/runner/run.sh   (RUNNER_BIN, DURATION, CONNECTIONS, THREADS, ROUNDS)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${SWORN_CACHE:-$HOME/.cache/sworn}"
command -v wrk >/dev/null || { echo "bench-runner: wrk missing (make deps installs it)" >&2; exit 1; }
# workerd from the npm registry, pinned, cached outside the clone.
workerd="$("$root/scripts/workerd")"
RUNNER_BIN="${RUNNER_BIN:-${CARGO_TARGET_DIR:-$cache/target}/x86_64-unknown-linux-gnu/release/runner}"
exec python3 "$here/bench.py" --runner "$RUNNER_BIN" --workerd "$workerd" --dir "$here" \
  --duration "${DURATION:-10}" --connections "${CONNECTIONS:-50}" --threads "${THREADS:-2}" \
  --rounds "${ROUNDS:-3}"
