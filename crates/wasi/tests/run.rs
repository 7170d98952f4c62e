//! Runs of real WASI modules: `examples/wasi/cgi.c` as built by `make
//! wasi-examples`, and hostile modules written as text here.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sworn_wasi::cgi::{parse_response, request_env};
use sworn_wasi::{MemoryCharge, NoCharge, Program, RunError, RunInput, RunLimits, Runtime, UploadError};

const MIB: u64 = 1 << 20;

/// The module `make wasi-examples` built; the tests fail without it.
fn example(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("SWORN_WASI_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build/wasi"));
    let path = dir.join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run `make wasi-examples` first)", path.display()))
}

fn limits() -> RunLimits {
    RunLimits {
        cpu: Duration::from_millis(500),
        wall: Duration::from_secs(5),
        memory_bytes: 32 * MIB,
        stdout_bytes: 1 << 20,
        stderr_bytes: 4096,
    }
}

fn request(path: &str, body: &[u8]) -> RunInput {
    let headers = vec![("x-test".to_string(), "yes".to_string())];
    RunInput {
        args: vec!["cgi".into(), "--flag".into()],
        env: request_env("POST", path, "a=1", &format!("http://localhost{path}?a=1"), &headers, body.len()),
        stdin: body.to_vec().into(),
    }
}

fn cgi() -> (Runtime, Program) {
    let rt = Runtime::new().unwrap();
    let program = Program::compile(&rt, &example("cgi"), 32 * MIB).unwrap();
    (rt, program)
}

#[test]
fn a_request_goes_in_on_stdin_and_the_environment_and_the_response_comes_from_stdout() {
    let (_rt, p) = cgi();
    let done = p.run(request("/echo", b"hello body"), limits(), Arc::new(NoCharge));
    assert_eq!(done.result, Ok(0));
    let r = parse_response(&done.stdout).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.headers, vec![("Content-Type".to_string(), "text/plain".to_string())]);
    let body = String::from_utf8(r.body).unwrap();
    assert_eq!(body, "method=POST path=/echo query=a=1 x-test=yes\narg=--flag\nbody=hello body\n");
}

#[test]
fn status_exit_codes_and_stderr_come_back() {
    let (_rt, p) = cgi();
    let done = p.run(request("/status", b""), limits(), Arc::new(NoCharge));
    let r = parse_response(&done.stdout).unwrap();
    assert_eq!(r.status, 418);
    assert!(r.headers.contains(&("X-Kind".to_string(), "teapot".to_string())));

    let done = p.run(request("/exit", b""), limits(), Arc::new(NoCharge));
    assert_eq!(done.result, Ok(3));
    assert_eq!(parse_response(&done.stdout).unwrap().body, b"leaving\n");

    let done = p.run(request("/stderr", b""), limits(), Arc::new(NoCharge));
    assert_eq!(done.stderr, b"cgi: a line for the log\n");
}

#[test]
fn randomness_and_clocks_work_and_there_is_no_filesystem() {
    let (_rt, p) = cgi();
    let a = p.run(request("/random", b""), limits(), Arc::new(NoCharge));
    let b = p.run(request("/random", b""), limits(), Arc::new(NoCharge));
    let (a, b) = (parse_response(&a.stdout).unwrap().body, parse_response(&b.stdout).unwrap().body);
    assert_ne!(a[..32], b[..32], "two runs drew the same random bytes");
    let text = String::from_utf8(a).unwrap();
    assert!(text.contains("monotonic=advances"), "{text}");
    let year_2020 = 1_577_836_800u64;
    let now: u64 = text.split("realtime=").nth(1).unwrap().trim().parse().unwrap();
    assert!(now > year_2020, "{text}");

    let done = p.run(request("/files", b""), limits(), Arc::new(NoCharge));
    assert_eq!(parse_response(&done.stdout).unwrap().body, b"open=-1 dir=-1 fopen=failed\n");

    let started = Instant::now();
    let done = p.run(request("/sleep", b""), limits(), Arc::new(NoCharge));
    assert_eq!(parse_response(&done.stdout).unwrap().body, b"slept\n");
    assert!(started.elapsed() >= Duration::from_millis(50));
}

#[test]
fn an_endless_loop_is_stopped_by_the_cpu_limit() {
    let (_rt, p) = cgi();
    let done = p.run(request("/spin", b""), limits(), Arc::new(NoCharge));
    assert_eq!(done.result, Err(RunError::CpuLimit(Duration::from_millis(500))));
    assert!(done.cpu >= Duration::from_millis(500), "{:?}", done.cpu);
}

#[test]
fn memory_growth_stops_at_the_limit_and_the_budget_gets_it_back() {
    struct Counting(AtomicU64);
    impl MemoryCharge for Counting {
        fn charge(&self, bytes: u64) -> bool {
            self.0.fetch_add(bytes, Ordering::SeqCst);
            true
        }
        fn release(&self, bytes: u64) {
            self.0.fetch_sub(bytes, Ordering::SeqCst);
        }
    }
    let (_rt, p) = cgi();
    let budget = Arc::new(Counting(AtomicU64::new(0)));
    let done = p.run(request("/alloc", b""), limits(), budget.clone());
    assert!(matches!(done.result, Err(RunError::MemoryLimit { limit, .. }) if limit == 32 * MIB), "{:?}", done.result);
    assert_eq!(done.stderr, b"cgi: malloc failed\n");
    assert_eq!(budget.0.load(Ordering::SeqCst), 0, "the run's memory was not released");

    struct Full;
    impl MemoryCharge for Full {
        fn charge(&self, _: u64) -> bool {
            false
        }
        fn release(&self, _: u64) {}
    }
    let done = p.run(request("/echo", b""), limits(), Arc::new(Full));
    assert_eq!(done.result, Err(RunError::MemoryBudget));
}

#[test]
fn stack_exhaustion_and_output_floods_end_the_run_only() {
    let (_rt, p) = cgi();
    // C keeps its stack in linear memory: running off it is a memory trap.
    let done = p.run(request("/recurse", b""), limits(), Arc::new(NoCharge));
    assert!(
        matches!(&done.result, Err(RunError::Trap(m)) if m.contains("out of bounds memory access")),
        "{:?}",
        done.result
    );
    let done = p.run(request("/flood", b""), limits(), Arc::new(NoCharge));
    assert_eq!(done.result, Err(RunError::OutputTooLarge(1 << 20)));
    // The same program still answers.
    let done = p.run(request("/echo", b"x"), limits(), Arc::new(NoCharge));
    assert_eq!(done.result, Ok(0));
}

fn compile_wat(text: &str) -> Result<Program, UploadError> {
    let rt = Runtime::new().unwrap();
    Program::compile(&rt, &wat::parse_str(text).unwrap(), 32 * MIB)
}

const START: &str = r#"(memory (export "memory") 1) (func (export "_start"))"#;

#[test]
fn uploads_that_cannot_run_are_refused_with_what_is_wrong() {
    let rt = Runtime::new().unwrap();
    assert!(matches!(Program::compile(&rt, b"not wasm", MIB), Err(UploadError::NotWasm)));
    let err = Program::compile(&rt, b"\0asm\x01\0\0\0\x01\xff", MIB).unwrap_err();
    assert!(matches!(err, UploadError::Invalid(_)), "{err}");

    let err = compile_wat(&format!(r#"(module (import "env" "magic" (func)) {START})"#)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "imports env.magic, which Sworn does not offer (a WASI command module may import only \
         wasi_snapshot_preview1 functions)"
    );
    let err =
        compile_wat(&format!(r#"(module (import "wasi_snapshot_preview1" "fd_magic" (func)) {START})"#)).unwrap_err();
    assert!(matches!(err, UploadError::Import { .. }), "{err}");
    let err =
        compile_wat(&format!(r#"(module (import "wasi_snapshot_preview1" "fd_write" (func)) {START})"#)).unwrap_err();
    assert!(matches!(err, UploadError::Link(_)), "{err}");
    assert!(err.to_string().contains("fd_write"), "{err}");

    let err = compile_wat("(module)").unwrap_err();
    assert!(matches!(err, UploadError::NoStart), "{err}");
    let err = compile_wat(r#"(module (func (export "_start")))"#).unwrap_err();
    assert!(matches!(err, UploadError::NoMemory), "{err}");
    let err = compile_wat(r#"(module (memory (export "memory") 65536) (func (export "_start")))"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "declares 4096 MiB of initial memory, more than the worker's memory limit of 32 MiB (--memory-limit-mib)"
    );
    let err = compile_wat(&format!(r#"(module (table (export "t") 10000000 funcref) {START})"#)).unwrap_err();
    assert!(matches!(err, UploadError::TableTooLarge { .. }), "{err}");
    // Exported or not, a table's declared size counts.
    let err = compile_wat(&format!(r#"(module (table 10000000 funcref) {START})"#)).unwrap_err();
    assert_eq!(err, UploadError::TableTooLarge { declared: 10_000_000 });
    // One page of memory, a segment placed across its end.
    let err = compile_wat(
        r#"(module (memory (export "memory") 1) (data (i32.const 65530) "0123456789")
        (func (export "_start")))"#,
    )
    .unwrap_err();
    assert_eq!(err, UploadError::DataOutOfBounds { segment: 0, end: 65540, memory: 65536 });
    assert!(err.to_string().contains("has data segment 0 ending at byte 65540"), "{err}");
    let fits =
        r#"(module (memory (export "memory") 1) (data (i32.const 65526) "0123456789") (func (export "_start")))"#;
    assert!(compile_wat(fits).is_ok());
    assert!(compile_wat(&format!("(module {START})")).is_ok());
}

#[test]
fn a_loop_that_never_calls_the_host_a_trap_and_deep_recursion_end_with_their_reason() {
    let p = compile_wat(r#"(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))"#).unwrap();
    let done = p.run(RunInput::default(), limits(), Arc::new(NoCharge));
    assert_eq!(done.result, Err(RunError::CpuLimit(Duration::from_millis(500))));

    let p = compile_wat(r#"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#).unwrap();
    let done = p.run(RunInput::default(), limits(), Arc::new(NoCharge));
    assert!(matches!(&done.result, Err(RunError::Trap(m)) if m.contains("unreachable")), "{:?}", done.result);

    let p = compile_wat(
        r#"(module (memory (export "memory") 1)
             (func $down (param i64) (result i64) (call $down (i64.add (local.get 0) (i64.const 1))))
             (func (export "_start") (drop (call $down (i64.const 0)))))"#,
    )
    .unwrap();
    let done = p.run(RunInput::default(), limits(), Arc::new(NoCharge));
    assert!(matches!(&done.result, Err(RunError::Trap(m)) if m.contains("call stack exhausted")), "{:?}", done.result);

    let mut l = limits();
    l.cpu = Duration::from_secs(5);
    l.wall = Duration::from_millis(300);
    let p = compile_wat(r#"(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))"#).unwrap();
    let done = p.run(RunInput::default(), l, Arc::new(NoCharge));
    assert_eq!(done.result, Err(RunError::Timeout(Duration::from_millis(300))));
}

#[test]
fn guest_pointers_outside_memory_are_errors_not_crashes() {
    // fd_write with an iovec array far outside the one page of memory.
    let p = compile_wat(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "_start")
            (call $exit (call $w (i32.const 1) (i32.const 0xfffffff0) (i32.const 4) (i32.const 0)))))"#,
    )
    .unwrap();
    let done = p.run(RunInput::default(), limits(), Arc::new(NoCharge));
    assert_eq!(done.result, Ok(21), "EFAULT");
}
