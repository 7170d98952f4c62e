//! Everything that can stop init, each naming what failed and why, so the
//! single console line printed before reboot is enough to diagnose a boot.

use std::io;
use std::path::PathBuf;

use nix::errno::Errno;
use thiserror::Error;

use crate::config::ConfigError;
use crate::heartbeat::HeartbeatError;
use crate::launch::LaunchError;

#[derive(Debug, Error)]
pub enum InitError {
    #[error("not PID 1 (pid {0}); refusing to act as init")]
    NotPid1(i32),
    #[error("create mount point {path}: {source}")]
    MountPoint { path: PathBuf, source: io::Error },
    #[error("mount {fstype} on {target}: {source}")]
    Mount { fstype: &'static str, target: PathBuf, source: Errno },
    #[error("open console {path}: {source}")]
    Console { path: &'static str, source: Errno },
    #[error("read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Launch(#[from] LaunchError),
    #[error("load kernel module {path}: {source}")]
    Module { path: PathBuf, source: Errno },
    #[error("bring up loopback: {0}")]
    Loopback(Errno),
    #[error("heartbeat to vsock CID {cid} port {port}: {source}")]
    Heartbeat { cid: u32, port: u32, source: HeartbeatError },
    #[error("switch root to {path}: {step}: {source}")]
    SwitchRoot { path: PathBuf, step: &'static str, source: Errno },
    #[error("set up signal handling: {0}")]
    Signals(Errno),
    #[error("start {program:?}: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("wait for children: {0}")]
    Wait(Errno),
}
