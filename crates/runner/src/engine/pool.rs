//! The runner's threads. I/O threads serve client connections (PROXY
//! header, TLS, HTTP); JS threads run JavaScript, each owning one instance of
//! every worker. A request's event goes to the JS thread with the fewest
//! requests in hand, not to a thread fixed by its connection: a worker that
//! spins holds the one JS thread it runs on, for at most its CPU limit, while
//! every other request (its connection's included) is read, answered and run
//! elsewhere. No JavaScript value crosses a thread: only the request's parts
//! (method, URL, headers, body bytes) go over, and its response comes back.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, watch};

use super::bindings::Bindings;
use super::error::StartError;
use super::instance::{Handlers, Instance, RequestError};
use crate::http_client::HttpClient;
use crate::limits::Limits;
use crate::memory::HeapBudget;
use crate::registry::{Registry, Worker};

/// A client connection handed to an I/O thread.
pub trait Connection: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Connection for T {}

/// What a JS thread is asked to do.
pub(crate) enum Command {
    Fetch { job: FetchJob, ticket: Ticket },
    Create { worker: Arc<Worker>, reply: oneshot::Sender<Result<Handlers, StartError>> },
    Remove { id: String },
    Scheduled { worker: Arc<Worker>, cron: String, reply: oneshot::Sender<Result<(), RequestError>>, ticket: Ticket },
}

/// A request for a worker, as its I/O thread read it.
pub struct FetchJob {
    pub worker: Arc<Worker>,
    pub method: String,
    pub url: String,
    /// Names and values, alternating.
    pub headers: Vec<String>,
    pub body: Option<Bytes>,
    pub reply: oneshot::Sender<Result<Dispatched, DispatchError>>,
}

/// A worker's answer on its way back to the connection.
pub struct Dispatched {
    pub response: super::WorkerResponse,
    /// For a streamed response: send the stream's budget here to end the
    /// worker's side of a stream the client will not finish (its budget ran
    /// out, or the client left). Dropping it says the stream ended.
    pub abandon: Option<oneshot::Sender<Duration>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Request(#[from] RequestError),
}

/// One request in a JS thread's hands, counted in its load until dropped:
/// when the request is settled, or with its command if the thread is gone.
pub(crate) struct Ticket(Arc<AtomicUsize>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A JS thread as the other threads see it.
struct JsLane {
    tx: mpsc::UnboundedSender<Command>,
    /// Requests and scheduled runs sent to it and not yet settled.
    load: Arc<AtomicUsize>,
    /// Whether it runs JavaScript now, and since when.
    clock: Arc<TurnClock>,
}

/// When a JS thread's current run of JavaScript began. A thread stays in
/// JavaScript until the script yields or the CPU limit stops it; nothing
/// else it was sent runs meanwhile, so [`Pool::pick`] prefers threads out of
/// JavaScript, and among the others the one that entered it last.
pub(crate) struct TurnClock {
    epoch: Instant,
    /// Nanoseconds from `epoch` to the start of the run, plus one; 0 when
    /// the thread is out of JavaScript.
    since: AtomicU64,
}

impl TurnClock {
    fn new(epoch: Instant) -> Self {
        TurnClock { epoch, since: AtomicU64::new(0) }
    }

    /// How long the current run has lasted; zero out of JavaScript.
    fn running_for(&self, now: Instant) -> Duration {
        match self.since.load(Ordering::Relaxed) {
            0 => Duration::ZERO,
            // At least a nanosecond: in JavaScript, even just now, is not out.
            t => now
                .saturating_duration_since(self.epoch)
                .saturating_sub(Duration::from_nanos(t - 1))
                .max(Duration::from_nanos(1)),
        }
    }
}

thread_local! {
    /// This JS thread's clock (none on other threads).
    static TURN_CLOCK: RefCell<Option<Arc<TurnClock>>> = const { RefCell::new(None) };
}

/// Marks this JS thread as running JavaScript until the guard drops. Nested
/// runs keep the outer start.
pub(crate) fn in_javascript() -> InJavaScript {
    let clock = TURN_CLOCK.with(|c| c.borrow().clone()).filter(|clock| {
        let since = Instant::now().saturating_duration_since(clock.epoch).as_nanos() as u64 + 1;
        clock.since.compare_exchange(0, since, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    });
    InJavaScript(clock)
}

pub(crate) struct InJavaScript(Option<Arc<TurnClock>>);

impl Drop for InJavaScript {
    fn drop(&mut self) {
        if let Some(clock) = &self.0 {
            clock.since.store(0, Ordering::Relaxed);
        }
    }
}

pub struct PoolConfig {
    /// JS threads, and as many I/O threads.
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
    io: Vec<mpsc::UnboundedSender<Box<dyn Connection>>>,
    js: Vec<JsLane>,
    next_io: AtomicUsize,
    next_js: AtomicUsize,
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
        let epoch = Instant::now();
        let (mut io, mut io_rx, mut js, mut js_rx) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..threads {
            let (tx, rx) = mpsc::unbounded_channel();
            io.push(tx);
            io_rx.push(rx);
            let (tx, rx) = mpsc::unbounded_channel();
            js.push(JsLane { tx, load: Arc::new(AtomicUsize::new(0)), clock: Arc::new(TurnClock::new(epoch)) });
            js_rx.push(rx);
        }
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            registry: Registry::default(),
            heap: Arc::new(HeapBudget::new(config.limits.memory_budget_bytes)),
            limits: Arc::new(config.limits),
            http: config.http,
            bindings: config.bindings,
            nsm: config.nsm,
            tls,
            started: Instant::now(),
            io,
            js,
            next_io: AtomicUsize::new(0),
            next_js: AtomicUsize::new(0),
            inflight: AtomicU64::new(0),
            draining: AtomicBool::new(false),
            shutdown,
        });
        for (index, rx) in js_rx.into_iter().enumerate() {
            let shared = shared.clone();
            let clock = shared.js[index].clock.clone();
            std::thread::Builder::new()
                .name(format!("js-{index}"))
                // QuickJS recursion is bounded by --stack-limit; leave ample
                // native stack above it for Rust frames.
                .stack_size(shared.limits.stack_bytes + (8 << 20))
                .spawn(move || {
                    TURN_CLOCK.with(|c| *c.borrow_mut() = Some(clock));
                    js_thread_main(index, shared, rx)
                })?;
        }
        for (index, rx) in io_rx.into_iter().enumerate() {
            let shared = shared.clone();
            std::thread::Builder::new().name(format!("io-{index}")).spawn(move || io_thread_main(index, shared, rx))?;
        }
        Ok(Pool { shared })
    }

    /// JS threads: each holds one instance of every worker.
    pub fn threads(&self) -> usize {
        self.shared.js.len()
    }

    /// Hands a connection to the next I/O thread, round robin.
    pub fn serve(&self, conn: Box<dyn Connection>) {
        let io = &self.shared.io;
        let i = self.shared.next_io.fetch_add(1, Ordering::Relaxed) % io.len();
        let _ = io[i].send(conn);
    }

    /// The JS thread to run the next event on, and a ticket counting it
    /// there: one out of JavaScript if any (the fewest requests in hand
    /// first), else the one whose current run began last; the next in turn
    /// among equals. A thread a script holds (it spins until its CPU limit)
    /// is taken last.
    fn pick(&self) -> (&JsLane, Ticket) {
        let js = &self.shared.js;
        let first = self.shared.next_js.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let lane = (0..js.len())
            .map(|k| &js[(first + k) % js.len()])
            .min_by_key(|lane| (lane.clock.running_for(now), lane.load.load(Ordering::Relaxed)))
            .unwrap_or(&js[first % js.len()]);
        lane.load.fetch_add(1, Ordering::Relaxed);
        (lane, Ticket(lane.load.clone()))
    }

    /// Runs a request's fetch event on the least loaded JS thread.
    pub fn dispatch(&self, job: FetchJob) {
        let (lane, ticket) = self.pick();
        if let Err(mpsc::error::SendError(Command::Fetch { job, .. })) = lane.tx.send(Command::Fetch { job, ticket }) {
            let _ = job.reply.send(Err(DispatchError::Start(StartError::ThreadGone)));
        }
    }

    /// Starts `worker` on every JS thread; fails if its code does not start.
    pub async fn start_worker(&self, worker: Arc<Worker>) -> Result<Handlers, StartError> {
        let mut replies = Vec::new();
        for lane in &self.shared.js {
            let (reply, rx) = oneshot::channel();
            let _ = lane.tx.send(Command::Create { worker: worker.clone(), reply });
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
        } else if let Ok(h) = &result {
            if let Ok(mut slot) = worker.handlers.lock() {
                *slot = (h.fetch, h.scheduled);
            }
        }
        result
    }

    /// Drops `id`'s instances on every JS thread.
    pub fn stop_worker(&self, id: &str) {
        for lane in &self.shared.js {
            let _ = lane.tx.send(Command::Remove { id: id.to_string() });
        }
    }

    /// Runs `worker`'s scheduled handler once and records the outcome.
    pub async fn run_scheduled(&self, worker: Arc<Worker>, cron: String) -> Result<(), RequestError> {
        let (reply, rx) = oneshot::channel();
        let (lane, ticket) = self.pick();
        let _ = lane.tx.send(Command::Scheduled { worker: worker.clone(), cron, reply, ticket });
        let started = Instant::now();
        worker.stats.active.fetch_add(1, Ordering::Relaxed);
        let outcome = match tokio::time::timeout(self.shared.limits.request_timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(RequestError::Reset),
            Err(_) => Err(RequestError::Timeout(self.shared.limits.request_timeout)),
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

/// An I/O thread's state: what its connections share.
pub struct IoThread {
    pub shared: Arc<Shared>,
    pub pool: Pool,
}

impl IoThread {
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shared.shutdown.subscribe()
    }
}

/// A JS thread's state: its instances, one per worker.
struct JsThread {
    index: usize,
    shared: Arc<Shared>,
    instances: RefCell<HashMap<String, Rc<Instance>>>,
    next_request: Cell<u64>,
}

impl JsThread {
    fn next_request_id(&self) -> u64 {
        let id = self.next_request.get() + 1;
        self.next_request.set(id);
        id
    }

    /// This thread's instance of `worker`, (re)created when missing or reset.
    fn instance(&self, worker: &Arc<Worker>) -> Result<Rc<Instance>, StartError> {
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
        let inst = self.create(worker)?.0;
        self.instances.borrow_mut().insert(worker.id.clone(), inst.clone());
        Ok(inst)
    }

    fn create(&self, worker: &Arc<Worker>) -> Result<(Rc<Instance>, Handlers), StartError> {
        let busy = in_javascript();
        let made = Instance::new(
            worker.clone(),
            self.shared.limits.clone(),
            self.shared.heap.clone(),
            self.shared.http.clone(),
            &self.shared.bindings,
            self.index,
        );
        drop(busy);
        let (inst, handlers) = made?;
        tokio::task::spawn_local(Instance::run_events(Rc::downgrade(&inst), inst.host.clone()));
        Ok((inst, handlers))
    }

    /// Drops this thread's instance of a worker when it is `inst` and was
    /// poisoned (out of memory, CPU limit): its heap goes back to the memory
    /// budget now, not at the worker's next request.
    fn evict_if_poisoned(&self, worker_id: &str, inst: &Rc<Instance>) {
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

    /// Runs one fetch event to its response (or error) under the request
    /// timeout, and sends the outcome back to the connection's thread.
    async fn fetch(&self, job: FetchJob, ticket: Ticket) {
        let FetchJob { worker, method, url, headers, body, reply } = job;
        let instance = match self.instance(&worker) {
            Ok(i) => i,
            Err(e) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
        };
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
        let response = match outcome {
            Ok(r) => r,
            Err(e) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
        };
        let streaming = matches!(response.body, super::WorkerBody::Stream(..));
        if !streaming {
            let _ = reply.send(Ok(Dispatched { response, abandon: None }));
            return;
        }
        let (abandon, abandoned) = oneshot::channel();
        if reply.send(Ok(Dispatched { response, abandon: Some(abandon) })).is_err() {
            host.fail(id, RequestError::Reset);
            return;
        }
        // The stream is this thread's work until it ends.
        let _ticket = ticket;
        if let Ok(budget) = abandoned.await {
            host.fail(id, RequestError::Timeout(budget));
        }
    }
}

fn io_thread_main(index: usize, shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Box<dyn Connection>>) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("io-{index}: cannot start tokio runtime: {e}");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    let state = Rc::new(IoThread { pool: Pool { shared: shared.clone() }, shared });
    local.block_on(&rt, async move {
        while let Some(conn) = rx.recv().await {
            tokio::task::spawn_local(crate::server::serve_connection(state.clone(), conn));
        }
    });
}

fn js_thread_main(index: usize, shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Command>) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("js-{index}: cannot start tokio runtime: {e}");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    let state =
        Rc::new(JsThread { index, shared, instances: RefCell::new(HashMap::new()), next_request: Cell::new(0) });
    local.block_on(&rt, async move {
        while let Some(cmd) = rx.recv().await {
            // Each command runs as its own task: a bug that panics in one
            // costs that command, not the thread.
            let state = state.clone();
            tokio::task::spawn_local(async move { run_command(&state, cmd).await });
        }
    });
}

async fn run_command(state: &Rc<JsThread>, cmd: Command) {
    match cmd {
        Command::Fetch { job, ticket } => state.fetch(job, ticket).await,
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
        Command::Scheduled { worker, cron, reply, ticket } => match state.instance(&worker) {
            Ok(inst) => {
                let id = state.next_request_id();
                let time = crate::registry::unix_ms() as f64;
                let (tx, rx) = oneshot::channel();
                inst.scheduled(id, &cron, time, tx);
                let timeout = state.shared.limits.request_timeout;
                let outcome = match tokio::time::timeout(timeout, rx).await {
                    Ok(r) => r.unwrap_or(Err(RequestError::Reset)),
                    Err(_) => {
                        inst.host.fail(id, RequestError::Timeout(timeout));
                        Err(RequestError::Timeout(timeout))
                    }
                };
                state.evict_if_poisoned(&worker.id, &inst);
                drop((inst, ticket));
                let _ = reply.send(outcome);
            }
            Err(e) => {
                let _ = reply.send(Err(RequestError::Threw(e.to_string())));
            }
        },
    }
}
