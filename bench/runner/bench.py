#!/usr/bin/env python3
"""Side-by-side benchmark of the Sworn runner and workerd on one worker.

For each server: start it, time process start to first 200 response, run wrk
against it while sampling RSS, then stop it. Prints a table and the ratios.
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from procstat import rss_bytes, stop  # noqa: E402

RUNNER_PORT = 18080
WORKERD_PORT = 18081


def http_ok(port, path):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n".encode())
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def start(cmd, port, path, cwd):
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = t0 + 30
    while not http_ok(port, path):
        if proc.poll() is not None:
            raise SystemExit(f"{cmd[0]} exited with {proc.returncode}")
        if time.perf_counter() > deadline:
            proc.kill()
            raise SystemExit(f"{cmd[0]} did not answer within 30 s")
        time.sleep(0.001)
    return proc, (time.perf_counter() - t0) * 1000


def parse_latency(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def load(proc, port, path, args):
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(rss_bytes(proc.pid))
            time.sleep(0.1)

    t = threading.Thread(target=sample)
    t.start()
    out = subprocess.run(
        ["wrk", "--latency", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True).stdout
    stop.set()
    t.join()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = parse_latency(re.search(r"99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockerr = re.search(r"Socket errors: (.*)", out)
    if errors or sockerr:
        print(f"  warning: {errors.group(0) if errors else ''} {sockerr.group(0) if sockerr else ''}")
    return rps, p99, max(samples) if samples else 0


def run(name, cmd, port, path, cwd, args):
    # Idle start-up and RSS, then a warm-up, then the measured load.
    proc, start_ms = start(cmd, port, path, cwd)
    idle = rss_bytes(proc.pid)
    subprocess.run(["wrk", "-t1", "-c4", "-d1s", f"http://127.0.0.1:{port}{path}"], capture_output=True, check=True)
    rps, p99, peak = load(proc, port, path, args)
    stop(proc)
    return {"name": name, "start_ms": start_ms, "idle_rss": idle, "rps": rps, "p99_ms": p99, "rss": peak}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runner", required=True)
    ap.add_argument("--workerd", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    worker = os.path.join(args.dir, "hello.js")
    servers = [
        ("sworn runner", [args.runner, "--listen", f"tcp:127.0.0.1:{RUNNER_PORT}", "--fetch", "none", "--worker", worker],
         RUNNER_PORT, "/workers/hello/fetch/"),
        ("workerd", [args.workerd, "serve", "workerd.capnp"], WORKERD_PORT, "/"),
    ]
    # Alternate the servers round by round and report medians, so a change
    # in background load hits both alike.
    rounds = {name: [] for name, *_ in servers}
    for i in range(args.rounds):
        for name, cmd, port, path in servers:
            r = run(name, cmd, port, path, args.dir, args)
            rounds[name].append(r)
            print(f"round {i + 1}: {name}: {r['rps']:,.0f} req/s, p99 {r['p99_ms']:.2f} ms, "
                  f"RSS {r['rss'] / 2**20:.1f} MiB, start {r['start_ms']:.1f} ms", flush=True)
    results = []
    for name, *_ in servers:
        rs = rounds[name]
        med = lambda key: statistics.median(r[key] for r in rs)
        results.append({"name": name, "rps": med("rps"), "p99_ms": med("p99_ms"), "rss": med("rss"),
                        "idle_rss": med("idle_rss"), "start_ms": med("start_ms")})
    print()
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, hello world, {os.cpu_count()} cores, "
          f"loopback TCP, median of {args.rounds} alternating rounds")
    print()
    print("| server | requests/s | p99 latency | RSS under load | RSS idle | start to first response |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['name']} | {r['rps']:,.0f} | {r['p99_ms']:.2f} ms | {r['rss'] / 2**20:.1f} MiB | "
              f"{r['idle_rss'] / 2**20:.1f} MiB | {r['start_ms']:.1f} ms |")
    a, b = results
    print()
    print(f"runner/workerd: throughput x{a['rps'] / b['rps']:.2f}, p99 x{a['p99_ms'] / b['p99_ms']:.2f}, "
          f"RSS under load x{a['rss'] / b['rss']:.3f}, start-up x{a['start_ms'] / b['start_ms']:.3f}")


if __name__ == "__main__":
    main()
