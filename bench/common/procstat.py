"""What the benchmarks read about a process from /proc, in one place."""


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
