#!/usr/bin/env bash
# Attested TLS against plain HTTP, side by side in one run, both through
# host-proxy's ingress to one runner (--tls --plain-http compat, the image's
# setting): keep-alive requests/s of the hello worker under wrk, full
# handshakes per second (openssl s_time -new), requests/s with a new TLS
# connection per request, and the time `sworn attest` spends verifying a
# document. Prints a markdown table with ratios and the load average.
# The document checks are also timed on a real AWS document (the example
# verify_timing of sworn-attestation).
# Usage: bench/tls/run.sh   (RUNNER_BIN HOST_PROXY SWORN_BIN VERIFY_TIMING DURATION CONNECTIONS THREADS ATTEST_RUNS)
set -euo pipefail
cd "$(dirname "$0")/../.."
cache=${SWORN_CACHE:-$HOME/.cache/sworn}
target=${CARGO_TARGET_DIR:-$cache/target}
RUNNER_BIN=${RUNNER_BIN:-$target/x86_64-unknown-linux-gnu/release/runner}
HOST_PROXY=${HOST_PROXY:-$target/release/host-proxy}
SWORN_BIN=${SWORN_BIN:-$target/release/sworn}
VERIFY_TIMING=${VERIFY_TIMING:-$target/release/examples/verify_timing}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
ATTEST_RUNS=${ATTEST_RUNS:-20}
for tool in wrk openssl; do
  command -v $tool >/dev/null || { echo "bench-tls: $tool missing (make deps installs it)" >&2; exit 1; }
done
for bin in "$RUNNER_BIN" "$HOST_PROXY" "$SWORN_BIN" "$VERIFY_TIMING"; do
  [[ -x $bin ]] || { echo "bench-tls: $bin missing (make bench-tls builds it)" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null; }
for _ in $(seq 50); do
  port=$((10000 + RANDOM % 20000))
  port_free $port && break
done
measurements=enclave/measurements.json
"$RUNNER_BIN" --tls --plain-http compat --listen "unix:$work/runner.sock" --threads "$THREADS" \
  --dev-measurements "$measurements" --worker "hello=bench/runner/hello.js" 2>"$work/runner.log" & pids+=($!)
"$HOST_PROXY" --log-level warn --no-egress --ingress "tcp:127.0.0.1:$port=unix:$work/runner.sock" \
  2>"$work/proxy.log" & pids+=($!)
plain=http://127.0.0.1:$port
tls=https://127.0.0.1:$port
for _ in $(seq 300); do
  curl -sf "$plain/health" >/dev/null 2>&1 && curl -skf "$tls/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -skf "$tls/health" >/dev/null || { echo "bench-tls: the runner did not answer over TLS" >&2; cat "$work/runner.log" >&2; exit 1; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
path=/workers/hello/fetch/
# wrk: keep-alive by default; "Connection: close" makes every request a new connection.
rps() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "$@" | awk '/^Requests\/sec:/ { print $2 }'; }
plain_rps=$(rps "$plain$path")
tls_rps=$(rps "$tls$path")
plain_close=$(rps -H "Connection: close" "$plain$path")
tls_close=$(rps -H "Connection: close" "$tls$path")
# Full TLS handshakes (no resumption), one client process: connections per wall-clock second.
handshakes=$(openssl s_time -connect "127.0.0.1:$port" -new -time "$DURATION" 2>/dev/null \
  | awk '/connections in [0-9.]+ real seconds/ { printf "%.0f", $1 / $4; exit }')
# sworn attest: the time spent checking the document (the tool prints it), median of ATTEST_RUNS.
verify_ms=()
for _ in $(seq "$ATTEST_RUNS"); do
  ms=$("$SWORN_BIN" attest "$tls" --pcrs "$measurements" --emulator --json 2>/dev/null \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["timing"]["totalMs"])')
  verify_ms+=("$ms")
done
verify_median=$(printf '%s\n' "${verify_ms[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
# The same checks on a real AWS document (tests/data; four chain certificates
# and the document, each a P-384 signature): the first document, and the next
# one with its chain remembered, as sworn attest meets them on Nitro.
aws=$("$VERIFY_TIMING" tests/data/aws-nitro-attestation-debug.cbor "$ATTEST_RUNS")
aws_ms() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$aws" "$1"; }
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }'; }
echo "## Attested TLS vs plain HTTP, both through host-proxy to one runner"
echo
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s; runner --threads $THREADS; $(nproc) cores; load average before $load_before, after $load_after"
echo
echo "| metric | plain HTTP | attested TLS | TLS / plain |"
echo "|---|---:|---:|---:|"
echo "| hello worker, keep-alive (req/s) | $plain_rps | $tls_rps | $(ratio "$tls_rps" "$plain_rps") |"
echo "| hello worker, new connection per request (req/s) | $plain_close | $tls_close | $(ratio "$tls_close" "$plain_close") |"
echo "| full handshakes/s (openssl s_time -new, 1 client) | - | $handshakes | - |"
echo "| \`sworn attest\` checks, certificate + fresh document (ms, median of $ATTEST_RUNS; development NSM) | - | $verify_median | - |"
echo "| AWS document check: first / chain remembered / both (ms, median of $ATTEST_RUNS) | - | $(aws_ms firstMs) / $(aws_ms rememberedChainMs) / $(aws_ms bothMs) | - |"
