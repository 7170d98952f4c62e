//! Thread-per-core pool. Each shared thread runs a single-threaded tokio
//! runtime that serves its share of HTTP connections and owns one instance
//! of every worker, so a request normally never leaves the thread that
//! accepted it.
//!
//! The exception is the slow lane: one more thread, at a lower scheduling
//! priority, that serves no connections. A worker one of whose turns of
//! JavaScript runs past `--slow-lane-after` on a shared thread moves there
//! for good; its requests are then read on their connection's thread, run
//! on the slow lane, and answered back. A worker that spins therefore holds
//! a shared thread (and the connections it owns) once, for one turn, and
//! after that only the slow lane, which the kernel runs when the shared
//! threads leave it room.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, watch};

use super::bindings::Bindings;
use super::error::StartError;
use super::instance::{Handlers, Host, Instance, RequestError, WorkerResponse};
use crate::http_client::HttpClient;
use crate::limits::Limits;
use crate::memory::HeapBudget;
use crate::registry::{Registry, Worker};

/// A client connection handed to a pool thread.
pub trait Connection: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Connection for T {}

pub(crate) enum Command {
    Serve(Box<dyn Connection>),
    Create {
        worker: Arc<Worker>,
        reply: oneshot::Sender<Result<Handlers, StartError>>,
    },
    Remove {
        id: String,
    },
    Scheduled {
        worker: Arc<Worker>,
        cron: String,
        reply: oneshot::Sender<Result<(), RequestError>>,
    },
    /// A request a shared thread read for a worker on the slow lane.
    Fetch {
        request: WorkerRequest,
        reply: oneshot::Sender<Result<Dispatched, DispatchError>>,
    },
}

/// A request for a worker, as its connection's thread read it: only plain
/// data, so it can cross to the slow lane.
pub struct WorkerRequest {
    pub worker: Arc<Worker>,
    pub method: String,
    pub url: String,
    /// Names and values, alternating.
    pub headers: Vec<String>,
    pub body: Option<bytes::Bytes>,
}

/// The slow lane's answer on its way back to the connection's thread.
pub(crate) struct Dispatched {
    response: WorkerResponse,
    /// For a streamed response: the budget sent here ends the worker's side
    /// of a stream the client will not finish; dropping it says it ended.
    abandon: Option<oneshot::Sender<Duration>>,
}

/// Why a request got no response of the worker's own.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Request(#[from] RequestError),
}

/// A worker's response, and how to end its streamed body early.
pub struct Answer {
    pub response: WorkerResponse,
    pub abandon: Abandon,
}

/// Ends the worker's side of a streamed response the client will not finish.
pub enum Abandon {
    /// The request ran on this thread.
    Here { host: Rc<Host>, id: u64 },
    /// It runs on the slow lane.
    SlowLane(Option<oneshot::Sender<Duration>>),
}

impl Abandon {
    /// The stream's `budget` ran out, or its client left.
    pub fn call(self, budget: Duration) {
        match self {
            Abandon::Here { host, id } => host.fail(id, RequestError::Timeout(budget)),
            Abandon::SlowLane(Some(tx)) => {
                let _ = tx.send(budget);
            }
            Abandon::SlowLane(None) => {}
        }
    }
}

/// How much nicer than the shared threads the slow lane runs: at nice 10 the
/// kernel gives it about a tenth of a core that the shared threads want, and
/// all of one they leave idle.
const SLOW_LANE_NICE: libc::c_int = 10;

pub struct PoolConfig {
    pub threads: usize,
    pub limits: Limits,
    pub http: Arc<dyn HttpClient>,
    pub bindings: Bindings,
    /// The NSM behind `GET /attestation`; `None` switches attestation off.
    pub nsm: Option<Arc<sworn_nsm::Nsm>>,
}

/// State shared by all threads.
pub struct Shared {
    pub registry: Registry,
    pub limits: Arc<Limits>,
    /// `--memory-budget-mib` and the bytes all QuickJS heaps hold.
    pub heap: Arc<HeapBudget>,
    pub http: Arc<dyn HttpClient>,
    pub bindings: Bindings,
    pub nsm: Option<Arc<sworn_nsm::Nsm>>,
    /// `--tls`: the listener's attested TLS; `None` serves plain HTTP only.
    pub tls: Option<Arc<crate::tls::TlsServer>>,
    pub started: Instant,
    /// The gas account (`GET /gas-account`), set once at start.
    pub gas: std::sync::OnceLock<Arc<crate::gas::GasAccount>>,
    /// The WebAssembly engine of `wasi` workers, made with the first one.
    pub wasi: crate::wasi::WasiHost,
    senders: Vec<mpsc::UnboundedSender<Command>>,
    /// The slow lane's thread, unless `--slow-lane-after 0`.
    slow: Option<mpsc::UnboundedSender<Command>>,
    next_thread: AtomicUsize,
    /// Requests being handled now, management included.
    pub inflight: AtomicU64,
    pub draining: AtomicBool,
    shutdown: watch::Sender<bool>,
}

/// Handle to the pool; cheap to clone.
#[derive(Clone)]
pub struct Pool {
    pub shared: Arc<Shared>,
}

impl Pool {
    /// Starts the threads; their connections get TLS from `tls` when given.
    pub fn start(config: PoolConfig, tls: Option<Arc<crate::tls::TlsServer>>) -> std::io::Result<Pool> {
        let threads = config.threads.max(1);
        let mut senders = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..threads {
            let (tx, rx) = mpsc::unbounded_channel();
            senders.push(tx);
            receivers.push(rx);
        }
        let (shutdown, _) = watch::channel(false);
        let (slow, slow_rx) = match config.limits.slow_lane_after {
            Some(_) => {
                let (tx, rx) = mpsc::unbounded_channel();
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        let shared = Arc::new(Shared {
            registry: Registry::default(),
            heap: Arc::new(HeapBudget::new(config.limits.memory_budget_bytes)),
            limits: Arc::new(config.limits),
            http: config.http,
            bindings: config.bindings,
            nsm: config.nsm,
            tls,
            started: Instant::now(),
            gas: std::sync::OnceLock::new(),
            wasi: crate::wasi::WasiHost::default(),
            senders,
            slow,
            next_thread: AtomicUsize::new(0),
            inflight: AtomicU64::new(0),
            draining: AtomicBool::new(false),
            shutdown,
        });
        let stack = shared.limits.stack_bytes + (8 << 20);
        for (index, rx) in receivers.into_iter().enumerate() {
            let shared = shared.clone();
            let slice = shared.limits.slow_lane_after;
            std::thread::Builder::new()
                .name(format!("js-{index}"))
                // QuickJS recursion is bounded by --stack-limit; leave ample
                // native stack above it for Rust frames.
                .stack_size(stack)
                .spawn(move || thread_main(index, slice, shared, rx))?;
        }
        if let Some(rx) = slow_rx {
            let shared = shared.clone();
            std::thread::Builder::new().name("js-slow".into()).stack_size(stack).spawn(move || {
                lower_priority();
                thread_main(threads, None, shared, rx)
            })?;
        }
        Ok(Pool { shared })
    }

    /// Shared threads: each serves connections and holds one instance of
    /// every worker.
    pub fn threads(&self) -> usize {
        self.shared.senders.len()
    }

    /// Threads that may hold an instance of a worker: the shared threads and
    /// the slow lane (the last index).
    pub fn instance_slots(&self) -> usize {
        self.threads() + usize::from(self.shared.slow.is_some())
    }

    /// The thread that runs `worker`'s requests read elsewhere and its
    /// scheduled runs: the slow lane once it moved there.
    fn slow_lane_for(&self, worker: &Worker) -> Option<&mpsc::UnboundedSender<Command>> {
        self.shared.slow.as_ref().filter(|_| worker.on_slow_lane())
    }

    /// Runs a request on the slow lane, if `request.worker` is on it;
    /// `Err(request)` gives it back to run here.
    pub async fn on_slow_lane(&self, request: WorkerRequest) -> Result<Result<Answer, DispatchError>, WorkerRequest> {
        let Some(slow) = self.slow_lane_for(&request.worker) else {
            return Err(request);
        };
        let (reply, rx) = oneshot::channel();
        if slow.send(Command::Fetch { request, reply }).is_err() {
            return Ok(Err(StartError::ThreadGone.into()));
        }
        // The slow lane keeps the same timeout from when it starts the
        // request; this thread answers on time even when it is starved.
        let timeout = self.shared.limits.request_timeout;
        Ok(match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Ok(Dispatched { response, abandon }))) => {
                Ok(Answer { response, abandon: Abandon::SlowLane(abandon) })
            }
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(RequestError::Reset.into()),
            Err(_) => Err(RequestError::Timeout(timeout).into()),
        })
    }

    fn pick(&self) -> usize {
        self.shared.next_thread.fetch_add(1, Ordering::Relaxed) % self.shared.senders.len()
    }

    /// Hands a connection to the next thread, round robin.
    pub fn serve(&self, conn: Box<dyn Connection>) {
        let i = self.pick();
        let _ = self.shared.senders[i].send(Command::Serve(conn));
    }

    /// Starts `worker` on every thread; fails if its code does not start.
    pub async fn start_worker(&self, worker: Arc<Worker>) -> Result<Handlers, StartError> {
        let result = if worker.spec.kind == crate::registry::WorkerKind::Wasi {
            crate::wasi::start(&self.shared, &worker).await
        } else {
            self.start_instances(&worker).await
        };
        if let Ok(h) = &result {
            if let Ok(mut slot) = worker.handlers.lock() {
                *slot = (h.fetch, h.scheduled);
            }
        }
        result
    }

    /// Creates `worker`'s JavaScript instance on every thread; on failure
    /// drops those that started.
    async fn start_instances(&self, worker: &Arc<Worker>) -> Result<Handlers, StartError> {
        let mut replies = Vec::new();
        for tx in &self.shared.senders {
            let (reply, rx) = oneshot::channel();
            let _ = tx.send(Command::Create { worker: worker.clone(), reply });
            replies.push(rx);
        }
        let mut handlers = None;
        let mut error = None;
        for rx in replies {
            match rx.await {
                Ok(Ok(h)) => {
                    handlers.get_or_insert(h);
                }
                Ok(Err(e)) => {
                    error.get_or_insert(e);
                }
                Err(_) => {
                    error.get_or_insert(StartError::ThreadGone);
                }
            }
        }
        let result = match (error, handlers) {
            (Some(e), _) => Err(e),
            (None, Some(h)) => Ok(h),
            (None, None) => Err(StartError::NoThreads),
        };
        if result.is_err() {
            self.stop_worker(&worker.id);
        }
        result
    }

    /// Drops `id`'s instances on every thread.
    pub fn stop_worker(&self, id: &str) {
        for tx in self.shared.senders.iter().chain(&self.shared.slow) {
            let _ = tx.send(Command::Remove { id: id.to_string() });
        }
    }

    /// Runs `worker`'s scheduled handler once and records the outcome.
    pub async fn run_scheduled(&self, worker: Arc<Worker>, cron: String) -> Result<(), RequestError> {
        let started = Instant::now();
        worker.stats.active.fetch_add(1, Ordering::Relaxed);
        let outcome = if worker.spec.kind == crate::registry::WorkerKind::Wasi {
            crate::wasi::scheduled(&self.shared, &worker, &cron).await.map_err(RequestError::Threw)
        } else {
            let (reply, rx) = oneshot::channel();
            let thread = self.slow_lane_for(&worker).unwrap_or(&self.shared.senders[self.pick()]);
            let _ = thread.send(Command::Scheduled { worker: worker.clone(), cron, reply });
            match tokio::time::timeout(self.shared.limits.request_timeout, rx).await {
                Ok(Ok(r)) => r,
                Ok(Err(_)) => Err(RequestError::Reset),
                Err(_) => Err(RequestError::Timeout(self.shared.limits.request_timeout)),
            }
        };
        worker.stats.active.fetch_sub(1, Ordering::Relaxed);
        worker.stats.record(outcome.is_ok(), started.elapsed().as_micros() as u64);
        if let Err(e) = &outcome {
            worker.set_error(format!("scheduled: {e}"));
        }
        outcome
    }

    /// Asks every connection to finish its current request and close.
    pub fn begin_shutdown(&self) {
        self.shared.draining.store(true, Ordering::SeqCst);
        let _ = self.shared.shutdown.send(true);
    }
}

/// Per-thread state.
pub struct ThreadState {
    pub index: usize,
    /// `--slow-lane-after` on a shared thread; `None` on the slow lane.
    slice: Option<Duration>,
    pub shared: Arc<Shared>,
    pub pool: Pool,
    instances: RefCell<HashMap<String, Rc<Instance>>>,
    next_request: Cell<u64>,
}

impl ThreadState {
    pub fn next_request_id(&self) -> u64 {
        let id = self.next_request.get() + 1;
        self.next_request.set(id);
        id
    }

    /// This thread's instance of `worker`, (re)created when missing or reset.
    pub fn instance(&self, worker: &Arc<Worker>) -> Result<Rc<Instance>, StartError> {
        if let Some(inst) = self.instances.borrow().get(&worker.id) {
            if !inst.is_poisoned() && Arc::ptr_eq(&inst.host.worker, worker) {
                return Ok(inst.clone());
            }
        }
        if let Some(old) = self.instances.borrow_mut().remove(&worker.id) {
            old.close();
        }
        // A request that raced a DELETE must not bring the worker back.
        let current = self.shared.registry.get(&worker.id);
        if !current.is_some_and(|w| Arc::ptr_eq(&w, worker)) {
            return Err(StartError::Deleted);
        }
        let (inst, _) = self.create(worker)?;
        self.instances.borrow_mut().insert(worker.id.clone(), inst.clone());
        Ok(inst)
    }

    /// A new instance of `worker` on this thread, its events delivered.
    fn create(&self, worker: &Arc<Worker>) -> Result<(Rc<Instance>, Handlers), StartError> {
        let (inst, handlers) = Instance::new(
            worker.clone(),
            self.shared.limits.clone(),
            self.shared.heap.clone(),
            self.shared.http.clone(),
            &self.shared.bindings,
            self.index,
            self.slice,
        )?;
        tokio::task::spawn_local(Instance::run_events(Rc::downgrade(&inst), inst.host.clone()));
        Ok((inst, handlers))
    }

    /// Runs one fetch event here to its response (or error), under the
    /// request timeout; the instance is dropped at once if it was poisoned.
    pub async fn run(&self, request: WorkerRequest) -> Result<Answer, DispatchError> {
        let WorkerRequest { worker, method, url, headers, body } = request;
        let instance = self.instance(&worker)?;
        let timeout = self.shared.limits.request_timeout;
        let (tx, rx) = oneshot::channel();
        let id = self.next_request_id();
        instance.fetch(id, &method, &url, headers, body, tx);
        let outcome = match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(RequestError::Reset),
            Err(_) => {
                instance.host.fail(id, RequestError::Timeout(timeout));
                Err(RequestError::Timeout(timeout))
            }
        };
        self.evict_if_poisoned(&worker.id, &instance);
        // Only the host side is needed from here (to end an abandoned
        // stream): the instance itself goes, so a poisoned one is freed now.
        let host = instance.host.clone();
        drop(instance);
        Ok(Answer { response: outcome?, abandon: Abandon::Here { host, id } })
    }

    /// Drops this thread's instance of `worker_id` if nothing runs on it any
    /// more: for a worker now on the slow lane, whose requests no longer
    /// come here.
    pub fn retire_if_idle(&self, worker_id: &str) {
        let idle = self.instances.borrow().get(worker_id).is_some_and(|i| i.is_idle());
        if idle {
            if let Some(inst) = self.instances.borrow_mut().remove(worker_id) {
                inst.close();
            }
        }
    }

    /// The slow lane's side of a forwarded request: runs it, sends the
    /// answer back, and for a streamed body ends the worker's side when the
    /// connection's thread says the client will not finish it.
    async fn run_forwarded(&self, request: WorkerRequest, reply: oneshot::Sender<Result<Dispatched, DispatchError>>) {
        if reply.is_closed() {
            return; // the client gave up while it waited for this thread
        }
        let Answer { response, abandon } = match self.run(request).await {
            Ok(a) => a,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        if !matches!(response.body, super::WorkerBody::Stream(..)) {
            let _ = reply.send(Ok(Dispatched { response, abandon: None }));
            return;
        }
        let (tx, abandoned) = oneshot::channel();
        if reply.send(Ok(Dispatched { response, abandon: Some(tx) })).is_err() {
            abandon.call(Duration::ZERO);
            return;
        }
        if let Ok(budget) = abandoned.await {
            abandon.call(budget);
        }
    }

    /// Drops this thread's instance of a worker when it is `inst` and was
    /// poisoned (out of memory, CPU limit): its heap goes back to the memory
    /// budget now, not at the worker's next request.
    pub fn evict_if_poisoned(&self, worker_id: &str, inst: &Rc<Instance>) {
        if !inst.is_poisoned() {
            return;
        }
        let old = {
            let mut map = self.instances.borrow_mut();
            if !map.get(worker_id).is_some_and(|i| Rc::ptr_eq(i, inst)) {
                return;
            }
            map.remove(worker_id)
        };
        if let Some(old) = old {
            old.close();
        }
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shared.shutdown.subscribe()
    }
}

/// Lowers the calling thread's scheduling priority to [`SLOW_LANE_NICE`]
/// (on Linux a nice value is per thread). A failure only costs isolation,
/// so it is logged, not fatal.
fn lower_priority() {
    // SAFETY: gettid has no preconditions and returns the caller's id.
    let tid = unsafe { libc::gettid() };
    // SAFETY: setpriority only reads its three integer arguments; raising
    // one's own nice value needs no privilege.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, SLOW_LANE_NICE) };
    if rc != 0 {
        tracing::warn!(
            "js-slow: cannot lower its priority (nice {SLOW_LANE_NICE}): {}",
            std::io::Error::last_os_error()
        );
    }
}

fn thread_main(index: usize, slice: Option<Duration>, shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Command>) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("js-{index}: cannot start tokio runtime: {e}");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    let state = Rc::new(ThreadState {
        index,
        slice,
        pool: Pool { shared: shared.clone() },
        shared,
        instances: RefCell::new(HashMap::new()),
        next_request: Cell::new(0),
    });
    local.block_on(&rt, async move {
        while let Some(cmd) = rx.recv().await {
            // Each command runs as its own task: a bug that panics in one
            // costs that command, not the thread.
            let state = state.clone();
            tokio::task::spawn_local(async move { run_command(&state, cmd).await });
        }
    });
}

async fn run_command(state: &Rc<ThreadState>, cmd: Command) {
    match cmd {
        Command::Serve(conn) => {
            tokio::task::spawn_local(crate::server::serve_connection(state.clone(), conn));
        }
        Command::Fetch { request, reply } => state.run_forwarded(request, reply).await,
        Command::Create { worker, reply } => {
            let result = state.create(&worker).map(|(inst, handlers)| {
                if let Some(old) = state.instances.borrow_mut().insert(worker.id.clone(), inst) {
                    old.close();
                }
                handlers
            });
            let _ = reply.send(result);
        }
        Command::Remove { id } => {
            if let Some(inst) = state.instances.borrow_mut().remove(&id) {
                inst.close();
            }
        }
        Command::Scheduled { worker, cron, reply } => match state.instance(&worker) {
            Ok(inst) => {
                let id = state.next_request_id();
                let time = crate::registry::unix_ms() as f64;
                inst.scheduled(id, &cron, time, reply);
            }
            Err(e) => {
                let _ = reply.send(Err(RequestError::Threw(e.to_string())));
            }
        },
    }
}
