//! The set of deployed workers, shared by every thread. Holds metadata, code
//! and counters only: JavaScript values live in per-thread instances.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use serde_json::{json, Value};
use sworn_eth::EphemeralAccount;
use sworn_nsm::WorkerMeasurement;

use crate::auth::CredentialHash;
use crate::cron::Schedule;
use crate::logs::LogRing;
use crate::state::{Entry, Journal};

/// How the worker's code is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerKind {
    /// ES module with `export default { fetch, scheduled }`.
    Module,
    /// Service-worker script using `addEventListener`.
    ServiceWorker,
    /// WASI preview 1 command module (`sworn_wasi`), run once per request
    /// the CGI way; its `code` is the module in base64.
    Wasi,
}

impl WorkerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerKind::Module => "module",
            WorkerKind::ServiceWorker => "sw",
            WorkerKind::Wasi => "wasi",
        }
    }
}

/// Everything needed to start a worker.
#[derive(Clone, Debug)]
pub struct WorkerSpec {
    pub name: Option<String>,
    pub code: String,
    pub kind: WorkerKind,
    pub schedule: Option<Schedule>,
    /// JSON text exposed as `env.config`.
    pub config: String,
    /// JSON text exposed as `env.args` (Escrin's `args`).
    pub args: String,
}

impl WorkerSpec {
    /// A WASI worker's module bytes (`code` is their base64); `None` for
    /// JavaScript workers, or if `code` is not base64 (refused at upload).
    pub fn wasm(&self) -> Option<Vec<u8>> {
        use base64ct::Encoding;
        (self.kind == WorkerKind::Wasi).then(|| base64ct::Base64::decode_vec(self.code.trim()).ok()).flatten()
    }

    /// SHA-384 of what the worker runs: the code as uploaded, or a WASI
    /// worker's module bytes (what `sha384sum module.wasm` prints).
    pub fn measurement(&self) -> WorkerMeasurement {
        match self.wasm() {
            Some(bytes) => WorkerMeasurement::of_code(&bytes),
            None => WorkerMeasurement::of_code(self.code.as_bytes()),
        }
    }
}

/// Execution counters, updated from every thread.
#[derive(Debug, Default)]
pub struct Stats {
    pub active: AtomicU64,
    pub total: AtomicU64,
    pub ok: AtomicU64,
    pub failed: AtomicU64,
    pub total_micros: AtomicU64,
}

impl Stats {
    pub fn record(&self, ok: bool, micros: u64) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if ok {
            self.ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.total_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn to_json(&self, memory: u64, uptime_ms: u64) -> Value {
        let total = self.total.load(Ordering::Relaxed);
        let avg =
            if total == 0 { 0.0 } else { self.total_micros.load(Ordering::Relaxed) as f64 / total as f64 / 1000.0 };
        json!({
            "activeSessions": self.active.load(Ordering::Relaxed),
            "totalExecutions": total,
            "successfulExecutions": self.ok.load(Ordering::Relaxed),
            "failedExecutions": self.failed.load(Ordering::Relaxed),
            "averageExecutionTime": avg,
            "memoryUsage": memory,
            "uptime": uptime_ms,
        })
    }
}

/// A deployed worker.
#[derive(Debug)]
pub struct Worker {
    pub id: String,
    pub name: String,
    /// SHA-384 of the code: what attestation documents requested through
    /// this worker bind, and the `measurement` the API shows (in hex).
    pub code_measurement: WorkerMeasurement,
    /// The worker's ephemeral secp256k1 account (Escrin's iam), made on first
    /// use (at deploy when the runner journals its state, so the journal
    /// holds it from the start); it never leaves the enclave and dies with
    /// the worker.
    pub account: OnceLock<EphemeralAccount>,
    pub spec: WorkerSpec,
    pub created: Instant,
    pub created_unix_ms: u64,
    pub stats: Stats,
    pub logs: Mutex<LogRing>,
    pub last_error: Mutex<Option<String>>,
    /// QuickJS heap bytes of each thread's instance, indexed by thread.
    pub memory: Vec<AtomicU64>,
    /// A WASI worker's compiled module and argv, set when it starts (`crate::wasi`).
    pub wasi: OnceLock<Arc<crate::wasi::Compiled>>,
    /// Whether the worker's code defines fetch and scheduled handlers.
    pub handlers: Mutex<(bool, bool)>,
    /// SHA-256 of the credential `POST /workers` issued for it; `None` for
    /// workers made through Escrin's anonymous `POST /` or at boot, which
    /// only operators may manage (see `auth`).
    pub owner: Option<CredentialHash>,
    /// Set when a scheduled run called `noRetry()`: as in Escrin's runner,
    /// the schedule stops for good (for this worker's life in this process).
    schedule_stopped: AtomicBool,
    /// Set once a turn of the worker's JavaScript on a shared thread ran
    /// past `--slow-lane-after`: from then on its requests and scheduled
    /// runs go to the slow lane (see `engine::pool`), for the rest of this
    /// worker's life. A new deploy or update starts on the shared threads.
    slow_lane: AtomicBool,
}

impl Worker {
    pub fn new(
        id: String,
        spec: WorkerSpec,
        owner: Option<CredentialHash>,
        threads: usize,
        log_bytes: usize,
    ) -> Worker {
        Self::restore(Entry { id, created_unix_ms: unix_ms(), spec, account: None, owner }, threads, log_bytes)
    }

    /// The worker a journal entry describes: same id, creation time, code
    /// (hence measurement), account and owner; fresh counters and logs.
    pub fn restore(entry: Entry, threads: usize, log_bytes: usize) -> Worker {
        let Entry { id, created_unix_ms, spec, account, owner } = entry;
        let code_measurement = spec.measurement();
        let slot = OnceLock::new();
        if let Some(account) = account {
            let _ = slot.set(account);
        }
        Worker {
            name: spec.name.clone().unwrap_or_else(|| id.clone()),
            id,
            code_measurement,
            account: slot,
            spec,
            created: Instant::now(),
            created_unix_ms,
            stats: Stats::default(),
            logs: Mutex::new(LogRing::new(log_bytes)),
            last_error: Mutex::new(None),
            memory: (0..threads).map(|_| AtomicU64::new(0)).collect(),
            handlers: Mutex::new((false, false)),
            wasi: OnceLock::new(),
            owner,
            schedule_stopped: AtomicBool::new(false),
            slow_lane: AtomicBool::new(false),
        }
    }

    /// The schedule, unless a run stopped it with `noRetry()`.
    pub fn active_schedule(&self) -> Option<&Schedule> {
        self.spec.schedule.as_ref().filter(|_| !self.schedule_stopped.load(Ordering::Relaxed))
    }

    /// `noRetry()` of a scheduled run: no later run of this worker.
    pub fn stop_schedule(&self) {
        if !self.schedule_stopped.swap(true, Ordering::Relaxed) {
            self.log("info", "noRetry(): the schedule is stopped; no later scheduled runs".into());
        }
    }

    /// Whether the worker runs on the slow lane.
    pub fn on_slow_lane(&self) -> bool {
        self.slow_lane.load(Ordering::Relaxed)
    }

    /// Moves the worker to the slow lane after a turn that used `used` of
    /// CPU on a shared thread; true if this call moved it, false if it was
    /// there already.
    pub fn move_to_slow_lane(&self, used: std::time::Duration) -> bool {
        if self.slow_lane.swap(true, Ordering::Relaxed) {
            return false;
        }
        self.log(
            "warn",
            format!(
                "moved to the slow lane: a turn used {used:?} of CPU on a shared thread; its requests now run on \
                 the runner's low-priority thread"
            ),
        );
        true
    }

    pub fn log(&self, level: &'static str, message: String) {
        if let Ok(mut ring) = self.logs.lock() {
            ring.push(unix_ms(), level, message);
        }
    }

    pub fn set_error(&self, message: String) {
        self.log("error", message.clone());
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(message);
        }
    }

    pub fn memory_usage(&self) -> u64 {
        self.memory.iter().map(|m| m.load(Ordering::Relaxed)).sum()
    }

    pub fn summary(&self) -> Value {
        json!({ "id": self.id, "name": self.name, "measurement": self.code_measurement.to_hex() })
    }

    pub fn details(&self) -> Value {
        let schedule = self.spec.schedule.as_ref();
        let (fetch, scheduled) = self.handlers.lock().map(|h| *h).unwrap_or((false, false));
        json!({
            "id": self.id,
            "name": self.name,
            "measurement": self.code_measurement.to_hex(),
            "type": self.spec.kind.as_str(),
            "status": "running",
            "handlers": { "fetch": fetch, "scheduled": scheduled },
            "schedule": schedule.map(|s| s.source()),
            "scheduleStopped": self.schedule_stopped.load(Ordering::Relaxed),
            "lane": if self.on_slow_lane() { "slow" } else { "shared" },
            "nextScheduled": self
                .active_schedule()
                .and_then(|s| s.next_after(crate::cron::unix_now_secs()))
                .map(|s| s * 1000),
            "created": self.created_unix_ms,
            "stats": self.stats.to_json(self.memory_usage(), self.created.elapsed().as_millis() as u64),
            "lastError": self.last_error.lock().ok().and_then(|e| e.clone()),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("worker limit of {0} reached")]
    Full(usize),
    #[error("a worker named {0:?} already exists")]
    NameTaken(String),
    #[error("worker {0:?} was deleted or replaced while its replacement was starting")]
    ReplacedMeanwhile(String),
}

/// All workers, by id.
#[derive(Debug, Default)]
pub struct Registry {
    workers: RwLock<BTreeMap<String, Arc<Worker>>>,
    /// The `--state-dir` journal: every insert writes the worker's entry and
    /// every remove deletes it, so every way in or out of the registry
    /// (API, boot workers, restore) is journaled.
    journal: OnceLock<Arc<Journal>>,
    /// Orders journal writes and removals, so a DELETE racing a deploy
    /// cannot leave the deleted worker's file behind.
    journal_order: Mutex<()>,
}

impl Registry {
    /// Journals every later insert and remove to `journal`; the first
    /// journal attached stays.
    pub fn attach_journal(&self, journal: Arc<Journal>) {
        let _ = self.journal.set(journal);
    }

    pub fn journal(&self) -> Option<&Arc<Journal>> {
        self.journal.get()
    }

    pub fn insert(&self, worker: Arc<Worker>, max: usize) -> Result<(), RegistryError> {
        {
            let mut map = self.workers.write().unwrap_or_else(|e| e.into_inner());
            if map.len() >= max {
                return Err(RegistryError::Full(max));
            }
            if map.values().any(|w| w.name == worker.name || w.id == worker.name) {
                return Err(RegistryError::NameTaken(worker.name.clone()));
            }
            map.insert(worker.id.clone(), worker.clone());
        }
        self.journal_write(&worker);
        Ok(())
    }

    /// Writes `worker`'s entry outside the registry lock (an fsync must not
    /// stall every request). A failure does not undo the deploy: the worker
    /// runs, but would not survive a restart, which its `lastError` and the
    /// log say.
    fn journal_write(&self, worker: &Arc<Worker>) {
        let Some(journal) = self.journal.get() else {
            return;
        };
        if worker.account.get().is_none() {
            match EphemeralAccount::generate() {
                Ok(made) => {
                    let _ = worker.account.set(made);
                }
                Err(e) => tracing::warn!("worker {}: no ephemeral account to journal yet: {e}", worker.id),
            }
        }
        let _order = self.journal_order.lock().unwrap_or_else(|e| e.into_inner());
        // Deleted while we waited: writing now would bring it back after a restart.
        if !self.get(&worker.id).is_some_and(|w| Arc::ptr_eq(&w, worker)) {
            return;
        }
        let entry = Entry {
            id: worker.id.clone(),
            created_unix_ms: worker.created_unix_ms,
            spec: worker.spec.clone(),
            // A copy for the codec; the original stays in the worker.
            account: worker
                .account
                .get()
                .and_then(|a| EphemeralAccount::from_secret_bytes(&a.secret_bytes_for_journal()).ok()),
            owner: worker.owner,
        };
        if let Err(e) = journal.write(&entry) {
            let message = format!("state journal: {} (this worker will not survive a runner restart)", error_chain(&e));
            tracing::error!("worker {}: {message}", worker.id);
            worker.set_error(message);
        }
    }

    /// Reserves nothing but tells whether an insert would currently succeed.
    pub fn check(&self, name: Option<&str>, max: usize) -> Result<(), RegistryError> {
        let map = self.workers.read().unwrap_or_else(|e| e.into_inner());
        if map.len() >= max {
            return Err(RegistryError::Full(max));
        }
        if let Some(name) = name {
            if map.values().any(|w| w.name == name || w.id == name) {
                return Err(RegistryError::NameTaken(name.to_string()));
            }
        }
        Ok(())
    }

    /// Finds a worker by id or by name.
    pub fn get(&self, key: &str) -> Option<Arc<Worker>> {
        let map = self.workers.read().unwrap_or_else(|e| e.into_inner());
        map.get(key).cloned().or_else(|| map.values().find(|w| w.name == key).cloned())
    }

    /// Removes `id` and its journal entry.
    pub fn remove(&self, id: &str) -> Option<Arc<Worker>> {
        let removed = self.workers.write().unwrap_or_else(|e| e.into_inner()).remove(id);
        if removed.is_some() {
            self.journal_remove(id);
        }
        removed
    }

    /// Puts `new` in the place of `old` in one step: no request finds
    /// neither, and the name is never free for a third deploy to take.
    /// Fails when `old` is no longer registered (deleted or replaced while
    /// `new` was starting) or `new`'s name belongs to yet another worker.
    /// The journal gets `new`'s entry before `old`'s is removed: a crash in
    /// between leaves both files, and the restore keeps one of them (the
    /// other is reported as a name conflict) rather than losing the worker.
    pub fn replace(&self, old: &Arc<Worker>, new: Arc<Worker>) -> Result<(), RegistryError> {
        {
            let mut map = self.workers.write().unwrap_or_else(|e| e.into_inner());
            if !map.get(&old.id).is_some_and(|w| Arc::ptr_eq(w, old)) {
                return Err(RegistryError::ReplacedMeanwhile(old.name.clone()));
            }
            if map.values().any(|w| w.id != old.id && (w.name == new.name || w.id == new.name)) {
                return Err(RegistryError::NameTaken(new.name.clone()));
            }
            map.remove(&old.id);
            map.insert(new.id.clone(), new.clone());
        }
        self.journal_write(&new);
        self.journal_remove(&old.id);
        Ok(())
    }

    fn journal_remove(&self, id: &str) {
        if let Some(journal) = self.journal.get() {
            let _order = self.journal_order.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = journal.remove(id) {
                tracing::error!("worker {id}: {} (it would come back after a runner restart)", error_chain(&e));
            }
        }
    }

    pub fn all(&self) -> Vec<Arc<Worker>> {
        self.workers.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }
}

/// `error: cause: cause…`, for one log line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
