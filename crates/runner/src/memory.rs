//! The runner-wide memory budget (`--memory-budget-mib`) over every QuickJS
//! heap, and handing freed heaps back to the system.
//!
//! Every instance's runtime allocates through a [`BudgetAllocator`], which
//! charges each block to the runner's one [`HeapBudget`] before handing it
//! out. An allocation that would take the sum of all heaps past the budget
//! fails inside QuickJS (an out-of-memory exception for the worker doing it),
//! so the sum of live heaps never exceeds the budget, whatever the number of
//! workers and threads. The per-instance limit (`--memory-limit-mib`) still
//! applies on top.
//!
//! Admission control turns that into clean refusals before any JavaScript
//! runs: an instance is created only with [`HeapBudget::INSTANCE_RESERVE`]
//! bytes free, and a request is started only with
//! [`HeapBudget::REQUEST_RESERVE`] bytes free; otherwise the caller gets
//! [`BudgetExhausted`] (503 in the HTTP front).
//!
//! Buffers the Rust side holds (request and response bodies, fetch bodies)
//! are not QuickJS heap and not charged; they are bounded by their own limits.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rquickjs::allocator::{Allocator, RustAllocator};

/// The budget when `/proc/meminfo` cannot be read: 75 % of 512 MiB, the
/// smallest enclave Sworn is run in.
pub const FALLBACK_BUDGET_BYTES: u64 = 384 << 20;

/// Heap bytes freed since the last `malloc_trim` that make the next instance
/// drop trim again (trimming walks every malloc arena, so it is rate-limited
/// by bytes freed, not done for every small instance).
pub const TRIM_AFTER_FREED_BYTES: u64 = 8 << 20;

/// The default `--memory-budget-mib`: 75 % of `MemTotal` in `meminfo` (the
/// text of /proc/meminfo; in an enclave, the enclave's memory), in bytes.
pub fn budget_from_meminfo(meminfo: &str) -> Option<u64> {
    let kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal")?.strip_prefix(':'))
        .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())?;
    Some(kib.saturating_mul(1024) / 4 * 3)
}

/// 75 % of this machine's (or enclave's) memory, or
/// [`FALLBACK_BUDGET_BYTES`] when /proc/meminfo has no `MemTotal`.
pub fn default_budget_bytes() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| budget_from_meminfo(&t))
        .filter(|&b| b > 0)
        .unwrap_or(FALLBACK_BUDGET_BYTES)
}

/// The runner's resident set size (`VmRSS` of /proc/self/status), in bytes.
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status").ok().and_then(|t| vm_rss(&t)).unwrap_or(0)
}

fn vm_rss(status: &str) -> Option<u64> {
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())?;
    Some(kib.saturating_mul(1024))
}

/// Why the budget refused an instance or a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the runner's memory budget of {budget_mib} MiB (--memory-budget-mib) is used up: \
     {committed_mib} MiB of worker heaps are live",
    budget_mib = .budget >> 20,
    committed_mib = .committed >> 20
)]
pub struct BudgetExhausted {
    pub budget: u64,
    pub committed: u64,
}

/// The budget and the bytes all QuickJS heaps hold now.
#[derive(Debug)]
pub struct HeapBudget {
    budget: u64,
    committed: AtomicU64,
    freed_since_trim: AtomicU64,
}

impl HeapBudget {
    /// Free room an instance needs to be created: about what a new instance
    /// with the prelude takes (about 1 MiB) and its first allocations.
    pub const INSTANCE_RESERVE: u64 = 2 << 20;
    /// Free room a request needs to start.
    pub const REQUEST_RESERVE: u64 = 1 << 20;

    pub fn new(budget: u64) -> HeapBudget {
        HeapBudget { budget, committed: AtomicU64::new(0), freed_since_trim: AtomicU64::new(0) }
    }

    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Bytes the live QuickJS heaps hold (allocator blocks, headers included).
    pub fn committed(&self) -> u64 {
        self.committed.load(Ordering::Relaxed)
    }

    /// Whether `reserve` bytes are free now (nothing is taken).
    pub fn admit(&self, reserve: u64) -> Result<(), BudgetExhausted> {
        let committed = self.committed();
        if committed.saturating_add(reserve) > self.budget {
            return Err(BudgetExhausted { budget: self.budget, committed });
        }
        Ok(())
    }

    /// Takes `n` bytes if that keeps the total within the budget.
    fn charge(&self, n: u64) -> bool {
        self.committed
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |c| {
                c.checked_add(n).filter(|&total| total <= self.budget)
            })
            .is_ok()
    }

    fn release(&self, n: u64) {
        let _ = self.committed.fetch_update(Ordering::AcqRel, Ordering::Relaxed, |c| Some(c.saturating_sub(n)));
    }

    /// A heap of up to `peak` bytes was freed: return free memory to the
    /// system once [`TRIM_AFTER_FREED_BYTES`] have been freed since the last
    /// trim. Returns whether it trimmed.
    fn heap_freed(&self, peak: u64) -> bool {
        let freed = self.freed_since_trim.fetch_add(peak, Ordering::AcqRel).saturating_add(peak);
        if freed < TRIM_AFTER_FREED_BYTES {
            return false;
        }
        self.freed_since_trim.store(0, Ordering::Release);
        trim();
        true
    }
}

/// `wasi` workers' linear memory counts against the same budget as the
/// QuickJS heaps.
impl sworn_wasi::MemoryCharge for HeapBudget {
    fn charge(&self, bytes: u64) -> bool {
        HeapBudget::charge(self, bytes)
    }

    fn release(&self, bytes: u64) {
        HeapBudget::release(self, bytes)
    }
}

/// Hands free pages of every malloc arena back to the kernel. glibc keeps
/// freed memory of its per-thread arenas otherwise (only the top of each
/// heap is returned), which is what left RSS at its peak after deleting
/// workers; musl and other allocators need nothing here.
fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only rearranges glibc's own
    // free lists; it is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What an instance and its allocator share: bytes its heap holds, and
/// whether the budget refused one of its allocations since `refused` was
/// last cleared.
#[derive(Debug, Default)]
pub struct HeapGauge {
    held: Cell<u64>,
    refused: Cell<bool>,
}

impl HeapGauge {
    pub fn held(&self) -> u64 {
        self.held.get()
    }

    /// Whether the budget (not the instance's own limit) refused an
    /// allocation since the last [`Self::clear_refused`].
    pub fn refused(&self) -> bool {
        self.refused.get()
    }

    pub fn clear_refused(&self) {
        self.refused.set(false);
    }
}

/// A QuickJS allocator (Rust's global allocator, through rquickjs's
/// [`RustAllocator`]) that charges every block to the runner's budget.
pub struct BudgetAllocator {
    budget: Arc<HeapBudget>,
    gauge: Rc<HeapGauge>,
    peak: u64,
}

impl BudgetAllocator {
    pub fn new(budget: Arc<HeapBudget>, gauge: Rc<HeapGauge>) -> BudgetAllocator {
        BudgetAllocator { budget, gauge, peak: 0 }
    }

    fn take(&mut self, n: u64) -> bool {
        if !self.budget.charge(n) {
            self.gauge.refused.set(true);
            return false;
        }
        let held = self.gauge.held.get().saturating_add(n);
        self.gauge.held.set(held);
        self.peak = self.peak.max(held);
        true
    }

    fn give(&mut self, n: u64) {
        self.budget.release(n);
        self.gauge.held.set(self.gauge.held.get().saturating_sub(n));
    }

    /// Bytes a block of `size` requested bytes occupies (RustAllocator
    /// rounds up to 8 and adds an 8-byte header).
    fn footprint(size: usize) -> u64 {
        (size as u64).div_ceil(8).saturating_mul(8).saturating_add(8)
    }
}

// SAFETY: every method forwards to RustAllocator, which upholds the trait's
// contract; this type only adds bookkeeping, and returns null (as the
// contract allows) when the budget refuses.
unsafe impl Allocator for BudgetAllocator {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        let n = Self::footprint(size);
        if !self.take(n) {
            return std::ptr::null_mut();
        }
        let p = RustAllocator.alloc(size);
        if p.is_null() {
            self.give(n);
        }
        p
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        let Some(total) = count.checked_mul(size) else {
            return std::ptr::null_mut();
        };
        let n = Self::footprint(total);
        if !self.take(n) {
            return std::ptr::null_mut();
        }
        let p = RustAllocator.calloc(count, size);
        if p.is_null() {
            self.give(n);
        }
        p
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        // SAFETY: QuickJS frees only blocks this allocator handed out, which
        // RustAllocator made.
        let n = Self::footprint(unsafe { RustAllocator::usable_size(ptr) });
        // SAFETY: as above; the block is not used after this.
        unsafe { RustAllocator.dealloc(ptr) };
        self.give(n);
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        if ptr.is_null() {
            return self.alloc(new_size);
        }
        // SAFETY: `ptr` is a live block of this allocator (the caller's contract).
        let old = Self::footprint(unsafe { RustAllocator::usable_size(ptr) });
        let new = Self::footprint(new_size);
        if new > old && !self.take(new - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: as above; on success the old block is gone, on failure it stays.
        let p = unsafe { RustAllocator.realloc(ptr, new_size) };
        if p.is_null() {
            if new > old {
                self.give(new - old);
            }
        } else if new < old {
            self.give(old - new);
        }
        p
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        // SAFETY: forwarded with the caller's guarantee.
        unsafe { RustAllocator::usable_size(ptr) }
    }
}

impl Drop for BudgetAllocator {
    /// Runs after QuickJS freed the whole runtime: whatever is still charged
    /// (nothing, unless QuickJS leaked) goes back to the budget, and the
    /// freed heap goes back to the system.
    fn drop(&mut self) {
        let left = self.gauge.held.get();
        self.give(left);
        self.budget.heap_freed(self.peak);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_budget_is_three_quarters_of_mem_total() {
        let text = "MemTotal:         524288 kB\nMemFree:  1 kB\nMemAvailable:     400000 kB\n";
        assert_eq!(budget_from_meminfo(text), Some(384 << 20));
        assert_eq!(budget_from_meminfo("MemTotal: 1000 kB\n"), Some(768_000));
        assert_eq!(budget_from_meminfo("garbage"), None);
        let real = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        match budget_from_meminfo(&real) {
            Some(b) => assert_eq!(default_budget_bytes(), b),
            None => assert_eq!(default_budget_bytes(), FALLBACK_BUDGET_BYTES),
        }
    }

    #[test]
    fn vm_rss_is_read_in_bytes() {
        assert_eq!(vm_rss("Name:\trunner\nVmRSS:\t   12345 kB\nVmData: 1 kB\n"), Some(12345 * 1024));
        assert_eq!(vm_rss("Name: x\n"), None);
        assert!(resident_bytes() > 0);
    }

    #[test]
    fn quickjs_heaps_together_stay_within_the_budget() {
        let budget = Arc::new(HeapBudget::new(16 << 20));
        let grow = "const keep = []; for (;;) keep.push('x'.repeat(1e5) + keep.length);";
        let gauges: Vec<Rc<HeapGauge>> = (0..3).map(|_| Rc::new(HeapGauge::default())).collect();
        let mut runtimes = Vec::new();
        for gauge in &gauges {
            let rt = rquickjs::Runtime::new_with_alloc(BudgetAllocator::new(budget.clone(), gauge.clone()))
                .expect("runtime");
            let ctx = rquickjs::Context::full(&rt).expect("context");
            runtimes.push((ctx, rt));
        }
        for (ctx, _) in &runtimes {
            let failed = ctx.with(|ctx| ctx.eval::<(), _>(grow).is_err());
            assert!(failed, "the loop ends with out of memory");
            assert!(budget.committed() <= budget.budget());
        }
        assert!(gauges.iter().all(|g| g.refused()));
        assert_eq!(gauges.iter().map(|g| g.held()).sum::<u64>(), budget.committed());
        assert!(budget.admit(HeapBudget::REQUEST_RESERVE).is_err());
        drop(runtimes);
        assert_eq!(budget.committed(), 0);
        assert!(budget.admit(HeapBudget::REQUEST_RESERVE).is_ok());
    }

    #[test]
    fn refusal_names_the_budget() {
        let e = HeapBudget::new(64 << 20).admit(65 << 20).expect_err("over");
        assert_eq!(
            e.to_string(),
            "the runner's memory budget of 64 MiB (--memory-budget-mib) is used up: 0 MiB of worker heaps are live"
        );
    }
}
