//! Heaps of deleted workers go back to the system: the runner's resident
//! size falls after memory-heavy workers are deleted. Alone in its binary so
//! no other test's memory moves the process's RSS.

mod common;

use std::time::Duration;

use common::{test_limits, TestRunner};
use sworn_runner::limits::Limits;

/// Keeps about 60 MiB in 100 kB strings (below glibc's mmap threshold, so
/// they live in the thread's malloc arena) and answers with the count.
const HEAVY: &str = "const keep = [];
export default { fetch() {
  if (keep.length === 0) for (let i = 0; i < 600; i++) keep.push('x'.repeat(1e5) + i);
  return new Response('holding ' + keep.length);
} }";

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_memory_heavy_workers_returns_their_heaps_to_the_system() {
    let r = TestRunner::start(Limits { memory_bytes: 96 << 20, ..test_limits() }).await;
    let names = ["heavy-0", "heavy-1", "heavy-2"];
    for name in names {
        r.deploy(name, "module", HEAVY).await;
    }
    let before = rss();
    for name in names {
        let held = r.fetch(name, "").await;
        assert_eq!((held.status, held.text()), (200, "holding 600".to_string()), "{name}");
    }
    let peak = rss();
    let grown = peak.saturating_sub(before);
    assert!(grown > 100 << 20, "three workers holding 60 MiB each grew RSS by only {grown} bytes");

    for name in names {
        assert_eq!(r.owner_request("DELETE", &format!("/workers/{name}"), "").await.status, 204);
    }
    // Each thread drops its instances when it gets to the removal.
    let mut committed = u64::MAX;
    for _ in 0..400 {
        committed = r.get("/stats").await.json()["heapCommitted"].as_u64().unwrap_or(u64::MAX);
        if committed == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(committed, 0, "no worker is left, so no heap");
    let after = rss();
    eprintln!("RSS before {before}, peak {peak}, after delete {after}");
    // At least three quarters of what the workers took is back with the system.
    assert!(
        after < peak - grown / 4 * 3,
        "RSS stayed high: {before} before, {peak} at the peak, {after} after deleting every worker"
    );
}
