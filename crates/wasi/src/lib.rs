//! WASI preview 1 command modules as Sworn workers, the way an Enarx keep
//! runs a workload: uploaded once, compiled ahead by Cranelift inside the
//! enclave, then run once per request (or scheduled event) in a fresh
//! instance with the request on stdin and in the environment, the response
//! read from stdout as a CGI header block and body (see [`cgi`]).
//!
//! The host side of WASI is ours ([`preview1`]) rather than `wasmtime-wasi`,
//! because Sworn offers a much smaller world than a general WASI host, and
//! every call is a place where the limits must hold: stdin, stdout and
//! stderr only (stdout and stderr bounded), arguments and environment, the
//! clocks, randomness, sleeping in `poll_oneoff`, exit. There is no
//! filesystem (no preopened directory, so every `path_*` call fails with
//! `EBADF`) and no socket (`sock_*` fail with `ENOTSUP`).
//!
//! Limits ([`RunLimits`]): CPU time of the running thread and wall-clock
//! time, checked on every epoch tick (10 ms) by an epoch deadline, so an
//! infinite loop ends in at most one tick past its limit; linear memory
//! capped per run and charged to the runner's budget ([`MemoryCharge`]);
//! the wasm stack capped by the engine (stack exhaustion is a trap, not a
//! crash).

pub mod cgi;
mod engine;
mod limits;
pub mod preview1;
mod program;

pub use engine::Runtime;
pub use limits::{MemoryCharge, NoCharge, RunLimits};
pub use program::{Finished, Program, RunError, RunInput, UploadError, WASM_MAGIC};
