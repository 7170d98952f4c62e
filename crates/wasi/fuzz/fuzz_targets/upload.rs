//! The upload path of a `wasi` worker and the runs that follow: any bytes,
//! and wasm-smith modules shaped like WASI commands (importing preview-1
//! functions, exporting `_start` and `memory`), go through
//! `Program::compile` with the runner's checks; what compiles is run once
//! under tight limits. Nothing may panic, and every run must end.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sworn_wasi::{NoCharge, Program, RunInput, RunLimits, Runtime};

const MIB: u64 = 1 << 20;

/// Imports wasm-smith may use: a few preview-1 functions with their real
/// types, and one it must not (an unknown import the checks refuse).
const IMPORTS: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
  (import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "env" "unknown" (func)))"#;

/// The exports of a WASI command.
const EXPORTS: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "_start")))"#;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new().unwrap_or_else(|e| panic!("{e}")))
}

fn shapes() -> &'static (Vec<u8>, Vec<u8>) {
    static SHAPES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let parse = |t| wat::parse_str(t).unwrap_or_else(|e| panic!("{e}"));
        (parse(IMPORTS), parse(EXPORTS))
    })
}

/// A module from the input: the raw bytes, or a wasm-smith module.
fn module(data: &[u8]) -> Result<Vec<u8>> {
    let mut u = Unstructured::new(data);
    if !u.arbitrary::<bool>()? {
        return Ok(u.take_rest().to_vec());
    }
    let mut config: wasm_smith::Config = u.arbitrary()?;
    let (imports, exports) = shapes();
    config.available_imports = Some(imports.clone());
    if u.arbitrary::<bool>()? {
        config.exports = Some(exports.clone());
    }
    config.threads_enabled = false;
    config.max_memories = config.max_memories.min(2);
    config.max_memory32_bytes = config.max_memory32_bytes.min(64 * MIB);
    config.max_memory64_bytes = config.max_memory64_bytes.min(u128::from(64 * MIB));
    config.max_data_segments = config.max_data_segments.min(16);
    Ok(wasm_smith::Module::new(config, &mut u)?.to_bytes())
}

fuzz_target!(|data: &[u8]| {
    let Ok(bytes) = module(data) else { return };
    let Ok(program) = Program::compile(runtime(), &bytes, 16 * MIB) else { return };
    let limits = RunLimits {
        cpu: Duration::from_millis(20),
        wall: Duration::from_millis(200),
        memory_bytes: 16 * MIB,
        stdout_bytes: 64 << 10,
        stderr_bytes: 4 << 10,
    };
    let input = RunInput {
        args: vec!["fuzz".into()],
        env: vec![("PATH_INFO".into(), "/".into())],
        stdin: data.to_vec().into(),
    };
    let _ = program.run(input, limits, Arc::new(NoCharge));
});
