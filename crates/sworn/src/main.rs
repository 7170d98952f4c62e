//! `sworn`: the verifying client of Sworn runners. Every connection checks
//! the runner's attested certificate in the TLS handshake (chain, signature,
//! PCRs, key binding) before a request is sent.
//!
//! Exit codes: 0 ok; 1 a check failed, the runner could not be reached, or
//! it answered with an error; 2 bad input (arguments, measurements file,
//! URL, nonce, key files, credentials file).

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use base64ct::Encoding;
use clap::{Args, Parser, Subcommand};
use hyper::StatusCode;
use sworn::api::DeployRequest;
use sworn::credentials::{CredentialStore, Entry};
use sworn::proxy::{Proxy, ProxyEvent};
use sworn::report::{rfc3339_ms, unauthenticated_warning, AttestReport};
use sworn::{AttestedConnection, Client, ClientCert, Error, Options, Policy, Target};
use sworn_attestation::Measurements;

#[derive(Parser)]
#[command(
    name = "sworn",
    version,
    about = "Verifying client of Sworn runners: attested TLS to the enclave, a verifying local proxy, worker management"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify the runner's attested certificate, then a fresh document for a nonce, and print the document.
    Attest {
        #[command(flatten)]
        common: Common,
        /// Nonce for the fresh document, hex (1 to 512 bytes); default: 32 random bytes.
        #[arg(long, value_name = "HEX")]
        nonce: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Serve plain HTTP locally, relaying each connection over its own verified connection.
    Connect {
        #[command(flatten)]
        common: Common,
        /// Where to listen: tcp:HOST:PORT or unix:PATH.
        #[arg(long, value_name = "tcp:HOST:PORT|unix:PATH")]
        listen: String,
    },
    /// Deploy a worker and store its owner credential.
    Deploy {
        #[command(flatten)]
        common: Common,
        /// The worker's JavaScript, or a WASI command module (`--type wasi`,
        /// the default for a `.wasm` file).
        file: PathBuf,
        /// The worker's name (with the runner's URL, the key of its stored credential).
        #[arg(long)]
        name: String,
        /// Cron expression for a scheduled handler.
        #[arg(long, value_name = "CRON")]
        schedule: Option<String>,
        /// The worker's configuration, JSON.
        #[arg(long, value_name = "JSON")]
        config: Option<String>,
        /// module (export default {fetch}), sw (service worker) or wasi
        /// (WASI command module; the default for a WebAssembly file).
        #[arg(long = "type", value_name = "module|sw|wasi", value_parser = ["module", "sw", "wasi"])]
        kind: Option<String>,
        /// A command-line argument of a wasi worker (repeat for more).
        #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
        args: Vec<String>,
        #[command(flatten)]
        store: Store,
    },
    /// List the runner's workers (and which ones you hold credentials for).
    Workers {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        store: Store,
        #[arg(long)]
        json: bool,
    },
    /// Show a worker's logs.
    Logs {
        #[command(flatten)]
        common: Common,
        /// Worker name or id.
        name: String,
        #[command(flatten)]
        store: Store,
        #[arg(long)]
        json: bool,
    },
    /// Delete a worker and forget its credential.
    Delete {
        #[command(flatten)]
        common: Common,
        /// Worker name or id.
        name: String,
        #[command(flatten)]
        store: Store,
    },
}

/// What every subcommand takes.
#[derive(Args)]
struct Common {
    /// The runner: https://HOST[:PORT].
    url: String,
    /// Measurements JSON (eif build's OUT.eif.json) whose PCRs the enclave must report.
    #[arg(long, value_name = "M.json")]
    pcrs: PathBuf,
    /// Also accept QEMU's unsigned and the development NSM's documents (nothing is then authenticated).
    #[arg(long)]
    emulator: bool,
    /// Operator client certificate (PEM) for mutual TLS.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Seconds each of connect, handshake and one HTTP exchange may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
}

#[derive(Args)]
struct Store {
    /// Credentials file (default: $XDG_CONFIG_HOME/sworn/credentials.json or ~/.config/sworn/credentials.json).
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,
}

/// Why `sworn` failed, as an exit code.
enum Failure {
    /// Exit 1: a check failed, or the network or the runner did.
    Check(anyhow::Error),
    /// Exit 2: the caller's input is wrong.
    Input(anyhow::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        if e.is_input() {
            Failure::Input(e.into())
        } else {
            Failure::Check(e.into())
        }
    }
}

fn input(e: impl Into<anyhow::Error>) -> Failure {
    Failure::Input(e.into())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let multi_thread = matches!(cli.command, Command::Connect { .. });
    let runtime = if multi_thread {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    };
    let result = match runtime {
        Ok(rt) => rt.block_on(run(cli)),
        Err(e) => Err(Failure::Check(anyhow!("cannot start the async runtime: {e}"))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Check(e)) => {
            eprintln!("sworn: error: {e:#}");
            ExitCode::from(1)
        }
        Err(Failure::Input(e)) => {
            eprintln!("sworn: bad input: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Attest { common, nonce, json } => attest(&common, nonce.as_deref(), json).await,
        Command::Connect { common, listen } => connect(&common, &listen).await,
        Command::Deploy { common, file, name, schedule, config, kind, args, store } => {
            let worker = WorkerFile { path: file, kind, args };
            deploy(&common, &store, worker, name, schedule, config.as_deref()).await
        }
        Command::Workers { common, store, json } => workers(&common, &store, json).await,
        Command::Logs { common, name, store, json } => logs(&common, &store, &name, json).await,
        Command::Delete { common, name, store } => delete(&common, &store, &name).await,
    }
}

/// The client of `common`, every input checked before any network.
fn client(common: &Common) -> Result<Client, Failure> {
    let pcrs = Measurements::image_from_file(&common.pcrs).map_err(input)?;
    let policy = if common.emulator { Policy::emulator(Some(pcrs)) } else { Policy::aws(Some(pcrs)) };
    let mut options = Options::new(policy);
    options.timeout = Duration::from_secs(common.timeout.max(1));
    if let (Some(cert), Some(key)) = (&common.cert, &common.key) {
        options.client_cert = Some(ClientCert::from_pem_files(cert, key).map_err(input)?);
    }
    Ok(Client::new(&common.url, options)?)
}

/// Opens a verified connection and says on stderr when it authenticates nothing.
async fn open(client: &Client) -> Result<AttestedConnection, Failure> {
    let conn = client.open().await?;
    if let Some(warning) = unauthenticated_warning(conn.verified()) {
        eprintln!("sworn: {warning}");
    }
    Ok(conn)
}

fn parse_nonce(text: &str) -> Result<Vec<u8>, Failure> {
    let hex_text = text.strip_prefix("0x").unwrap_or(text);
    let nonce = hex::decode(hex_text).map_err(|e| input(anyhow!("--nonce {text:?}: not hex: {e}")))?;
    if nonce.is_empty() || nonce.len() > sworn_attestation::limits::MAX_NONCE_LEN {
        return Err(input(anyhow!(
            "--nonce: {} bytes; the NSM takes 1 to {}",
            nonce.len(),
            sworn_attestation::limits::MAX_NONCE_LEN
        )));
    }
    Ok(nonce)
}

async fn attest(common: &Common, nonce: Option<&str>, json: bool) -> Result<(), Failure> {
    let nonce_given = nonce.map(parse_nonce).transpose()?;
    let client = client(common)?;
    let random_nonce = nonce_given.is_none();
    let nonce = match nonce_given {
        Some(n) => n,
        None => sworn::connection::random_nonce()?.to_vec(),
    };
    let mut conn = client.open().await?;
    let fresh = conn.fresh_attestation(&nonce).await?;
    let report = AttestReport {
        target: conn.target(),
        certificate: conn.verified(),
        certificate_check: conn.check_time(),
        fresh: &fresh,
        nonce: &nonce,
        random_nonce,
        tls_version: conn.tls_version().map(str::to_owned),
    };
    let warning = unauthenticated_warning(&fresh.verified).or_else(|| unauthenticated_warning(conn.verified()));
    if json {
        println!("{}", report.json());
    } else {
        if let Some(w) = &warning {
            println!("{w}");
        }
        print!("{}", report.human());
    }
    if let Some(w) = &warning {
        eprintln!("sworn: {w}");
    }
    Ok(())
}

async fn connect(common: &Common, listen: &str) -> Result<(), Failure> {
    let endpoint: sworn_net::Endpoint = listen.parse().map_err(|e| input(anyhow!("--listen: {e}")))?;
    if !matches!(endpoint, sworn_net::Endpoint::Tcp { .. } | sworn_net::Endpoint::Unix(_)) {
        return Err(input(anyhow!("--listen {endpoint}: only tcp:HOST:PORT and unix:PATH are supported")));
    }
    let client = client(common)?;
    let upstream = client.target().to_string();
    let events = Arc::new(|event: ProxyEvent<'_>| match event {
        ProxyEvent::Verified { peer, verified } => {
            let note = if verified.authenticated() { "" } else { " (NOT AUTHENTICATED: --emulator)" };
            eprintln!("sworn connect: {peer}: upstream verified, {:?} document{note}", verified.kind);
        }
        ProxyEvent::Closed { peer, sent, received } => {
            eprintln!("sworn connect: {peer}: closed ({sent} bytes up, {received} down)")
        }
        ProxyEvent::Refused { peer, error } => eprintln!("sworn connect: {peer}: refused, answered 502: {error}"),
        ProxyEvent::Failed { peer: Some(peer), error } => eprintln!("sworn connect: {peer}: {error}"),
        ProxyEvent::Failed { peer: None, error } => eprintln!("sworn connect: accept: {error}"),
    });
    let proxy = Proxy::bind(client, &endpoint, events).await.map_err(|e| Failure::Check(e.into()))?;
    let local = proxy.local_endpoint().map_err(|e| Failure::Check(e.into()))?;
    if common.emulator {
        let w = "WARNING: --emulator: unsigned and development documents are accepted; such connections are NOT \
                 AUTHENTICATED";
        println!("{w}");
        eprintln!("sworn connect: {w}");
    }
    println!("listening on {local}, relaying to {upstream}");
    tokio::select! {
        () = proxy.run() => Ok(()),
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C").map_err(Failure::Check),
    }
}

/// The credentials file of `store`, refused (exit 2) when unusable.
fn open_store(store: &Store) -> Result<CredentialStore, Failure> {
    let path = match &store.credentials {
        Some(p) => p.clone(),
        None => CredentialStore::default_path().map_err(input)?,
    };
    CredentialStore::open(&path).map_err(input)
}

/// A runner error, with a hint when it is about credentials.
fn runner_error(e: Error, name: &str, target: &Target, store: &CredentialStore) -> Failure {
    let hint = match &e {
        Error::Status { status, .. } if *status == StatusCode::UNAUTHORIZED || *status == StatusCode::FORBIDDEN => {
            match store.find(target, name) {
                Some(_) => format!(" (the credential in {} was refused)", store.path().display()),
                None => format!(
                    " (no credential for {name:?} of {target} in {}; deploy from here, or pass --cert/--key as an \
                     operator)",
                    store.path().display()
                ),
            }
        }
        _ => String::new(),
    };
    Failure::from(e).context_hint(hint)
}

impl Failure {
    fn context_hint(self, hint: String) -> Failure {
        if hint.is_empty() {
            return self;
        }
        match self {
            Failure::Check(e) => Failure::Check(anyhow!("{e:#}{hint}")),
            Failure::Input(e) => Failure::Input(anyhow!("{e:#}{hint}")),
        }
    }
}

/// What `sworn deploy` uploads: the file and how to run it.
struct WorkerFile {
    path: PathBuf,
    kind: Option<String>,
    args: Vec<String>,
}

impl WorkerFile {
    /// The upload's `code`, `type` and `args`: JavaScript as text; for a
    /// `wasi` worker (`--type wasi`, or a `.wasm` file) the module's bytes
    /// in base64, the runner's JSON form (it checks that they are wasm).
    fn read(self) -> anyhow::Result<(String, Option<String>, Option<serde_json::Value>)> {
        let shown = self.path.display();
        let bytes = std::fs::read(&self.path).with_context(|| format!("worker code {shown}"))?;
        let wasm_file = self.path.extension().is_some_and(|e| e == "wasm");
        let kind = self.kind.or_else(|| wasm_file.then(|| "wasi".to_string()));
        let wasi = kind.as_deref() == Some("wasi");
        if !self.args.is_empty() && !wasi {
            bail!("--arg: only a wasi worker has command-line arguments");
        }
        let code = if wasi {
            base64ct::Base64::encode_string(&bytes)
        } else {
            String::from_utf8(bytes)
                .map_err(|_| anyhow!("worker code {shown}: not UTF-8 text (a WebAssembly module needs --type wasi)"))?
        };
        let args = wasi.then(|| serde_json::json!(self.args));
        Ok((code, kind, args))
    }
}

async fn deploy(
    common: &Common,
    store: &Store,
    worker: WorkerFile,
    name: String,
    schedule: Option<String>,
    config: Option<&str>,
) -> Result<(), Failure> {
    let (code, kind, args) = worker.read().map_err(input)?;
    let config = config
        .map(|c| serde_json::from_str::<serde_json::Value>(c).map_err(|e| input(anyhow!("--config: not JSON: {e}"))))
        .transpose()?;
    // Checked before deploying: a credential with nowhere to go is lost.
    let mut creds = open_store(store)?;
    let client = client(common)?;
    let mut conn = open(&client).await?;
    let request = DeployRequest { code, name, kind, schedule, config, args };
    let deployed = conn.deploy(&request).await?;
    println!("deployed {} (id {}, code measurement {})", deployed.name, deployed.id, deployed.measurement);
    match deployed.credential {
        Some(credential) => {
            let entry = Entry { id: deployed.id.clone(), credential };
            creds.insert(client.target(), &deployed.name, entry.clone());
            if let Err(e) = creds.save() {
                // The runner cannot show it again: better on the terminal than lost.
                eprintln!("sworn: the owner credential of {} is {}", deployed.name, entry.credential);
                return Err(Failure::Check(anyhow!("{e}; the credential above was not stored")));
            }
            println!("owner credential stored in {}", creds.path().display());
        }
        None => eprintln!("sworn: the runner returned no owner credential (a runner without owner rules?)"),
    }
    Ok(())
}

async fn workers(common: &Common, store: &Store, json: bool) -> Result<(), Failure> {
    let creds = open_store(store)?;
    let client = client(common)?;
    let mut conn = open(&client).await?;
    let list = conn.workers().await?;
    if json {
        let mut rows = Vec::new();
        for w in &list {
            let mut v = serde_json::to_value(w).map_err(|e| Failure::Check(e.into()))?;
            if let Some(o) = v.as_object_mut() {
                o.insert("credentialStored".into(), creds.find(client.target(), &w.id).is_some().into());
            }
            rows.push(v);
        }
        println!("{}", serde_json::json!({ "workers": rows }));
        return Ok(());
    }
    println!("{:<20} {:<24} {:<10} MEASUREMENT", "ID", "NAME", "OWNER");
    for w in &list {
        let owned = if creds.find(client.target(), &w.id).is_some() { "stored" } else { "-" };
        println!("{:<20} {:<24} {:<10} {}", w.id, w.name, owned, w.measurement);
    }
    Ok(())
}

async fn logs(common: &Common, store: &Store, name: &str, json: bool) -> Result<(), Failure> {
    let creds = open_store(store)?;
    let client = client(common)?;
    let bearer = creds.find(client.target(), name).map(|(_, e)| e.credential.clone());
    let mut conn = open(&client).await?;
    let logs = conn.logs(name, bearer.as_deref()).await.map_err(|e| runner_error(e, name, client.target(), &creds))?;
    if json {
        println!("{}", serde_json::to_value(&logs).map_err(|e| Failure::Check(e.into()))?);
        return Ok(());
    }
    for l in &logs.lines {
        println!("{} {:<5} {}", rfc3339_ms(l.time), l.level, l.message);
    }
    if logs.dropped > 0 {
        eprintln!("sworn: the runner dropped {} older lines", logs.dropped);
    }
    Ok(())
}

async fn delete(common: &Common, store: &Store, name: &str) -> Result<(), Failure> {
    let mut creds = open_store(store)?;
    let client = client(common)?;
    let bearer = creds.find(client.target(), name).map(|(_, e)| e.credential.clone());
    let mut conn = open(&client).await?;
    conn.delete(name, bearer.as_deref()).await.map_err(|e| runner_error(e, name, client.target(), &creds))?;
    println!("deleted {name}");
    if creds.remove(client.target(), name).is_some() {
        creds.save().map_err(input)?;
        println!("credential removed from {}", creds.path().display());
    }
    Ok(())
}
