//! The one wasmtime engine of the process and its epoch clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use wasmtime::{Config, Engine, OptLevel};

/// How often running instances are interrupted to check their limits. A
/// loop that never calls the host ends at most this long past its limit.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Most wasm stack a run may use; deeper recursion is a trap
/// ("call stack exhausted"). The blocking threads runs use have 2 MiB of
/// native stack, which leaves room for the host functions beneath it.
pub const MAX_WASM_STACK: usize = 512 << 10;

/// The engine with its compiler settings, and the thread that advances its
/// epoch while anything runs.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) clock: Arc<EpochClock>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the WebAssembly engine could not be set up: {0}")]
pub struct EngineError(String);

impl Runtime {
    pub fn new() -> Result<Runtime, EngineError> {
        let mut config = Config::new();
        config.cranelift_opt_level(OptLevel::Speed).epoch_interruption(true).max_wasm_stack(MAX_WASM_STACK);
        // Threads (shared memories) are not compiled in (no `threads`
        // feature): a shared memory would outlive its run.
        let engine = Engine::new(&config).map_err(|e| EngineError(format!("{e:#}")))?;
        Ok(Runtime { engine, clock: Arc::new(EpochClock::default()) })
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] while at least one run
/// is active, and sleeps (parked) otherwise. Started with the first run.
#[derive(Default)]
pub(crate) struct EpochClock {
    active: AtomicUsize,
    thread: OnceLock<Option<Thread>>,
}

/// Held by a run for as long as it executes wasm.
pub(crate) struct Ticking<'a>(&'a EpochClock);

impl Drop for Ticking<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

impl EpochClock {
    /// Marks a run as active; `None` when the clock thread could not be
    /// started (the run must not start: nothing would stop it).
    pub(crate) fn start(self: &Arc<Self>, engine: &Engine) -> Option<Ticking<'_>> {
        let thread = self.thread.get_or_init(|| {
            let clock = Arc::downgrade(self);
            let engine = engine.clone();
            std::thread::Builder::new()
                .name("wasm-epoch".into())
                .spawn(move || loop {
                    let Some(c) = clock.upgrade() else { return };
                    if c.active.load(Ordering::Acquire) == 0 {
                        drop(c);
                        std::thread::park_timeout(Duration::from_secs(1));
                    } else {
                        drop(c);
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .ok()
                .map(|h| h.thread().clone())
        });
        let thread = thread.as_ref()?;
        self.active.fetch_add(1, Ordering::AcqRel);
        thread.unpark();
        Some(Ticking(self))
    }
}
