#!/usr/bin/env python3
"""Soak test of the Sworn runner (issue 17, must-have 9).

Starts the runner on loopback TCP with its default limits, deploys two
well-behaved workers and drives them with wrk in 1-minute slices. Every
minute it re-deploys the hostile workers of issue 17's findings 1-4, calls
each a few times, and re-opens a bounded set of slow clients (request heads
trickled a byte a second, uploads stalled short of their Content-Length).
At the end it prints one table: the good workers' errors (goal 0), p99 per
slice and its drift, the runner's RSS at start, middle and end (goal: flat
within 10 %), and the machine's core count and load average.

Everything is bounded: a fixed number of slices, a fixed number of
connections, a timeout on every socket, and a deadline on every loop. The
runner and every wrk are stopped on exit, Ctrl-C or SIGTERM included.
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from procstat import rss_bytes  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "latency.lua")

GOOD = {
    "hello": """export default {
  fetch() { return new Response("Hello World!\\n", { headers: { "content-type": "text/plain" } }); },
};""",
    "digest": """export default {
  async fetch(request) {
    const url = new URL(request.url);
    const body = JSON.stringify({ path: url.pathname, n: 42, tags: ["a", "b", "c"] });
    const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)));
    let hex = "";
    for (const b of d) hex += b.toString(16).padStart(2, "0");
    return new Response(JSON.stringify({ body, sha256: hex }), { headers: { "content-type": "application/json" } });
  },
};""",
}

# Issue 17, findings 1-4. Their failures are expected and are not counted
# against the good workers; what they return is reported per slice.
HOSTILE = {
    # Finding 4: grows its heap until the per-instance memory limit.
    "bomb": """export default {
  fetch() { const keep = []; for (;;) keep.push(new Array(1 << 16).fill(Math.random())); },
};""",
    # The CPU limit per request.
    "spin": """export default { fetch() { for (;;) {} } };""",
    # Finding 2: CPU burnt by a top-level timer, with no request at all.
    "interval": """setInterval(() => { const e = Date.now() + 200; while (Date.now() < e) {} }, 0);
export default { fetch() { return new Response("still here"); } };""",
    # Finding 1: a typed array whose byteLength changes between reads.
    "liar": """let n = 0;
class L extends Uint8Array { get byteLength() { return ++n <= 2 ? 16 : 2 ** 28; } }
export default {
  fetch() {
    n = 0;
    try { crypto.getRandomValues(new L(16)); return new Response("filled"); }
    catch (e) { return new Response(String(e), { status: 400 }); }
  },
};""",
    # Finding 3: a streamed response that never closes.
    "stream": """export default {
  fetch() {
    return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("first chunk\\n")); } }));
  },
};""",
}
HOSTILE_CALLS = 3          # calls per hostile worker per minute, 5 s apart
HOSTILE_CALL_LIMIT = 40    # s a call (or reading a never-ending stream) may take: past the runner's 30 s
                           # request timeout, short of the slice end (shorter slices shrink it)


def log(msg):
    print(msg, flush=True)


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mib(b):
    return b / 2**20


class Runner:
    def __init__(self, binary, port, logdir, extra=()):
        self.port = port
        self.credentials = {}  # worker name -> owner credential (POST /workers)
        self.log_path = os.path.join(logdir, "runner.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "--listen", f"tcp:127.0.0.1:{port}", "--fetch", "none", *extra],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def request(self, method, path, body=None, timeout=10):
        """(status, body bytes), or (None, error text) on a transport error."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"content-type": "application/json"} if body is not None else {}
            credential = self.credentials.get(path.split("/")[2]) if path.startswith("/workers/") else None
            if credential and not path.split("/")[3:4] == ["fetch"]:
                headers["authorization"] = f"Bearer {credential}"
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException) as e:
            return None, f"{type(e).__name__}: {e}".encode()
        finally:
            conn.close()

    def wait_ready(self, deadline_s=30):
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"runner exited with {self.proc.returncode}; see {self.log_path}")
            status, _ = self.request("GET", "/health", timeout=1)
            if status == 200:
                return
            time.sleep(0.05)
        raise SystemExit(f"runner did not answer within {deadline_s} s")

    def deploy(self, name, code):
        self.request("DELETE", f"/workers/{name}")
        status, body = self.request("POST", "/workers", json.dumps({"name": name, "type": "module", "code": code}),
                                    timeout=30)
        if status == 201:
            # The owner's credential: deleting or replacing the worker needs it.
            self.credentials[name] = json.loads(body).get("credential")
        return status, body

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class SlowClients:
    """Request heads trickled a byte a second, and uploads stalled short of
    their Content-Length. Re-opened every minute; on re-opening, records how
    many of the previous set the runner had closed (or answered)."""

    def __init__(self, port, heads, uploads, upload_bytes, upload_short, stop):
        self.port, self.heads_n, self.uploads_n = port, heads, uploads
        self.upload_bytes, self.upload_short = upload_bytes, upload_short
        self.stop_event = stop
        self.lock = threading.Lock()
        self.heads = []    # [socket, bytes sent, closed?]
        self.uploads = []  # sockets
        self.trickler = threading.Thread(target=self._trickle, daemon=True)
        self.trickler.start()

    def _connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.settimeout(10)
        return s

    @staticmethod
    def _peer_closed(s):
        """True if the runner closed the connection or sent a response."""
        try:
            s.setblocking(False)
            s.recv(4096)  # b"" (closed) or a response: either way the runner acted
            return True
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _trickle(self):
        head = b"GET /workers/hello/fetch/ HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: "
        while not self.stop_event.wait(1.0):
            with self.lock:
                for h in self.heads:
                    if h[2]:
                        continue
                    s, sent = h[0], h[1]
                    byte = head[sent:sent + 1] or b"a"
                    try:
                        s.send(byte)
                        h[1] += 1
                    except OSError:
                        h[2] = True

    def _upload(self, s):
        try:
            s.sendall(f"POST /workers/hello/fetch/upload HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                      f"content-length: {self.upload_bytes}\r\ncontent-type: application/octet-stream\r\n\r\n".encode())
            chunk = b"u" * 65536
            left = self.upload_bytes - self.upload_short
            while left > 0 and not self.stop_event.is_set():
                n = min(left, len(chunk))
                s.sendall(chunk[:n])
                left -= n
        except OSError:
            pass

    def close(self):
        """Closes the current set; returns (heads closed by runner, uploads closed by runner)."""
        with self.lock:
            heads_closed = sum(1 for h in self.heads if h[2] or self._peer_closed(h[0]))
            ups_closed = sum(1 for s in self.uploads if self._peer_closed(s))
            for h in self.heads:
                h[0].close()
            for s in self.uploads:
                s.close()
            n = (len(self.heads), len(self.uploads))
            self.heads, self.uploads = [], []
        return heads_closed, ups_closed, n

    def reopen(self):
        closed = self.close()
        heads, ups = [], []
        for _ in range(self.heads_n):
            try:
                heads.append([self._connect(), 0, False])
            except OSError:
                pass
        for _ in range(self.uploads_n):
            try:
                s = self._connect()
            except OSError:
                continue
            ups.append(s)
            threading.Thread(target=self._upload, args=(s,), daemon=True).start()
        with self.lock:
            self.heads, self.uploads = heads, ups
        return closed


def call_hostile(runner, name, delay, limit, outcomes, lock, stop):
    """One call of one hostile worker, after `delay` seconds, bounded by `limit` seconds."""
    if stop.wait(delay):
        return
    if name == "stream":
        result = read_stream(runner.port, limit)
    else:
        status, body = runner.request("GET", f"/workers/{name}/fetch/", timeout=limit)
        result = str(status) if status is not None else "no answer in time" if b"timed out" in body else "transport error"
    with lock:
        outcomes.setdefault(name, {}).setdefault(result, 0)
        outcomes[name][result] += 1


def read_stream(port, limit):
    """Reads the never-ending stream until the runner ends it or `limit` seconds pass."""
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /workers/stream/fetch/ HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
            s.settimeout(2)
            first = b""
            while time.monotonic() - t0 < limit:
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    status = first[9:12].decode(errors="replace") or "?"
                    return f"{status}, ended after {time.monotonic() - t0:.0f} s"
                first = first or data
            status = first[9:12].decode(errors="replace") or "?"
            return f"{status}, still open at {limit:.0f} s"
    except OSError as e:
        return f"transport error ({type(e).__name__})"


def parse_wrk(out):
    m = re.search(r"^SOAK (.*)$", out, re.M)
    if not m:
        return None
    return {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


def percent(a, b):
    return (a / b - 1) * 100 if b else float("inf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runner", required=True)
    ap.add_argument("--minutes", type=int, default=20)
    ap.add_argument("--slice", type=int, default=60, help="seconds of wrk per slice")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections per good worker")
    ap.add_argument("--slow-heads", type=int, default=5)
    ap.add_argument("--slow-uploads", type=int, default=20)
    ap.add_argument("--upload-mib", type=int, default=2, help="declared Content-Length of a stalled upload")
    ap.add_argument("--no-hostile", action="store_true", help="control run: no hostile workers")
    ap.add_argument("--warmup", type=int, default=30,
                    help="seconds of the good load and slow clients before the baseline RSS")
    ap.add_argument("--runner-arg", action="append", default=[],
                    help="extra runner flag (repeatable), e.g. --runner-arg=--slow-lane-after=0")
    args = ap.parse_args()
    hostile = {} if args.no_hostile else HOSTILE
    if args.minutes < 1 or args.slice < 20:
        raise SystemExit("--minutes must be at least 1 and --slice at least 20")

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)  # also when started with SIGINT ignored (a background job)

    nproc = len(os.sched_getaffinity(0))
    load_start = loadavg()
    logdir = tempfile.mkdtemp(prefix="sworn-soak-")
    port = free_port()
    stop = threading.Event()
    wrks = []
    runner = None
    slow = None
    slices = []
    interrupted = False
    died = None
    try:
        log(f"soak: {args.minutes} slices of {args.slice} s, {nproc} cores, load average {load_start}, "
            f"runner log {logdir}/runner.log")
        runner = Runner(args.runner, port, logdir, args.runner_arg)
        runner.wait_ready()
        for name, code in GOOD.items():
            status, body = runner.deploy(name, code)
            if status != 201:
                raise SystemExit(f"deploying {name}: {status} {body[:300]!r}")
        # Warm-up, then the baseline RSS: the slices' good load and slow
        # clients, nothing hostile yet, so that the baseline holds the
        # buffers of that load and a rise after it is the hostile workers'.
        slow = SlowClients(port, args.slow_heads, args.slow_uploads, args.upload_mib << 20, 256 << 10, stop)
        slow.reopen()
        warm = [subprocess.Popen(["wrk", "-t1", f"-c{args.connections}", f"-d{args.warmup}s",
                                  f"http://127.0.0.1:{port}/workers/{name}/fetch/"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for name in GOOD]
        wrks = warm
        for w in warm:
            w.wait(timeout=args.warmup + 30)
        wrks = []
        time.sleep(1)
        rss_start = rss_bytes(runner.proc.pid)
        log(f"soak: baseline RSS {mib(rss_start):.1f} MiB (good workers and slow clients, {args.warmup} s warm-up)")

        for i in range(args.minutes):
            t0 = time.monotonic()
            cpu0 = cpu_seconds(runner.proc.pid)
            heads_closed, ups_closed, prev_n = slow.reopen()
            deploys = {}
            for name, code in hostile.items():
                status, body = runner.deploy(name, code)
                deploys[name] = status
            outcomes, lock = {}, threading.Lock()
            limit = min(HOSTILE_CALL_LIMIT, args.slice - 5 * HOSTILE_CALLS)
            callers = [threading.Thread(target=call_hostile, args=(runner, n, 5 * k, limit, outcomes, lock, stop),
                                        daemon=True)
                       for n, st in deploys.items() if st == 201 for k in range(HOSTILE_CALLS)]
            wrks = [subprocess.Popen(["wrk", "-t1", f"-c{args.connections}", f"-d{args.slice}s", "--timeout", "2s",
                                      "-s", LUA, f"http://127.0.0.1:{port}/workers/{name}/fetch/"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                    for name in GOOD]
            for c in callers:
                c.start()
            results = {}
            for name, w in zip(GOOD, wrks):
                try:
                    out, _ = w.communicate(timeout=args.slice + 30)
                except subprocess.TimeoutExpired:
                    w.kill()
                    out, _ = w.communicate()
                results[name] = parse_wrk(out) or {"requests": 0, "non2xx": 0, "connect": 0, "read": 0,
                                                   "write": 0, "timeout": 0, "p50": 0, "p99": 0, "unparsed": out[-300:]}
            wrks = []
            for c in callers:
                c.join(timeout=max(0.0, t0 + args.slice + 15 - time.monotonic()))
            # The interval worker's lastError says whether the CPU credit stopped it.
            status, body = runner.request("GET", "/workers/interval") if hostile else (None, b"")
            try:
                interval_err = json.loads(body).get("lastError") if status == 200 else f"status {status}"
            except ValueError:
                interval_err = "unreadable"
            s = {
                "slice": i + 1, "good": results, "deploys": deploys, "hostile": outcomes,
                "interval_last_error": interval_err,
                "slow_prev": (heads_closed, ups_closed, prev_n),
                "rss": rss_bytes(runner.proc.pid), "cpu": cpu_seconds(runner.proc.pid) - cpu0,
                "secs": time.monotonic() - t0, "load": loadavg(),
            }
            slices.append(s)
            good_err = sum(r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"] for r in results.values())
            log(f"slice {i + 1}/{args.minutes}: " + ", ".join(
                f"{n} {r['requests']} req p50 {r['p50'] / 1000:.1f} ms p99 {r['p99'] / 1000:.1f} ms"
                for n, r in results.items())
                + f", good-worker errors {good_err}, RSS {mib(s['rss']):.1f} MiB, runner CPU {s['cpu']:.0f} s"
                f" in {s['secs']:.0f} s, load {s['load']}")
            errs = {n: {k: r[k] for k in ("non2xx", "connect", "read", "write", "timeout") if r[k]}
                    for n, r in results.items()}
            if good_err:
                log(f"  good-worker errors by kind: {errs}")
            log(f"  hostile: deploy {deploys}; calls {outcomes}; interval lastError {str(interval_err)[:120]!r}")
            log(f"  slow clients of the previous minute closed by the runner: heads {heads_closed}/{prev_n[0]}, "
                f"uploads {ups_closed}/{prev_n[1]}")
            if not runner.alive():
                died = f"runner exited with {runner.proc.returncode} during slice {i + 1}"
                log(f"soak: {died}")
                break
        # After the run: hostile workers deleted, slow clients closed.
        hc, uc, pn = slow.close()
        log(f"soak: last slow clients closed by the runner: heads {hc}/{pn[0]}, uploads {uc}/{pn[1]}")
        if runner.alive():
            for name in HOSTILE:
                runner.request("DELETE", f"/workers/{name}")
            time.sleep(5)
        rss_after = rss_bytes(runner.proc.pid) if runner.alive() else 0
    except KeyboardInterrupt:
        interrupted = True
        log("soak: interrupted")
    finally:
        stop.set()
        for w in wrks:
            if w.poll() is None:
                w.terminate()
                try:
                    w.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    w.kill()
        if slow:
            slow.close()
        if runner:
            runner.stop()
    if interrupted or not slices:
        sys.exit(130 if interrupted else 1)
    report(args, hostile, nproc, load_start, loadavg(), rss_start, rss_after, slices, died, runner.log_path)


def report(args, hostile, nproc, load_start, load_end, rss_start, rss_after, slices, died, log_path):
    n = len(slices)
    mid = slices[n // 2] if n > 2 else slices[-1]
    first, last = slices[0], slices[-1]
    errors = {name: sum(s["good"][name][k] for s in slices for k in ("non2xx", "connect", "read", "write", "timeout"))
              for name in GOOD}
    requests = {name: sum(s["good"][name]["requests"] for s in slices) for name in GOOD}
    total_err = sum(errors.values())
    rss_mid, rss_end = mid["rss"], last["rss"]
    rss_worst = max(abs(percent(rss_mid, rss_start)), abs(percent(rss_end, rss_start)))
    ok = lambda c: "goal met" if c else "NOT met"
    print()
    print(f"Soak: {n} of {args.minutes} slices of {args.slice} s, runner defaults"
          + (f" with {' '.join(args.runner_arg)}" if args.runner_arg else "") + " on loopback TCP, wrk -t1 "
          f"-c{args.connections} per good worker (hello, digest); "
          + (f"hostile workers {', '.join(hostile)} re-deployed every slice, {HOSTILE_CALLS} calls each; "
             if hostile else "no hostile workers (control run); ")
          + f"{args.slow_heads} trickled heads and "
          f"{args.slow_uploads} uploads stalled 256 KiB short of {args.upload_mib} MiB re-opened every slice.")
    print(f"Machine: nproc {nproc}, load average {load_start} at start, {load_end} at end (1, 5, 15 min).")
    if died:
        print(f"RUNNER DIED: {died}; see {log_path}")
    print()
    print("| slice | hello req | hello err | hello p99 | digest req | digest err | digest p99 | runner RSS | runner CPU |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in slices:
        cells = []
        for name in GOOD:
            r = s["good"][name]
            e = r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
            cells += [f"{r['requests']:,}", str(e), f"{r['p99'] / 1000:.1f} ms"]
        print(f"| {s['slice']} | " + " | ".join(cells) + f" | {mib(s['rss']):.1f} MiB | {s['cpu']:.0f} s |")
    print()
    print("| figure | value | goal | verdict |")
    print("|---|---|---|---|")
    print(f"| good workers' errors (non-2xx + socket errors) | {total_err} of "
          f"{sum(requests.values()):,} requests ({', '.join(f'{k} {v}' for k, v in errors.items())}) | 0 | "
          f"{ok(total_err == 0 and not died)} |")
    for name in GOOD:
        p0, p1 = first["good"][name]["p99"], last["good"][name]["p99"]
        drift = p1 / p0 if p0 else float("inf")
        print(f"| {name} p99, first / last slice | {p0 / 1000:.1f} ms / {p1 / 1000:.1f} ms, drift x{drift:.2f} | "
              f"none set | - |")
    print(f"| runner RSS start / middle (slice {mid['slice']}) / end (slice {last['slice']}) | "
          f"{mib(rss_start):.1f} / {mib(rss_mid):.1f} / {mib(rss_end):.1f} MiB "
          f"({percent(rss_mid, rss_start):+.0f} % / {percent(rss_end, rss_start):+.0f} %) | "
          f"within 10 % of start | {ok(rss_worst <= 10 and not died)} |")
    print(f"| runner RSS end of slice 1 -> end of slice {last['slice']} | {mib(first['rss']):.1f} -> "
          f"{mib(rss_end):.1f} MiB ({percent(rss_end, first['rss']):+.0f} %) | (steady state, informational) | - |")
    if rss_after:
        print(f"| runner RSS after hostile workers deleted, slow clients closed, 5 s | {mib(rss_after):.1f} MiB "
              f"({percent(rss_after, rss_start):+.0f} % of start) | (informational) | - |")
    print(f"| load average start / end | {load_start} / {load_end} on {nproc} cores | - | - |")
    print()
    print("Start = after the warm-up (the good load and slow clients, no hostile worker); middle and end "
          "= at the end of a slice, hostile workers deployed and slow clients open.")


if __name__ == "__main__":
    main()
