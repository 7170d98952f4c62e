//! An uploaded command module, checked and compiled once, and its runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use wasmtime::{ExternType, InstancePre, Linker, Module, Store, Trap, UpdateDeadline};

use crate::engine::{Runtime, MAX_WASM_STACK};
use crate::limits::{Limiter, MemoryCharge, Refusal, RunLimits, MAX_TABLE_ELEMENTS};
use crate::preview1::{self, WasiCtx};

/// The first four bytes of every WebAssembly binary module.
pub const WASM_MAGIC: &[u8] = b"\0asm";
const PAGE: u64 = 64 << 10;

/// Why an upload is not a module Sworn can run. Each names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("is not a WebAssembly module (it does not start with \\0asm)")]
    NotWasm,
    #[error("is not valid: {0}")]
    Invalid(String),
    #[error(
        "imports {module}.{name}, which Sworn does not offer \
         (a WASI command module may import only {wasi} functions)",
        wasi = preview1::MODULE
    )]
    Import { module: String, name: String },
    #[error("cannot be linked: {0}")]
    Link(String),
    #[error("exports no `_start` function of type () -> (): it is not a WASI command module")]
    NoStart,
    #[error("exports no memory named `memory`, through which WASI passes everything")]
    NoMemory,
    #[error(
        "declares {declared_mib} MiB of initial memory, more than the worker's memory limit of \
         {limit_mib} MiB (--memory-limit-mib)",
        declared_mib = .declared >> 20,
        limit_mib = .limit >> 20
    )]
    MemoryTooLarge { declared: u64, limit: u64 },
    #[error("declares a table of {declared} elements, more than the {MAX_TABLE_ELEMENTS} allowed")]
    TableTooLarge { declared: u64 },
    #[error(
        "has data segment {segment} ending at byte {end}, past the {memory} bytes of initial memory it initializes \
         (the module would trap on every run)"
    )]
    DataOutOfBounds { segment: u32, end: u64, memory: u64 },
}

/// A module that passed every upload check, compiled, with its imports
/// resolved against [`preview1`].
pub struct Program {
    pre: InstancePre<RunState>,
    runtime: Runtime,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program").finish_non_exhaustive()
    }
}

/// What one run starts with.
#[derive(Debug, Clone, Default)]
pub struct RunInput {
    /// `argv`, the program name first.
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub stdin: Bytes,
}

/// Why a run did not end by returning from `_start` or calling `proc_exit`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("the program used its CPU time limit of {0:?}")]
    CpuLimit(Duration),
    #[error("the program did not finish within {0:?}")]
    Timeout(Duration),
    #[error("the program asked for {desired_mib} MiB of memory, over its limit of {limit_mib} MiB", desired_mib = .desired >> 20, limit_mib = .limit >> 20)]
    MemoryLimit { desired: u64, limit: u64 },
    #[error("the runner's memory budget (--memory-budget-mib) had no room for the program's memory")]
    MemoryBudget,
    #[error("the program wrote more than {0} bytes to stdout")]
    OutputTooLarge(usize),
    #[error("the program trapped: {0}")]
    Trap(String),
    #[error("the program could not be started: {0}")]
    Instantiate(String),
}

/// A run's outcome with everything it wrote.
#[derive(Debug)]
pub struct Finished {
    /// The exit code, or why there is none.
    pub result: Result<i32, RunError>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Bytes of stderr beyond [`RunLimits::stderr_bytes`], not kept.
    pub stderr_dropped: usize,
    /// CPU time the run used.
    pub cpu: Duration,
}

/// A store's data: the WASI world and the memory limiter.
pub struct RunState {
    pub(crate) wasi: WasiCtx,
    limiter: Limiter,
}

/// Ends a run from inside a host call or the epoch callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Exit(i32),
    Cpu,
    Timeout,
    Output(usize),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Stop {}

/// CPU time of the calling thread.
pub(crate) fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a pointer to a
    // live, properly aligned local; CLOCK_THREAD_CPUTIME_ID is always valid.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Refuses an active data segment with a constant offset that does not fit
/// in its memory's initial size: instantiation would trap on every run, so
/// the upload is where to say so. (A segment placed by a `global.get`
/// offset is checked by the engine at instantiation: 500 per request.)
fn check_data_segments(bytes: &[u8]) -> Result<(), UploadError> {
    use wasmtime::wasmparser::{DataKind, Operator, Parser, Payload, TypeRef};
    let invalid = |e: wasmtime::wasmparser::BinaryReaderError| UploadError::Invalid(e.to_string());
    let mut memories: Vec<u64> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(invalid)? {
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    if let TypeRef::Memory(m) = import.map_err(invalid)?.ty {
                        memories.push(m.initial.saturating_mul(PAGE));
                    }
                }
            }
            Payload::MemorySection(section) => {
                for memory in section {
                    memories.push(memory.map_err(invalid)?.initial.saturating_mul(PAGE));
                }
            }
            Payload::DataSection(section) => {
                for (segment, data) in (0u32..).zip(section) {
                    let data = data.map_err(invalid)?;
                    let DataKind::Active { memory_index, offset_expr } = data.kind else { continue };
                    let mut ops = offset_expr.get_operators_reader();
                    let offset = match ops.read().map_err(invalid)? {
                        Operator::I32Const { value } => u64::from(value as u32),
                        Operator::I64Const { value } => value as u64,
                        _ => continue,
                    };
                    let memory = memories.get(memory_index as usize).copied().unwrap_or(0);
                    let end = offset.saturating_add(data.data.len() as u64);
                    if end > memory {
                        return Err(UploadError::DataOutOfBounds { segment, end, memory });
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

impl Program {
    /// Checks an upload and compiles it. `memory_limit` is the worker's
    /// memory limit, which the module's initial memory must fit.
    pub fn compile(runtime: &Runtime, bytes: &[u8], memory_limit: u64) -> Result<Program, UploadError> {
        if !bytes.starts_with(WASM_MAGIC) {
            return Err(UploadError::NotWasm);
        }
        let module = Module::new(&runtime.engine, bytes).map_err(|e| UploadError::Invalid(format!("{e:#}")))?;
        for import in module.imports() {
            let offered = import.module() == preview1::MODULE
                && matches!(import.ty(), ExternType::Func(_))
                && preview1::FUNCTIONS.contains(&import.name());
            if !offered {
                return Err(UploadError::Import { module: import.module().into(), name: import.name().into() });
            }
        }
        match module.get_export("_start") {
            Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => {}
            _ => return Err(UploadError::NoStart),
        }
        let Some(ExternType::Memory(_)) = module.get_export("memory") else { return Err(UploadError::NoMemory) };
        let required = module.resources_required();
        if let Some(min) = required.max_initial_memory_size {
            let declared = min.saturating_mul(PAGE);
            if declared > memory_limit {
                return Err(UploadError::MemoryTooLarge { declared, limit: memory_limit });
            }
        }
        if let Some(min) = required.max_initial_table_size {
            if min > MAX_TABLE_ELEMENTS as u64 {
                return Err(UploadError::TableTooLarge { declared: min });
            }
        }
        check_data_segments(bytes)?;
        let mut linker = Linker::new(&runtime.engine);
        preview1::link(&mut linker).map_err(|e| UploadError::Link(format!("{e:#}")))?;
        let pre = linker.instantiate_pre(&module).map_err(|e| UploadError::Link(format!("{e:#}")))?;
        Ok(Program { pre, runtime: runtime.clone() })
    }

    /// Runs the program once in a fresh instance, blocking the calling
    /// thread until it ends or a limit stops it.
    pub fn run(&self, input: RunInput, limits: RunLimits, charge: Arc<dyn MemoryCharge>) -> Finished {
        let started = Instant::now();
        let cpu_start = thread_cpu();
        let deadline = started + limits.wall;
        let wasi = WasiCtx::new(input.args, input.env, input.stdin, limits.stdout_bytes, limits.stderr_bytes, deadline);
        let mut store =
            Store::new(&self.runtime.engine, RunState { wasi, limiter: Limiter::new(limits.memory_bytes, charge) });
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if thread_cpu().saturating_sub(cpu_start) > limits.cpu {
                return Err(wasmtime::Error::new(Stop::Cpu));
            }
            if Instant::now() > deadline {
                return Err(wasmtime::Error::new(Stop::Timeout));
            }
            Ok(UpdateDeadline::Continue(1))
        });
        let result = match self.runtime.clock.start(&self.runtime.engine) {
            None => Err(RunError::Instantiate("the engine's epoch clock thread could not be started".into())),
            Some(_ticking) => self.call(&mut store, &limits),
        };
        let cpu = thread_cpu().saturating_sub(cpu_start);
        let state = store.into_data();
        Finished {
            result,
            stdout: state.wasi.stdout,
            stderr: state.wasi.stderr,
            stderr_dropped: state.wasi.stderr_dropped,
            cpu,
        }
    }

    fn call(&self, store: &mut Store<RunState>, limits: &RunLimits) -> Result<i32, RunError> {
        let instance = match self.pre.instantiate(&mut *store) {
            Ok(i) => i,
            Err(e) => return Err(run_error(store, limits, e, true)),
        };
        let start = instance.get_typed_func::<(), ()>(&mut *store, "_start").map_err(|e| {
            RunError::Instantiate(format!("{e:#}")) // checked at upload
        })?;
        match start.call(&mut *store, ()) {
            Ok(()) => Ok(0),
            Err(e) => match e.downcast_ref::<Stop>() {
                Some(Stop::Exit(code)) => Ok(*code),
                _ => Err(run_error(store, limits, e, false)),
            },
        }
    }
}

/// The [`RunError`] of a failed instantiation or call.
fn run_error(store: &Store<RunState>, limits: &RunLimits, e: wasmtime::Error, instantiating: bool) -> RunError {
    match e.downcast_ref::<Stop>() {
        Some(Stop::Cpu) => return RunError::CpuLimit(limits.cpu),
        Some(Stop::Timeout) => return RunError::Timeout(limits.wall),
        Some(Stop::Output(n)) => return RunError::OutputTooLarge(*n),
        Some(Stop::Exit(_)) | None => {}
    }
    // A refused memory.grow returns -1 to the program, which usually ends
    // in a trap (malloc failed, abort): the refusal is the real cause.
    match store.data().limiter.refused {
        Some(Refusal::Limit { desired }) => return RunError::MemoryLimit { desired, limit: limits.memory_bytes },
        Some(Refusal::Budget) => return RunError::MemoryBudget,
        Some(Refusal::Table { desired }) => {
            return RunError::Trap(format!("table of {desired} elements, more than {MAX_TABLE_ELEMENTS} allowed"))
        }
        None => {}
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => {
            RunError::Trap(format!("call stack exhausted (the wasm stack is limited to {} KiB)", MAX_WASM_STACK >> 10))
        }
        Some(trap) => RunError::Trap(trap.to_string()),
        None if instantiating => RunError::Instantiate(format!("{e:#}")),
        None => RunError::Trap(format!("{e:#}")),
    }
}
