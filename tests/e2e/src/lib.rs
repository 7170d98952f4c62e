//! Harness for the emulator end-to-end tests: boots an EIF in QEMU's
//! `nitro-enclave` machine (TCG) with `vhost-device-vsock` as its vsock
//! backend, answers the boot heartbeat, and reaches guest vsock ports through
//! the backend's unix-socket `CONNECT` protocol; it runs the `sworn` client
//! against the runner's attested TLS, also through a man in the middle.
//!
//! Every wait has a deadline, and QEMU and the backend run in their own
//! process groups, killed when their guard drops (also on panic).

#![forbid(unsafe_code)]

pub mod bridge;
pub mod client;
pub mod console;
pub mod emulator;
pub mod hostserver;
pub mod http;
pub mod mitm;
pub mod process;
pub mod tempdir;

pub use emulator::{BootOptions, Enclave, ImageInputs, ProxyOptions, Tools};
pub use tempdir::TempDir;

use std::time::Duration;

/// Errors of the harness; each names what it waited for or ran.
#[derive(Debug, thiserror::Error)]
pub enum E2eError {
    #[error("environment variable {0} is not set (run the emulator tests with `make test-e2e`)")]
    MissingEnv(&'static str),
    #[error("{what}: {path} does not exist")]
    MissingFile { what: &'static str, path: String },
    #[error("start {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, String),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("{0}")]
    Protocol(String),
    #[error("{name} exited early: {status}")]
    Exited { name: &'static str, status: std::process::ExitStatus },
}

pub type Result<T> = std::result::Result<T, E2eError>;

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> E2eError {
    let context = context.into();
    move |source| E2eError::Io { context, source }
}
