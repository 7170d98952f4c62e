//! Thread-per-core pool. Each thread runs a single-threaded tokio runtime
//! that serves its share of HTTP connections and owns one instance of every
//! worker, so a request never leaves the thread that accepted it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, watch};

use super::bindings::Bindings;
use super::error::StartError;
use super::instance::{Handlers, Instance, RequestError};
use crate::http_client::HttpClient;
use crate::limits::Limits;
use crate::memory::HeapBudget;
use crate::registry::{Registry, Worker};

/// A client connection handed to a pool thread.
pub trait Connection: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Connection for T {}

pub(crate) enum Command {
    Serve(Box<dyn Connection>),
    Create { worker: Arc<Worker>, reply: oneshot::Sender<Result<Handlers, StartError>> },
    Remove { id: String },
    Scheduled { worker: Arc<Worker>, cron: String, reply: oneshot::Sender<Result<(), RequestError>> },
}

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
    senders: Vec<mpsc::UnboundedSender<Command>>,
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
            senders,
            next_thread: AtomicUsize::new(0),
            inflight: AtomicU64::new(0),
            draining: AtomicBool::new(false),
            shutdown,
        });
        for (index, rx) in receivers.into_iter().enumerate() {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("js-{index}"))
                // QuickJS recursion is bounded by --stack-limit; leave ample
                // native stack above it for Rust frames.
                .stack_size(shared.limits.stack_bytes + (8 << 20))
                .spawn(move || thread_main(index, shared, rx))?;
        }
        Ok(Pool { shared })
    }

    pub fn threads(&self) -> usize {
        self.shared.senders.len()
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
        } else if let Ok(h) = &result {
            if let Ok(mut slot) = worker.handlers.lock() {
                *slot = (h.fetch, h.scheduled);
            }
        }
        result
    }

    /// Drops `id`'s instances on every thread.
    pub fn stop_worker(&self, id: &str) {
        for tx in &self.shared.senders {
            let _ = tx.send(Command::Remove { id: id.to_string() });
        }
    }

    /// Runs `worker`'s scheduled handler once and records the outcome.
    pub async fn run_scheduled(&self, worker: Arc<Worker>, cron: String) -> Result<(), RequestError> {
        let (reply, rx) = oneshot::channel();
        let i = self.pick();
        let _ = self.shared.senders[i].send(Command::Scheduled { worker: worker.clone(), cron, reply });
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

/// Per-thread state.
pub struct ThreadState {
    pub index: usize,
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
        let (inst, _) = Instance::new(
            worker.clone(),
            self.shared.limits.clone(),
            self.shared.heap.clone(),
            self.shared.http.clone(),
            &self.shared.bindings,
            self.index,
        )?;
        tokio::task::spawn_local(Instance::run_events(Rc::downgrade(&inst), inst.host.clone()));
        self.instances.borrow_mut().insert(worker.id.clone(), inst.clone());
        Ok(inst)
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

fn thread_main(index: usize, shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Command>) {
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
            tokio::task::spawn_local(async move { run_command(&state, cmd) });
        }
    });
}

fn run_command(state: &Rc<ThreadState>, cmd: Command) {
    let index = state.index;
    match cmd {
        Command::Serve(conn) => {
            tokio::task::spawn_local(crate::server::serve_connection(state.clone(), conn));
        }
        Command::Create { worker, reply } => {
            let result = Instance::new(
                worker.clone(),
                state.shared.limits.clone(),
                state.shared.heap.clone(),
                state.shared.http.clone(),
                &state.shared.bindings,
                index,
            );
            let result = result.map(|(inst, handlers)| {
                tokio::task::spawn_local(Instance::run_events(Rc::downgrade(&inst), inst.host.clone()));
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
