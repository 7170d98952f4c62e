//! `wasi` workers: WASI command modules (`sworn_wasi`) behind the same
//! management API, limits, logs and schedules as JavaScript workers. The
//! module is checked and compiled once when the worker starts; each request
//! or scheduled event runs it in a fresh instance on a blocking thread, so a
//! run never holds a JavaScript thread.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::StatusCode;
use sworn_wasi::cgi::{self, CgiResponse};
use sworn_wasi::{Finished, MemoryCharge, Program, RunError, RunInput, RunLimits, Runtime, UploadError};

use crate::engine::instance::Handlers;
use crate::engine::pool::Shared;
use crate::engine::StartError;
use crate::memory::HeapBudget;
use crate::registry::Worker;

/// The process's one WebAssembly engine, made with the first `wasi` worker
/// (a runner without any pays nothing for it).
#[derive(Default)]
pub struct WasiHost {
    runtime: OnceLock<Result<Runtime, String>>,
}

impl WasiHost {
    fn runtime(&self) -> Result<&Runtime, StartError> {
        self.runtime
            .get_or_init(|| Runtime::new().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| StartError::WasmEngine(e.clone()))
    }
}

/// A started worker's module, and the argv every run gets.
#[derive(Debug)]
pub struct Compiled {
    program: Program,
    argv: Vec<String>,
}

/// Checks and compiles the worker's module.
pub async fn start(shared: &Shared, worker: &Arc<Worker>) -> Result<Handlers, StartError> {
    let runtime = shared.wasi.runtime()?.clone();
    let bytes = worker.spec.wasm().ok_or(StartError::Wasm(UploadError::NotWasm))?;
    let limit = shared.limits.memory_bytes as u64;
    let program = tokio::task::spawn_blocking(move || Program::compile(&runtime, &bytes, limit))
        .await
        .map_err(|_| StartError::ThreadGone)?
        .map_err(StartError::Wasm)?;
    let _ = worker.wasi.set(Arc::new(Compiled { program, argv: argv(worker) }));
    Ok(Handlers { fetch: true, scheduled: worker.spec.schedule.is_some() })
}

/// A request as a WASI worker gets it.
#[derive(Debug, Clone)]
pub struct WasiRequest {
    pub method: String,
    /// The path below the worker's `/fetch`, starting with `/`.
    pub path: String,
    pub query: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Runs the worker once for `req`; the response is what it wrote to stdout.
pub async fn fetch(
    shared: &Arc<Shared>,
    worker: &Arc<Worker>,
    req: WasiRequest,
) -> Result<CgiResponse, (StatusCode, String)> {
    let env = cgi::request_env(&req.method, &req.path, &req.query, &req.url, &req.headers, req.body.len());
    let stdout_bytes = shared.limits.response_body_bytes.saturating_add(cgi::MAX_HEAD_BYTES);
    let done = run(shared, worker, env, req.body, stdout_bytes).await?;
    log_stderr(worker, &done);
    match done.result {
        Ok(code) => {
            if code != 0 {
                worker.log("warn", format!("exited with code {code}"));
            }
            cgi::parse_response(&done.stdout)
                .map_err(|e| (StatusCode::BAD_GATEWAY, format!("the program's stdout is not a CGI response: {e}")))
        }
        Err(e) => Err((run_error_status(&e), e.to_string())),
    }
}

/// Runs the worker for a scheduled event: no stdin, stdout and stderr to
/// its log; an exit code other than 0 is a failed run.
pub async fn scheduled(shared: &Arc<Shared>, worker: &Arc<Worker>, cron: &str) -> Result<(), String> {
    let now = crate::registry::unix_ms();
    let env = vec![
        ("SWORN_EVENT".to_string(), "scheduled".to_string()),
        ("SCHEDULED_CRON".to_string(), cron.to_string()),
        ("SCHEDULED_TIME".to_string(), now.to_string()),
    ];
    let done = run(shared, worker, env, Bytes::new(), shared.limits.log_bytes).await.map_err(|(_, e)| e)?;
    for line in String::from_utf8_lossy(&done.stdout).lines().filter(|l| !l.is_empty()) {
        worker.log("log", line.to_string());
    }
    log_stderr(worker, &done);
    match done.result {
        Ok(0) => Ok(()),
        Ok(code) => Err(format!("exited with code {code}")),
        Err(e) => Err(e.to_string()),
    }
}

/// `argv`: the worker's name, then its `args` (a JSON array of strings,
/// checked at upload), read once when the worker starts.
fn argv(worker: &Worker) -> Vec<String> {
    let mut argv = vec![worker.name.clone()];
    if let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(&worker.spec.args) {
        argv.extend(items.into_iter().filter_map(|v| v.as_str().map(str::to_string)));
    }
    argv
}

async fn run(
    shared: &Arc<Shared>,
    worker: &Arc<Worker>,
    env: Vec<(String, String)>,
    stdin: Bytes,
    stdout_bytes: usize,
) -> Result<Finished, (StatusCode, String)> {
    let compiled = worker
        .wasi
        .get()
        .cloned()
        .ok_or((StatusCode::SERVICE_UNAVAILABLE, "the worker's module is not compiled yet".to_string()))?;
    let input = RunInput { args: compiled.argv.clone(), env, stdin };
    shared.heap.admit(HeapBudget::REQUEST_RESERVE).map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let limits = RunLimits {
        cpu: shared.limits.cpu_time,
        wall: shared.limits.request_timeout,
        memory_bytes: shared.limits.memory_bytes as u64,
        stdout_bytes,
        stderr_bytes: shared.limits.log_bytes,
    };
    let charge: Arc<dyn MemoryCharge> = shared.heap.clone();
    tokio::task::spawn_blocking(move || compiled.program.run(input, limits, charge))
        .await
        .map_err(|_| (StatusCode::INTERNAL_SERVER_ERROR, "the run's thread failed".to_string()))
}

fn log_stderr(worker: &Worker, done: &Finished) {
    for line in String::from_utf8_lossy(&done.stderr).lines().filter(|l| !l.is_empty()) {
        worker.log("error", line.to_string());
    }
    if done.stderr_dropped > 0 {
        worker.log("warn", format!("{} more bytes of stderr were dropped", done.stderr_dropped));
    }
}

/// The status of a run that ended without a response.
fn run_error_status(e: &RunError) -> StatusCode {
    match e {
        RunError::Trap(_) | RunError::Instantiate(_) => StatusCode::INTERNAL_SERVER_ERROR,
        RunError::OutputTooLarge(_) => StatusCode::BAD_GATEWAY,
        RunError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        RunError::CpuLimit(_) | RunError::MemoryLimit { .. } | RunError::MemoryBudget => {
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
