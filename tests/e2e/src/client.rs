//! The verifying client as users run it: the `sworn` binary that
//! `make test-e2e` builds and names in `SWORN_CLIENT`.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::emulator::env_path;
use crate::{io_err, Result};

#[derive(Debug, Clone)]
pub struct SwornCli {
    pub binary: PathBuf,
}

impl SwornCli {
    pub fn from_env() -> Result<SwornCli> {
        Ok(SwornCli { binary: env_path("SWORN_CLIENT", "the sworn client (make sworn)")? })
    }

    /// Runs `sworn ARGS` to the end; stdout and stderr are captured.
    pub fn run(&self, args: &[&str]) -> Result<Output> {
        Command::new(&self.binary)
            .args(args)
            .env_remove("XDG_CONFIG_HOME")
            .output()
            .map_err(io_err(format!("run {}", self.binary.display())))
    }
}

/// What a finished command said, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
