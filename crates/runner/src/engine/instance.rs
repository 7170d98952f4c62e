//! One worker's QuickJS runtime on one thread, and the host state its native
//! functions share with the thread's event loop.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rquickjs::{Context, Ctx, Function, Module, Object, Persistent, Runtime, TypedArray, Value};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::http_client::{HttpClient, OutboundResponse};
use crate::limits::Limits;
use crate::memory::{BudgetAllocator, BudgetExhausted, HeapBudget, HeapGauge};
use crate::registry::{Worker, WorkerKind};

use super::bindings::Bindings;
use super::error::{describe, value_to_string, ScriptError, StartError};
use super::events::EventKind;

/// What an instance keeps of its set-up: the prelude's dispatcher, the
/// worker's module namespace, and the module's evaluation promise.
type Setup =
    (Persistent<Function<'static>>, Persistent<Object<'static>>, Option<Persistent<rquickjs::Promise<'static>>>);

/// Why a request produced no response of the worker's own.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum RequestError {
    #[error("worker exceeded its CPU time limit of {0:?}")]
    CpuLimit(Duration),
    #[error(
        "worker stopped: work outside any request (timers armed by start-up code) used its CPU allowance of {0:?} \
         (it refills at 1/{share} of a core)",
        share = CpuLedger::BACKGROUND_SHARE
    )]
    BackgroundCpuLimit(Duration),
    #[error("worker exceeded its memory limit of {0} bytes")]
    MemoryLimit(usize),
    /// The runner-wide budget over all heaps refused the request, or an
    /// allocation of it.
    #[error("{0}")]
    MemoryBudget(BudgetExhausted),
    #[error("worker response body exceeds the limit of {0} bytes")]
    ResponseTooLarge(usize),
    #[error("worker threw an exception: {0}")]
    Threw(String),
    #[error("worker has no {0} handler")]
    NoHandler(&'static str),
    #[error("worker instance was reset while handling this request")]
    Reset,
    #[error("worker did not respond within {0:?}")]
    Timeout(Duration),
    /// A turn of a worker already moved to the slow lane ran past the slice
    /// on a shared thread (it belongs to a request that began there before
    /// the move): stopped, so one worker holds at most one shared thread.
    #[error(
        "worker moved to the slow lane (its turns run past {0:?} of CPU); this work had begun on a shared thread \
         and was stopped there"
    )]
    SlowLane(Duration),
    /// A request's first turn ran past the slice on a shared thread before
    /// it did anything visible outside its instance (no response, no
    /// outbound fetch, no enclave service call): stopped there, to be run
    /// again from the start on the slow lane. Never reaches a client.
    #[error("moved to the slow lane before doing anything visible; runs again there")]
    Replay,
    #[error("worker {0:?} is at its limit of {1} concurrent requests")]
    Busy(String, u32),
}

pub type ChunkReceiver = mpsc::UnboundedReceiver<Result<Bytes, String>>;

/// Bytes a streamed response has queued but the client has not taken yet.
/// The worker waits (see `host.drain`) while this is above the high mark, so
/// a fast producer and a slow client cannot pile memory up in the runner.
#[derive(Debug, Default)]
pub struct StreamGauge {
    queued: std::sync::atomic::AtomicUsize,
    taken: Notify,
}

impl StreamGauge {
    pub const HIGH: usize = 1 << 20;

    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    pub(crate) fn put(&self, n: usize) -> usize {
        self.queued.fetch_add(n, Ordering::Relaxed) + n
    }

    pub fn taken(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::Relaxed);
        self.taken.notify_one();
    }

    pub(crate) async fn wait_taken(&self) {
        self.taken.notified().await
    }
}

/// A body the worker produced: whole, or streamed chunk by chunk, with its
/// length when the stream's source knew it (bytes, a Blob, a fetched body
/// with a Content-Length, `FixedLengthStream`).
#[derive(Debug)]
pub enum WorkerBody {
    Full(Bytes),
    Stream(ChunkReceiver, Arc<StreamGauge>, Option<u64>),
}

#[derive(Debug)]
pub struct WorkerResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: WorkerBody,
}

pub type ResponseSender = oneshot::Sender<Result<WorkerResponse, RequestError>>;
pub type ScheduledSender = oneshot::Sender<Result<(), RequestError>>;

/// Where the outcome of a request goes once JavaScript settles it.
pub(crate) enum Pending {
    Http(ResponseSender),
    Streaming { tx: mpsc::UnboundedSender<Result<Bytes, String>>, sent: usize, gauge: Arc<StreamGauge> },
    Scheduled(ScheduledSender),
}

/// Work for JavaScript, queued by timers and outbound fetches.
pub(crate) enum Event {
    Timer {
        tag: u64,
        id: f64,
    },
    FetchDone {
        tag: u64,
        id: f64,
        result: Result<OutboundResponse, String>,
        url: String,
    },
    /// The next chunk of a fetch response body (None at its end).
    FetchChunk {
        tag: u64,
        id: f64,
        result: Result<Option<Bytes>, String>,
    },
    /// A streamed response's queue went below the high mark (or its client
    /// left).
    Drained {
        tag: u64,
        id: f64,
    },
}

/// State shared between an instance, its native functions and its tasks.
pub struct Host {
    pub worker: Arc<Worker>,
    pub limits: Arc<Limits>,
    pub heap: Arc<HeapBudget>,
    /// This instance's heap size, and whether the budget refused it memory.
    pub(crate) gauge: Rc<HeapGauge>,
    pub http: Arc<dyn HttpClient>,
    pub thread: usize,
    pub(crate) pending: RefCell<HashMap<u64, Pending>>,
    pub(crate) timers: RefCell<HashMap<u64, tokio::task::AbortHandle>>,
    pub(crate) fetches: Cell<usize>,
    /// Bodies of fetch responses not yet read to the end, with bytes read.
    pub(crate) bodies: RefCell<HashMap<u64, (crate::http_client::ResponseBody, usize)>>,
    /// Bodies cancelled while a read of them was in flight.
    pub(crate) cancelled_bodies: RefCell<std::collections::HashSet<u64>>,
    pub(crate) queue: RefCell<VecDeque<Event>>,
    pub(crate) wake: Notify,
    /// Request whose JavaScript is running now; ops it starts inherit it.
    pub(crate) tag: Cell<u64>,
    cpu: RefCell<CpuLedger>,
    budget: Cell<Option<CpuBudget>>,
    interrupted: Cell<bool>,
    /// `--slow-lane-after` on a shared (fast) thread; `None` on the slow
    /// lane, or when it is off.
    slice: Option<Duration>,
    /// Why the slow lane stopped the current turn, if it did.
    moved: Cell<Option<Moved>>,
    /// The current turn is a request's first (its dispatch), so it may be
    /// run again elsewhere if it has done nothing visible yet.
    first_turn: Cell<bool>,
    /// Start-up code is running: past the slice it moves the worker but is
    /// never stopped for it.
    starting: Cell<bool>,
    /// Set when the instance must be replaced (CPU or memory limit hit).
    pub(crate) poisoned: RefCell<Option<RequestError>>,
    pub(crate) closed: Cell<bool>,
    pub(crate) started: Instant,
    /// Promises rejected with no handler since the last microtask
    /// checkpoint (identity, reason text): reported at the checkpoint
    /// unless a handler was attached by then, as the HTML standard does.
    rejections: RefCell<Vec<(u64, String)>>,
    /// Unhandled rejections beyond [`MAX_PENDING_REJECTIONS`] since the
    /// last checkpoint, reported as a count.
    rejections_dropped: Cell<usize>,
}

/// Why the slow lane stopped a turn on a shared thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Moved {
    /// To run the request again from its start on the slow lane.
    Replay,
    /// For good: the request fails (503), background work ends.
    Stop,
}

thread_local! {
    /// Set when the running turn did something visible outside its
    /// instance (an outbound fetch, an enclave service call), after which
    /// its request cannot be run again elsewhere.
    static TURN_EFFECTS: Cell<bool> = const { Cell::new(false) };
}

/// Records that the running turn did something visible outside its instance.
pub(crate) fn note_effect() {
    TURN_EFFECTS.with(|e| e.set(true));
}

/// Unhandled rejections kept (with their text) between two checkpoints.
const MAX_PENDING_REJECTIONS: usize = 100;

/// A JS value's identity: its tag and bits (for an object, its address).
fn identity(v: &Value<'_>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

impl Host {
    /// The microtask checkpoint: rejections still unhandled now are the
    /// worker's last error and in its log.
    fn report_rejections(&self) {
        let pending = std::mem::take(&mut *self.rejections.borrow_mut());
        for (_, text) in pending {
            self.worker.set_error(format!("Uncaught (in promise) {text}"));
        }
        let dropped = self.rejections_dropped.replace(0);
        if dropped > 0 {
            self.worker.set_error(format!("and {dropped} more unhandled promise rejections"));
        }
    }

    pub(crate) fn push(&self, event: Event) {
        self.queue.borrow_mut().push_back(event);
        self.wake.notify_one();
    }

    /// Settles request `id` with an error, if it is still waiting.
    pub(crate) fn fail(&self, id: u64, error: RequestError) {
        let pending = self.pending.borrow_mut().remove(&id);
        match pending {
            Some(Pending::Http(tx)) => {
                let _ = tx.send(Err(error));
            }
            Some(Pending::Scheduled(tx)) => {
                let _ = tx.send(Err(error));
            }
            Some(Pending::Streaming { tx, .. }) => {
                let _ = tx.send(Err(error.to_string()));
            }
            None => {}
        }
    }

    /// Request `id` got its answer. Its CPU account stays open: work it
    /// left behind (`waitUntil`, timers, fetches) keeps drawing on it.
    pub(crate) fn finished(&self, _id: u64) {}

    /// For native functions about to do heavy work: true once the running
    /// turn has used its CPU budget, which then counts as interrupted, as if
    /// the interrupt handler had fired. QuickJS polls that handler only every
    /// few thousand operations, which a loop of costly native calls could
    /// stretch far past the limit.
    pub(crate) fn cpu_exhausted(&self) -> bool {
        let Some(mut b) = self.budget.get() else {
            return false;
        };
        let exhausted = b.exhausted(Instant::now());
        self.budget.set(Some(b));
        if exhausted {
            self.interrupted.set(true);
        }
        exhausted
    }

    fn budget_exhausted(&self) -> BudgetExhausted {
        BudgetExhausted { budget: self.heap.budget(), committed: self.heap.committed() }
    }

    /// What a turn past the slice on a shared thread comes to, once its
    /// worker is on the slow lane (`moved_now`: this turn moved it). `None`
    /// lets it run on, to its CPU limit at most: start-up code, which a
    /// deploy runs on every thread at once, and the turn that moved its
    /// worker after it did something visible, which cannot be undone.
    fn stop_past_slice(&self, moved_now: bool) -> Option<Moved> {
        if self.starting.get() {
            return None;
        }
        let tag = self.tag.get();
        let untouched = self.first_turn.get()
            && !TURN_EFFECTS.with(Cell::get)
            && self.pending.try_borrow().is_ok_and(|p| matches!(p.get(&tag), Some(Pending::Http(_))));
        if untouched {
            Some(Moved::Replay)
        } else if tag == 0 || !moved_now {
            // Background work has no request to lose; a later turn holds a
            // shared thread the worker no longer belongs on.
            Some(Moved::Stop)
        } else {
            None
        }
    }

    pub(crate) fn poison(&self, error: RequestError) {
        let mut p = self.poisoned.borrow_mut();
        if p.is_none() {
            if error != RequestError::Replay {
                self.worker.set_error(format!("instance reset: {error}"));
            }
            *p = Some(error);
        }
    }

    /// What a script error means for its request; out-of-memory also
    /// poisons the instance, whose heap may now be full of live garbage.
    pub(crate) fn classify(&self, error: ScriptError) -> RequestError {
        match error.settle_nothing(self.heap_nearly_full()) {
            ScriptError::OutOfMemory(_) => {
                let e = if self.gauge.refused() {
                    RequestError::MemoryBudget(self.budget_exhausted())
                } else {
                    RequestError::MemoryLimit(self.limits.memory_bytes)
                };
                self.poison(e.clone());
                e
            }
            ScriptError::Interrupted(_) if self.interrupted.get() => RequestError::CpuLimit(self.limits.cpu_time),
            ScriptError::Interrupted(text) | ScriptError::Threw(text) | ScriptError::Nothing(text) => {
                RequestError::Threw(text)
            }
        }
    }

    /// Whether the heap is within a small margin of its limit (or the budget
    /// refused it), so that a failed allocation is the likely cause of what
    /// just went wrong. The margin (1/64 of the limit, at least 64 KiB) is
    /// far more than QuickJS's out-of-memory error needs.
    pub(crate) fn heap_nearly_full(&self) -> bool {
        let limit = self.limits.memory_bytes as u64;
        let margin = (limit / 64).max(64 << 10);
        self.gauge.refused() || self.gauge.held().saturating_add(margin) >= limit
    }
}

/// CPU time used per request, including the background work the request
/// started, and by work that belongs to no request (tag 0: timers armed by
/// start-up code). Requests are bounded: the oldest accounts are forgotten
/// first.
///
/// Tag 0 has no request to end, so it draws on a credit instead: at most one
/// request's CPU limit, refilled at 1/[`Self::BACKGROUND_SHARE`] of a core. A
/// worker whose module scope runs `setInterval(spin, 0)` spends the credit
/// once and is stopped; a periodic job of a few milliseconds never notices.
struct CpuLedger {
    used: HashMap<u64, Duration>,
    order: VecDeque<u64>,
    /// Tag 0's credit and when it was last brought up to date.
    background: Duration,
    background_at: Instant,
    /// The cap of the credit (the per-request CPU limit).
    limit: Duration,
}

impl CpuLedger {
    const MAX_ACCOUNTS: usize = 4096;
    /// Background work may average at most 1/BACKGROUND_SHARE of a core.
    pub(crate) const BACKGROUND_SHARE: u32 = 100;

    fn new(limit: Duration) -> CpuLedger {
        CpuLedger {
            used: HashMap::new(),
            order: VecDeque::new(),
            background: limit,
            background_at: Instant::now(),
            limit,
        }
    }

    /// What a turn of `tag` may still spend.
    fn remaining(&mut self, tag: u64) -> Duration {
        if tag == 0 {
            self.refill(Instant::now());
            return self.background;
        }
        self.limit.saturating_sub(self.used(tag))
    }

    fn refill(&mut self, now: Instant) {
        let earned = now.saturating_duration_since(self.background_at) / Self::BACKGROUND_SHARE;
        self.background = (self.background + earned).min(self.limit);
        self.background_at = now;
    }

    fn used(&self, tag: u64) -> Duration {
        self.used.get(&tag).copied().unwrap_or_default()
    }

    fn charge(&mut self, tag: u64, spent: Duration) {
        if tag == 0 {
            self.refill(Instant::now());
            self.background = self.background.saturating_sub(spent);
            return;
        }
        match self.used.get_mut(&tag) {
            Some(u) => *u += spent,
            None => {
                if self.order.len() >= Self::MAX_ACCOUNTS {
                    if let Some(old) = self.order.pop_front() {
                        self.used.remove(&old);
                    }
                }
                self.used.insert(tag, spent);
                self.order.push_back(tag);
            }
        }
    }
}

/// CPU time consumed by the calling thread.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into valid memory.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The CPU time a turn of JavaScript may still use. Checked from the
/// interrupt handler: the wall clock (cheap) first, the thread's CPU clock
/// (a system call) only once wall time says the budget could be spent.
#[derive(Clone, Copy, Debug)]
struct CpuBudget {
    cpu_start: Duration,
    budget: Duration,
    next_check: Instant,
    /// The slow lane's slice, until this turn has been checked against it.
    slice: Option<Slice>,
}

/// When a turn on a shared thread is next checked against the slice.
#[derive(Clone, Copy, Debug)]
struct Slice {
    length: Duration,
    next_check: Instant,
}

impl CpuBudget {
    fn start(budget: Duration, slice: Option<Duration>) -> CpuBudget {
        let now = Instant::now();
        CpuBudget {
            cpu_start: thread_cpu_time(),
            budget,
            next_check: now + budget,
            slice: slice.map(|length| Slice { length, next_check: now + length }),
        }
    }

    /// The CPU time used so far, once it passes the slice (then never again
    /// for this turn). Wall time first, as in [`Self::exhausted`].
    fn past_slice(&mut self, now: Instant) -> Option<Duration> {
        let slice = self.slice.as_mut()?;
        if now < slice.next_check {
            return None;
        }
        let used = thread_cpu_time().saturating_sub(self.cpu_start);
        if used >= slice.length {
            self.slice = None;
            return Some(used);
        }
        slice.next_check = now + (slice.length - used);
        None
    }

    fn exhausted(&mut self, now: Instant) -> bool {
        if now < self.next_check {
            return false;
        }
        let used = thread_cpu_time().saturating_sub(self.cpu_start);
        if used >= self.budget {
            return true;
        }
        // CPU time never runs faster than wall time.
        self.next_check = now + (self.budget - used);
        false
    }
}

/// A worker's runtime on this thread.
pub struct Instance {
    // Field order is drop order: JS handles must go before their runtime.
    dispatch: Persistent<Function<'static>>,
    ctx: Context,
    // Owns the heap; never read, dropped after the context.
    _rt: Runtime,
    pub host: Rc<Host>,
}

impl Drop for Instance {
    /// Ends the instance's event task and fails what still waits on it; the
    /// runtime (and with it the heap, see `BudgetAllocator`) goes next.
    fn drop(&mut self) {
        self.close();
    }
}

/// What the JavaScript side reports after start-up.
#[derive(Debug, Clone, Copy)]
pub struct Handlers {
    pub fetch: bool,
    pub scheduled: bool,
}

impl Instance {
    /// Creates the runtime, installs the web platform APIs and evaluates the
    /// worker's code under the worker's limits.
    pub fn new(
        worker: Arc<Worker>,
        limits: Arc<Limits>,
        heap: Arc<HeapBudget>,
        http: Arc<dyn HttpClient>,
        bindings: &Bindings,
        thread: usize,
        slice: Option<Duration>,
    ) -> Result<(Rc<Instance>, Handlers), StartError> {
        heap.admit(HeapBudget::INSTANCE_RESERVE).map_err(StartError::MemoryBudget)?;
        let gauge = Rc::new(HeapGauge::default());
        let rt = Runtime::new_with_alloc(BudgetAllocator::new(heap.clone(), gauge.clone()))
            .map_err(|e| StartError::Runtime(e.to_string()))?;
        rt.set_memory_limit(limits.memory_bytes);
        rt.set_max_stack_size(limits.stack_bytes);
        let ctx = Context::full(&rt).map_err(|e| StartError::Context(e.to_string()))?;
        let host = Rc::new(Host {
            worker: worker.clone(),
            limits: limits.clone(),
            heap,
            gauge,
            http,
            thread,
            pending: RefCell::new(HashMap::new()),
            timers: RefCell::new(HashMap::new()),
            fetches: Cell::new(0),
            bodies: RefCell::new(HashMap::new()),
            cancelled_bodies: RefCell::new(std::collections::HashSet::new()),
            queue: RefCell::new(VecDeque::new()),
            wake: Notify::new(),
            tag: Cell::new(0),
            cpu: RefCell::new(CpuLedger::new(limits.cpu_time)),
            budget: Cell::new(None),
            interrupted: Cell::new(false),
            slice,
            moved: Cell::new(None),
            first_turn: Cell::new(false),
            starting: Cell::new(false),
            poisoned: RefCell::new(None),
            closed: Cell::new(false),
            started: Instant::now(),
            rejections: RefCell::new(Vec::new()),
            rejections_dropped: Cell::new(0),
        });
        {
            let host = host.clone();
            rt.set_interrupt_handler(Some(Box::new(move || {
                let Some(mut b) = host.budget.get() else {
                    return false;
                };
                let now = Instant::now();
                if b.exhausted(now) {
                    host.interrupted.set(true);
                    return true;
                }
                if let Some(used) = b.past_slice(now) {
                    let moved_now = host.worker.move_to_slow_lane(used);
                    if let Some(why) = host.stop_past_slice(moved_now) {
                        host.moved.set(Some(why));
                        host.interrupted.set(true);
                        return true;
                    }
                }
                host.budget.set(Some(b));
                false
            })));
        }
        {
            let host = host.clone();
            rt.set_host_promise_rejection_tracker(Some(Box::new(move |_ctx, promise, reason, handled| {
                let key = identity(&promise);
                if handled {
                    host.rejections.borrow_mut().retain(|(k, _)| *k != key);
                    return;
                }
                // Before borrowing: the reason's text may run the worker's code.
                let text = value_to_string(&reason);
                let mut pending = host.rejections.borrow_mut();
                if pending.len() < MAX_PENDING_REJECTIONS {
                    pending.push((key, text));
                } else {
                    host.rejections_dropped.set(host.rejections_dropped.get() + 1);
                }
            })));
        }

        let kind = worker.spec.kind;
        let setup = ctx.with(|ctx| -> Result<Setup, StartError> {
            let host_obj = super::host::install(&ctx, &host).map_err(|e| describe(&ctx, e))?;
            ctx.globals().set("__host", host_obj).map_err(|e| describe(&ctx, e))?;
            let dispatch = super::prelude::load(&ctx).map_err(StartError::Prelude)?;
            super::subtle::install(&ctx, &host).map_err(StartError::Subtle)?;
            // The worker's own start-up code runs under the CPU limit; past
            // the slice it moves the worker, but always runs on (a deploy
            // starts every shared thread's instance at once).
            host.budget.set(Some(CpuBudget::start(limits.cpu_time, host.slice)));
            host.starting.set(true);
            let (module_ns, promise) = match kind {
                WorkerKind::Module => {
                    let declared = Module::declare(ctx.clone(), worker.name.as_str(), worker.spec.code.as_str())
                        .map_err(|e| describe(&ctx, e))?;
                    let (module, promise) = declared.eval().map_err(|e| describe(&ctx, e))?;
                    let ns = module.namespace().map_err(|e| describe(&ctx, e))?;
                    (ns, Some(Persistent::save(&ctx, promise)))
                }
                WorkerKind::ServiceWorker => {
                    ctx.eval::<(), _>(worker.spec.code.as_str()).map_err(|e| describe(&ctx, e))?;
                    (Object::new(ctx.clone()).map_err(|e| describe(&ctx, e))?, None)
                }
                // Started by `crate::wasi`, never as a JavaScript instance.
                WorkerKind::Wasi => {
                    return Err(StartError::WasmEngine("a wasi worker has no JavaScript instance".into()))
                }
            };
            Ok((Persistent::save(&ctx, dispatch), Persistent::save(&ctx, module_ns), promise))
        });
        let (dispatch, namespace, promise) = match setup {
            Ok(s) => s,
            Err(e) => return Err(Self::init_error(&host, e)),
        };
        let handlers = ctx.with(|ctx| -> Result<Handlers, StartError> {
            while ctx.execute_pending_job() {}
            host.report_rejections();
            if let Some(promise) = promise {
                let promise = promise.restore(&ctx).map_err(|e| describe(&ctx, e))?;
                match promise.result::<Value>() {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(describe(&ctx, e).into()),
                    None => return Err(StartError::Unsettled),
                }
            }
            let api: Object = ctx.globals().get("__sworn").map_err(|e| describe(&ctx, e))?;
            let make_env: Function = api.get("makeEnv").map_err(|e| describe(&ctx, e))?;
            let env: Object = make_env
                .call((worker.spec.config.as_str(), worker.spec.args.as_str()))
                .map_err(|e| describe(&ctx, e))?;
            for binding in bindings.iter() {
                binding
                    .install(&ctx, &env, &worker)
                    .map_err(|e| StartError::Binding(binding.name().to_string(), describe(&ctx, e)))?;
            }
            let start: Function = api.get("start").map_err(|e| describe(&ctx, e))?;
            let ns = namespace.restore(&ctx).map_err(|e| describe(&ctx, e))?;
            let found: Vec<bool> = start.call((kind.as_str(), ns, env)).map_err(|e| describe(&ctx, e))?;
            ctx.globals().remove("__sworn").map_err(|e| describe(&ctx, e))?;
            while ctx.execute_pending_job() {}
            host.report_rejections();
            Ok(Handlers {
                fetch: found.first().copied().unwrap_or(false),
                scheduled: found.get(1).copied().unwrap_or(false),
            })
        });
        host.budget.set(None);
        host.starting.set(false);
        let handlers = match handlers {
            Ok(h) => h,
            Err(e) => {
                drop(dispatch);
                return Err(Self::init_error(&host, e));
            }
        };
        let instance = Rc::new(Instance { dispatch, ctx, _rt: rt, host });
        instance.sample_memory();
        Ok((instance, handlers))
    }

    fn init_error(host: &Host, e: StartError) -> StartError {
        let e = match e {
            StartError::Script(s) => StartError::Script(s.settle_nothing(host.heap_nearly_full())),
            e => e,
        };
        match e.with_limits(host.interrupted.get(), host.limits.cpu_time, host.limits.memory_bytes) {
            StartError::MemoryLimit(_) if host.gauge.refused() => StartError::MemoryBudget(host.budget_exhausted()),
            e => e,
        }
    }

    /// Refuses request `id` when the budget has no room for it to start.
    fn admit(&self, id: u64) -> bool {
        match self.host.heap.admit(HeapBudget::REQUEST_RESERVE) {
            Ok(()) => true,
            Err(e) => {
                self.host.fail(id, RequestError::MemoryBudget(e));
                false
            }
        }
    }

    /// Starts a fetch event for request `id`; the answer goes to `tx`.
    pub fn fetch(
        &self,
        id: u64,
        method: &str,
        url: &str,
        headers: Vec<String>,
        body: Option<Bytes>,
        tx: ResponseSender,
    ) {
        self.host.pending.borrow_mut().insert(id, Pending::Http(tx));
        if !self.admit(id) {
            return;
        }
        self.turn_as(id, true, |ctx, dispatch| {
            let body = match body {
                Some(b) => Some(TypedArray::<u8>::new_copy(ctx.clone(), &b[..])?),
                None => None,
            };
            dispatch.call::<_, ()>((EventKind::Fetch, id as f64, method, url, headers, body))
        });
    }

    /// Starts a scheduled event for run `id`.
    pub fn scheduled(&self, id: u64, cron: &str, time_ms: f64, tx: ScheduledSender) {
        self.host.pending.borrow_mut().insert(id, Pending::Scheduled(tx));
        if !self.admit(id) {
            return;
        }
        self.turn(id, |_ctx, dispatch| dispatch.call::<_, ()>((EventKind::Scheduled, id as f64, cron, time_ms)));
    }

    /// Delivers a queued event.
    pub(crate) fn deliver(&self, event: Event) {
        match event {
            Event::Timer { tag, id } => {
                self.host.timers.borrow_mut().remove(&(id as u64));
                self.turn(tag, |_ctx, dispatch| dispatch.call::<_, ()>((EventKind::Timer, id)))
            }
            Event::FetchDone { tag, id, result, url } => {
                let head = result.map(|resp| {
                    self.host.bodies.borrow_mut().insert(id as u64, (resp.body, 0));
                    let headers: Vec<String> = resp.headers.into_iter().flat_map(|(k, v)| [k, v]).collect();
                    (resp.status as i32, resp.status_text, headers)
                });
                self.turn(tag, |_ctx, dispatch| match head {
                    Ok((status, status_text, headers)) => {
                        dispatch.call::<_, ()>((EventKind::FetchDone, id, status, status_text, headers, url))
                    }
                    Err(message) => dispatch.call::<_, ()>((EventKind::FetchFailed, id, message)),
                })
            }
            Event::FetchChunk { tag, id, result } => self.turn(tag, |ctx, dispatch| match result {
                Ok(Some(bytes)) => {
                    let chunk = TypedArray::<u8>::new_copy(ctx.clone(), &bytes[..])?;
                    dispatch.call::<_, ()>((EventKind::FetchChunk, id, chunk))
                }
                Ok(None) => dispatch.call::<_, ()>((EventKind::FetchChunk, id, rquickjs::Null)),
                Err(message) => dispatch.call::<_, ()>((EventKind::FetchChunk, id, rquickjs::Null, message)),
            }),
            Event::Drained { tag, id } => {
                self.turn(tag, |_ctx, dispatch| dispatch.call::<_, ()>((EventKind::Drained, id)))
            }
        }
    }

    /// Runs JavaScript on behalf of request `tag` under its remaining CPU
    /// budget, then drains the microtask queue.
    fn turn<F>(&self, tag: u64, f: F)
    where
        F: for<'js> FnOnce(&Ctx<'js>, &Function<'js>) -> rquickjs::Result<()>,
    {
        self.turn_as(tag, false, f)
    }

    /// [`Self::turn`], saying whether it is the request's first (which the
    /// slow lane may run again elsewhere).
    fn turn_as<F>(&self, tag: u64, first: bool, f: F)
    where
        F: for<'js> FnOnce(&Ctx<'js>, &Function<'js>) -> rquickjs::Result<()>,
    {
        if self.host.poisoned.borrow().is_some() {
            self.host.fail(tag, RequestError::Reset);
            return;
        }
        let budget = self.host.cpu.borrow_mut().remaining(tag);
        let cpu_start = thread_cpu_time();
        self.host.budget.set(Some(CpuBudget::start(budget, self.host.slice)));
        self.host.interrupted.set(false);
        self.host.moved.set(None);
        self.host.first_turn.set(first);
        TURN_EFFECTS.with(|e| e.set(false));
        self.host.gauge.clear_refused();
        self.host.tag.set(tag);
        let outcome = self.ctx.with(|ctx| {
            let result = self
                .dispatch
                .clone()
                .restore(&ctx)
                .and_then(|dispatch| f(&ctx, &dispatch))
                .map_err(|e| describe(&ctx, e));
            while !self.host.interrupted.get() && ctx.execute_pending_job() {}
            self.host.report_rejections();
            result
        });
        self.host.budget.set(None);
        self.host.tag.set(0);
        self.host.first_turn.set(false);
        let spent = thread_cpu_time().saturating_sub(cpu_start);
        self.host.cpu.borrow_mut().charge(tag, spent);
        if self.host.interrupted.get() {
            // The uncatchable interrupt may have cut any request's microtasks:
            // this runtime is no longer trustworthy.
            let e = if self.host.moved.get() == Some(Moved::Replay) {
                RequestError::Replay
            } else if self.host.moved.get().is_some() {
                RequestError::SlowLane(self.host.slice.unwrap_or_default())
            } else if tag == 0 {
                RequestError::BackgroundCpuLimit(self.host.limits.cpu_time)
            } else {
                RequestError::CpuLimit(self.host.limits.cpu_time)
            };
            self.host.fail(tag, e.clone());
            self.host.poison(e);
            if tag == 0 {
                // Nobody waits on background work: stop its timers now rather
                // than at the next request, so the spinning ends here.
                self.close();
            }
        } else if let Err(message) = outcome {
            let e = self.host.classify(message);
            self.host.fail(tag, e);
        }
        self.sample_memory();
    }

    /// Publishes the heap size for `/stats`: the bytes the instance's
    /// allocator holds (kept as it goes, so reading it costs nothing).
    fn sample_memory(&self) {
        if let Some(slot) = self.host.worker.memory.get(self.host.thread) {
            slot.store(self.host.gauge.held(), Ordering::Relaxed);
        }
    }

    /// Stops timers and fails whatever is still waiting on this instance.
    pub fn close(&self) {
        self.host.closed.set(true);
        self.host.wake.notify_one();
        for (_, t) in self.host.timers.borrow_mut().drain() {
            t.abort();
        }
        self.host.bodies.borrow_mut().clear();
        let ids: Vec<u64> = self.host.pending.borrow().keys().copied().collect();
        for id in ids {
            self.host.fail(id, RequestError::Reset);
        }
        if let Some(slot) = self.host.worker.memory.get(self.host.thread) {
            slot.store(0, Ordering::Relaxed);
        }
    }

    /// Whether nothing runs on this instance: no request waits on it, and
    /// no timer, outbound fetch or fetched body is open.
    pub fn is_idle(&self) -> bool {
        self.host.pending.borrow().is_empty()
            && self.host.timers.borrow().is_empty()
            && self.host.fetches.get() == 0
            && self.host.bodies.borrow().is_empty()
    }

    pub fn is_poisoned(&self) -> bool {
        self.host.poisoned.borrow().is_some()
    }

    /// Delivers queued events until the instance is closed or dropped. The
    /// task holds the instance only while it delivers, so dropping the
    /// thread's handle frees the heap at once.
    pub async fn run_events(instance: Weak<Self>, host: Rc<Host>) {
        loop {
            if host.closed.get() {
                return;
            }
            let next = host.queue.borrow_mut().pop_front();
            match next {
                Some(event) => {
                    let Some(instance) = instance.upgrade() else {
                        return;
                    };
                    instance.deliver(event);
                    drop(instance);
                    tokio::task::yield_now().await;
                }
                None => host.wake.notified().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{thread_cpu_time, CpuBudget};
    use std::time::{Duration, Instant};

    /// Burns `d` of this thread's CPU time.
    fn burn(d: Duration) {
        let start = thread_cpu_time();
        while thread_cpu_time().saturating_sub(start) < d {
            std::hint::black_box(0u64.wrapping_add(1));
        }
    }

    #[test]
    fn a_turn_is_past_its_slice_once_it_has_used_that_much_cpu_and_is_told_once() {
        let slice = Duration::from_millis(5);
        let mut b = CpuBudget::start(Duration::from_secs(10), Some(slice));
        assert_eq!(b.past_slice(Instant::now()), None, "nothing used yet");
        burn(slice);
        let used = b.past_slice(Instant::now()).expect("past the slice");
        assert!(used >= slice, "{used:?}");
        burn(slice);
        assert_eq!(b.past_slice(Instant::now()), None, "told once per turn");
        assert!(!b.exhausted(Instant::now()), "the CPU limit is a separate budget");
    }

    #[test]
    fn a_turn_without_a_slice_is_never_past_it() {
        let mut b = CpuBudget::start(Duration::from_secs(10), None);
        burn(Duration::from_millis(2));
        assert_eq!(b.past_slice(Instant::now()), None);
    }
}
