"""What the benchmarks read about their server processes (/proc) and how they stop them, in one place."""


def rss_bytes(pid):
    """Resident set size of `pid` (VmRSS), 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def stop(proc, timeout=10):
    """SIGTERM (the servers drain and exit), SIGKILL after `timeout` s."""
    import signal
    import subprocess
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
