#!/usr/bin/env python3
"""WebAssembly side by side: the Sworn runner (wasmtime, a wasi worker) and
workerd (V8, the same .wasm through its `wasm` module type), alternating
round by round. Each answer is checked before it is timed.
"""
import argparse
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from procstat import stop  # noqa: E402

RUNNER_PORT = 18090
WORKERD_PORT = 18091


def get(port, path):
    """One request on a fresh connection: (status line, body, seconds)."""
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    took = time.perf_counter() - t0
    head, _, body = data.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        out, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return head.split(b"\r\n")[0].decode(), body, took


def start(cmd, port, path, cwd):
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while True:
        try:
            if get(port, path)[0].endswith("200 OK"):
                return proc
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise SystemExit(f"{cmd[0]} did not start")
        time.sleep(0.05)


def expected_sha256(mib):
    h = hashlib.sha256()
    for at in range(0, mib << 20, 4096):
        h.update(bytes(((at + i) * 31 + (at + i) // 4096) & 0xFF for i in range(4096)))
    return h.hexdigest().encode()


def timed(port, path, n, check):
    times = []
    for _ in range(n):
        status, body, took = get(port, path)
        if not status.endswith("200 OK") or not check(body):
            raise SystemExit(f"port {port} {path}: {status} {body[:200]!r}")
        times.append(took)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runner", required=True)
    ap.add_argument("--workerd", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--mib", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    digest = expected_sha256(args.mib)
    d = args.dir
    servers = [
        ("sworn runner (wasmtime)",
         [args.runner, "--listen", f"tcp:127.0.0.1:{RUNNER_PORT}", "--fetch", "none",
          "--worker", f"kernel={d}/kernel.wasm", "--worker", f"big={d}/kernel-1mb.wasm"],
         RUNNER_PORT, "/workers/kernel/fetch", "/workers/big/fetch"),
        ("workerd (V8)", [args.workerd, "serve", "workerd.capnp"], WORKERD_PORT, "", "/big"),
    ]
    load_before = os.getloadavg()
    rounds = {s[0]: [] for s in servers}
    for i in range(args.rounds):
        for name, cmd, port, small, big in servers:
            proc = start(cmd, port, f"{small}/noop", d)
            sha_path = f"{small}/sha256?mib={args.mib}"
            timed(port, sha_path, 3, lambda b: b.strip() == digest)  # warm-up (V8 tiers up)
            sha = timed(port, sha_path, 10, lambda b: b.strip() == digest)
            timed(port, f"{big}/noop", 20, lambda b: b.startswith(b"ok"))
            noop_big = timed(port, f"{big}/noop", 200, lambda b: b.startswith(b"ok"))
            noop = timed(port, f"{small}/noop", 200, lambda b: b.startswith(b"ok"))
            stop(proc)
            r = {"sha": sha, "big": noop_big, "noop": noop}
            rounds[name].append(r)
            print(f"round {i + 1}: {name}: sha256 {args.mib} MiB {sha * 1000:.1f} ms, "
                  f"1 MB module request {noop_big * 1000:.2f} ms, 30 KB module request {noop * 1000:.2f} ms",
                  flush=True)
    med = {name: {k: statistics.median(r[k] for r in rs) for k in ("sha", "big", "noop")} for name, rs in rounds.items()}
    print()
    print(f"median of {args.rounds} alternating rounds (10 SHA-256 runs, 200 requests each), one request at a time "
          f"on a fresh connection, {os.cpu_count()} cores, load average before {load_before[0]:.2f}, "
          f"after {os.getloadavg()[0]:.2f}")
    print()
    print(f"| server | SHA-256 {args.mib} MiB | throughput | request, 1 MB module | request, 30 KB module |")
    print("|---|---:|---:|---:|---:|")
    for name, m in med.items():
        print(f"| {name} | {m['sha'] * 1000:.1f} ms | {args.mib / m['sha']:.0f} MiB/s | {m['big'] * 1000:.2f} ms "
              f"| {m['noop'] * 1000:.2f} ms |")
    a, b = med.values()
    print()
    print(f"runner/workerd: SHA-256 throughput x{b['sha'] / a['sha']:.2f}, "
          f"1 MB module request time x{a['big'] / b['big']:.2f}, 30 KB module request time x{a['noop'] / b['noop']:.2f}")


if __name__ == "__main__":
    main()
