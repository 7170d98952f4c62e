//! The `host-proxy` binary: flags, logging, file limits, runtime.

#![forbid(unsafe_code)]

use clap::Parser;
use sworn_host_proxy::config::{Cli, Config, LogFormat};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let cfg = match Config::from_cli(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("host-proxy: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if cli.check {
        print!("{}", cfg.summary());
        return std::process::ExitCode::SUCCESS;
    }
    let builder = tracing_subscriber::fmt()
        .with_max_level(cfg.log_level)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match cfg.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    raise_nofile_limit();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("host-proxy: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(sworn_host_proxy::run(cli, cfg)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("host-proxy: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Each connection costs two descriptors: raise the soft limit to the hard
/// one so `max_connections` is reachable.
fn raise_nofile_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            if let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
                tracing::warn!(error = %e, "could not raise RLIMIT_NOFILE");
            }
        }
    }
}
