//! The runner-wide memory budget (`--memory-budget-mib`): past it, new
//! instances and requests get 503 naming the budget; the runner stays up and
//! serves again once memory is freed.

mod common;

use common::{test_limits, TestRunner};
use sworn_runner::limits::Limits;

const GOOD: &str = "export default { fetch() { return new Response('fine') } }";

/// Keeps about 24 MiB (240 strings of 100 kB) on its first `/grow`.
const GROWER: &str = "const keep = [];
export default { fetch(req) {
  if (new URL(req.url).pathname === '/grow' && keep.length === 0)
    for (let i = 0; i < 240; i++) keep.push('x'.repeat(1e5) + i);
  return new Response('holding ' + keep.length);
} }";

/// Takes memory until an allocation fails, catches that, lets two strings go
/// (so it can answer) and keeps the rest.
const HOG: &str = "const keep = [];
export default { fetch() {
  try { for (;;) keep.push('x'.repeat(1e5) + keep.length) } catch (e) { keep.pop(); keep.pop() }
  return new Response('holding ' + keep.length);
} }";

fn mib(n: u64) -> u64 {
    n << 20
}

/// Waits until the heaps of deleted workers are gone (each thread drops its
/// instances when it gets to the removal), up to 10 s.
async fn wait_heap_below(r: &TestRunner, bytes: u64) {
    for _ in 0..400 {
        if r.get("/stats").await.json()["heapCommitted"].as_u64().is_some_and(|c| c < bytes) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("heapCommitted stayed at or above {bytes}: {}", r.get("/stats").await.json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allocation_past_the_memory_budget_fails_its_request_with_503_naming_the_budget() {
    // Each instance may hold 32 MiB; all of them together 64 MiB.
    let r = TestRunner::start(Limits { memory_budget_bytes: mib(64), ..test_limits() }).await;
    r.deploy("good", "module", GOOD).await;
    for name in ["a", "b", "c"] {
        r.deploy(name, "module", GROWER).await;
    }
    for name in ["a", "b"] {
        let grown = r.fetch(name, "grow").await;
        assert_eq!((grown.status, grown.text()), (200, "holding 240".to_string()), "{name}");
    }
    let stats = r.get("/stats").await.json();
    assert_eq!(stats["memoryBudget"], mib(64), "{stats}");
    let committed = stats["heapCommitted"].as_u64().unwrap_or(0);
    assert!(committed > mib(48) && committed <= mib(64), "{stats}");

    // A third 24 MiB does not fit: the request fails, not the runner.
    let refused = r.fetch("c", "grow").await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(refused.text().contains("memory budget of 64 MiB"), "{}", refused.text());
    let details = r.owner_get("/workers/c").await.json();
    assert!(details["lastError"].as_str().unwrap_or("").contains("memory budget of 64 MiB"), "{details}");
    assert_eq!(r.get("/health").await.status, 200);
    let ok = r.fetch("good", "").await;
    assert_eq!((ok.status, ok.text()), (200, "fine".to_string()));
    assert!(r.get("/stats").await.json()["heapCommitted"].as_u64().unwrap_or(u64::MAX) <= mib(64));

    // Deleting a frees its 24 MiB: c's request now fits.
    assert_eq!(r.owner_request("DELETE", "/workers/a", "").await.status, 204);
    wait_heap_below(&r, committed - mib(20)).await;
    let grown = r.fetch("c", "grow").await;
    assert_eq!((grown.status, grown.text()), (200, "holding 240".to_string()));
    // b's 24 MiB (on whichever thread grew it) and c's now are both live.
    let committed = r.get("/stats").await.json()["heapCommitted"].as_u64().unwrap_or(0);
    assert!(committed > mib(48) && committed <= mib(64), "b kept its memory throughout: {committed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_memory_budget_refuses_requests_and_deploys_with_503_until_memory_is_freed() {
    // One instance alone (32 MiB limit) can fill the 24 MiB budget.
    let r = TestRunner::start(Limits { memory_budget_bytes: mib(24), ..test_limits() }).await;
    r.deploy("good", "module", GOOD).await;
    r.deploy("hog", "module", HOG).await;
    let hog = r.fetch("hog", "").await;
    assert_eq!(hog.status, 200, "{}", hog.text());

    let refused = r.fetch("good", "").await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(refused.text().contains("memory budget of 24 MiB (--memory-budget-mib)"), "{}", refused.text());
    let deploy = r.create(serde_json::json!({ "code": GOOD, "type": "module", "name": "late" })).await;
    assert_eq!(deploy.status, 503, "{}", deploy.text());
    assert!(deploy.text().contains("memory budget of 24 MiB"), "{}", deploy.text());
    assert_eq!(r.get("/health").await.status, 200);
    assert_eq!(r.get("/stats").await.status, 200);

    assert_eq!(r.owner_request("DELETE", "/workers/hog", "").await.status, 204);
    wait_heap_below(&r, mib(8)).await;
    let ok = r.fetch("good", "").await;
    assert_eq!((ok.status, ok.text()), (200, "fine".to_string()));
    r.deploy("late", "module", GOOD).await;
    assert_eq!(r.fetch("late", "").await.text(), "fine");
}
