//! `eif`: build, describe, verify and extract Nitro Enclave images, and verify
//! attestation documents. Exit codes: 0 ok, 1 verification failed, 2 input
//! could not be read or parsed.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use sworn_attestation::{self as attestation, Expectations, SignedDocument, VerifyOptions};
use sworn_eif::builder::{self, BuildConfig};
use sworn_eif::inspect::{self, Description};
use sworn_eif::measurements::Measurements;
use sworn_eif::{container, cpio, metadata, ramdisk, sign};

#[derive(Parser)]
#[command(name = "eif", version, about = "Reproducible AWS Nitro Enclave images (EIF) and attestation checks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build an EIF and its measurements file OUT.eif.json.
    Build(BuildArgs),
    /// Show header, sections, CRC, metadata, PCRs and signature of an EIF.
    Describe {
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Recompute an EIF's PCRs and compare them with a measurements file.
    Verify {
        file: PathBuf,
        /// Measurements JSON (OUT.eif.json, or nitro-cli's output).
        #[arg(long)]
        measurements: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Write kernel, cmdline, metadata and ramdisks of an EIF to a directory.
    Extract {
        file: PathBuf,
        /// Output directory (created if missing).
        #[arg(long, required_unless_present = "list")]
        dir: Option<PathBuf>,
        /// List the entries of the cpio ramdisks.
        #[arg(long)]
        list: bool,
    },
    /// Nitro attestation documents.
    #[command(subcommand)]
    Attestation(AttestationCommand),
}

#[derive(Subcommand)]
enum AttestationCommand {
    /// Verify a document: chain to the pinned AWS Nitro root, ES384
    /// signature, certificate validity, and the expected PCRs/nonce/user data.
    Verify(AttestationArgs),
    /// Would Escrin's NitroEnclavePermitter grant an identity for this
    /// document? Runs acquireIdentity's checks as the contract does and
    /// prints the expiry or the contract's revert.
    Permitter(PermitterArgs),
}

#[derive(Args)]
struct PermitterArgs {
    /// The document (raw COSE_Sign1 bytes, as get-attestation returns them in hex).
    doc: PathBuf,
    /// Chain id: 31337 or 1337 skip the P-384 signature checks, as the contract does; 23293-23295 (Sapphire) check them.
    #[arg(long)]
    chain_id: u64,
    /// IdentityRegistry address (0x + 40 hex).
    #[arg(long)]
    registry: String,
    /// Identity id (0x + 64 hex).
    #[arg(long)]
    identity: String,
    /// The requester the permit is for (0x + 40 hex): the worker's account.
    #[arg(long)]
    requester: String,
    /// Measurements JSON whose PCRs make the permitter's selector hash.
    #[arg(long, conflicts_with = "pcr_hash", required_unless_present = "pcr_hash")]
    pcrs: Option<PathBuf>,
    /// The permitter's selector hash as deployed (0x + 64 hex), instead of --pcrs.
    #[arg(long)]
    pcr_hash: Option<String>,
    /// The permitter's PCR mask (bits 0-4 and 8 count).
    #[arg(long, default_value = "0x0007")]
    mask: String,
    /// Permit duration asked for, seconds (the contract allows at most 1800).
    #[arg(long, default_value_t = 1800)]
    duration: u64,
    /// Block time to check at (RFC 3339); default now.
    #[arg(long)]
    at: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct AttestationArgs {
    /// The document (raw COSE_Sign1 bytes as returned by the NSM).
    doc: PathBuf,
    /// Measurements JSON whose PCR0/1/2 (and PCR8 if present) must match.
    #[arg(long)]
    pcrs: Option<PathBuf>,
    /// Expected nonce, hex.
    #[arg(long)]
    nonce: Option<String>,
    /// Expected user_data, hex.
    #[arg(long)]
    user_data: Option<String>,
    /// Check certificate validity at this time (RFC 3339) instead of the document's timestamp.
    #[arg(long)]
    at: Option<String>,
    /// Accept QEMU's unsigned documents (PCRs, nonce and user data are still checked; nothing is authenticated).
    #[arg(long)]
    emulator: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct BuildArgs {
    /// Kernel image (bzImage).
    #[arg(long)]
    kernel: PathBuf,
    /// Kernel command line.
    #[arg(long, conflicts_with = "cmdline_file", required_unless_present = "cmdline_file")]
    cmdline: Option<String>,
    /// File holding the kernel command line (trailing newlines are dropped).
    #[arg(long)]
    cmdline_file: Option<PathBuf>,
    /// A cpio file or a directory to pack; repeat for more ramdisks (first = PCR1, rest = PCR2).
    #[arg(long, required = true)]
    ramdisk: Vec<PathBuf>,
    /// How ramdisks packed from directories are stored: `none` (cpio, as
    /// nitro-cli does) or `gzip` (the kernel needs CONFIG_RD_GZIP).
    #[arg(long, value_enum, default_value_t = ramdisk::Compression::None)]
    ramdisk_compression: ramdisk::Compression,
    /// Output EIF path; measurements go to OUTPUT.json.
    #[arg(long)]
    output: PathBuf,
    /// ImageName in the metadata (default: the output file name without .eif).
    #[arg(long)]
    name: Option<String>,
    /// ImageVersion in the metadata.
    #[arg(long, default_value = "1.0")]
    image_version: String,
    /// PEM certificate of the signing key (enables PCR8 and the signature section).
    #[arg(long, requires = "private_key")]
    signing_certificate: Option<PathBuf>,
    /// PEM P-384 private key (SEC1 or PKCS#8).
    #[arg(long, requires = "signing_certificate")]
    private_key: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("eif: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Ok(true): success; Ok(false): verification failed; Err: bad input.
fn run(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Build(a) => build(a).map(|()| true),
        Command::Describe { file, json } => {
            let d = describe_file(&file)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                print_description(&file, &d);
            }
            Ok(true)
        }
        Command::Verify { file, measurements, json } => verify(&file, &measurements, json),
        Command::Extract { file, dir, list } => extract(&file, dir.as_deref(), list).map(|()| true),
        Command::Attestation(AttestationCommand::Verify(a)) => attestation_verify(a),
        Command::Attestation(AttestationCommand::Permitter(a)) => attestation_permitter(a),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}", path.display()))
}

fn build(a: BuildArgs) -> Result<()> {
    let cmdline = match (a.cmdline, &a.cmdline_file) {
        (Some(c), _) => c.into_bytes(),
        (None, Some(f)) => {
            let mut c = read(f)?;
            while matches!(c.last(), Some(b'\n' | b'\r')) {
                c.pop();
            }
            c
        }
        (None, None) => bail!("one of --cmdline and --cmdline-file is required"),
    };
    let signer = match (&a.signing_certificate, &a.private_key) {
        (Some(c), Some(k)) => {
            let key = String::from_utf8(read(k)?).with_context(|| format!("{}: not a PEM file", k.display()))?;
            Some(sign::Signer::from_pem(read(c)?, &key).with_context(|| format!("{} / {}", c.display(), k.display()))?)
        }
        _ => None,
    };
    let name = a.name.unwrap_or_else(|| {
        let file = a.output.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        file.strip_suffix(".eif").unwrap_or(&file).to_owned()
    });
    let cfg = BuildConfig {
        kernel: a.kernel,
        cmdline,
        ramdisks: a.ramdisk,
        image_name: name,
        image_version: a.image_version,
        epoch: metadata::source_date_epoch()?,
        ramdisk_compression: a.ramdisk_compression,
        signer,
    };
    let built = builder::build(&cfg, &a.output)?;
    print!("{}", built.measurements.to_json());
    eprintln!(
        "eif: wrote {} ({} bytes) and {}",
        a.output.display(),
        built.len,
        builder::json_path(&a.output).display()
    );
    Ok(())
}

fn describe_file(file: &Path) -> Result<Description> {
    let bytes = read(file)?;
    inspect::describe(&bytes, now()).with_context(|| format!("{}", file.display()))
}

fn print_description(file: &Path, d: &Description) {
    let h = &d.header;
    println!("file          {} ({} bytes)", file.display(), d.file_size);
    println!("sha256        {}", d.sha256);
    println!(
        "header        version {}, flags {:#06x} ({}), default_mem {} MiB, default_cpus {}, {} sections",
        h.version,
        h.flags,
        h.arch,
        h.default_mem >> 20,
        h.default_cpus,
        h.num_sections
    );
    if h.crc_ok {
        println!("crc32         {} (ok)", h.crc32);
    } else {
        println!("crc32         stored {} computed {} (MISMATCH: file corrupted)", h.crc32, h.computed_crc32);
    }
    println!("sections      #  type       offset        size");
    for s in &d.sections {
        println!("              {:<2} {:<10} {:<13} {}", s.index, s.kind, s.offset, s.size);
    }
    println!("cmdline       {}", d.cmdline);
    let m = &d.metadata;
    let field = |v: &serde_json::Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
    println!("metadata      ImageName {}, ImageVersion {}", field(&m["ImageName"]), field(&m["ImageVersion"]));
    let b = &m["BuildMetadata"];
    println!(
        "              BuildTime {}, BuildTool {} {}, KernelVersion {}",
        field(&b["BuildTime"]),
        field(&b["BuildTool"]),
        field(&b["BuildToolVersion"]),
        field(&b["KernelVersion"])
    );
    let ms = &d.measurements.measurements;
    println!("PCR0          {}", ms.pcr0);
    println!("PCR1          {}", ms.pcr1);
    println!("PCR2          {}", ms.pcr2);
    if let Some(p8) = &ms.pcr8 {
        println!("PCR8          {p8}");
    }
    if let Some(sel) = &d.measurements.pcr_selector {
        println!("PcrSelector   mask {} hash {}", sel.mask, sel.hash);
    }
    match &d.signature {
        None => println!("signature     none (unsigned image)"),
        Some(s) => {
            println!("signature     certificate subject {}", s.certificate_subject);
            println!("              issuer {}", s.certificate_issuer);
            println!(
                "              valid {} to {} ({})",
                s.not_before,
                s.not_after,
                if s.certificate_valid_now { "valid now" } else { "NOT valid now" }
            );
            println!(
                "              ES384 signature {}, signed payload {}",
                if s.signature_valid { "valid" } else { "INVALID" },
                if s.payload_matches_pcr0 { "is this image's PCR0" } else { "DOES NOT MATCH this image's PCR0" }
            );
        }
    }
}

fn verify(file: &Path, measurements: &Path, json: bool) -> Result<bool> {
    let expected = Measurements::image_from_file(measurements)?;
    let d = describe_file(file)?;
    let v = inspect::verify(&d, &expected);
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        if !v.crc_ok {
            println!("FAIL crc32: stored {} computed {}", d.header.crc32, d.header.computed_crc32);
        }
        if v.signature_ok == Some(false) {
            println!("FAIL signature: does not verify or does not cover this image's PCR0");
        }
        for m in &v.mismatches {
            println!("FAIL {}:\n  expected {}\n  actual   {}", m.field, m.expected, m.actual);
        }
        for i in expected.pcrs.keys() {
            if !v.mismatches.iter().any(|m| m.field == format!("PCR{i}")) {
                println!("ok   PCR{i}");
            }
        }
        println!("{}: {}", file.display(), if v.ok() { "OK" } else { "MISMATCH" });
    }
    Ok(v.ok())
}

fn extract(file: &Path, dir: Option<&Path>, list: bool) -> Result<()> {
    let bytes = read(file)?;
    let image = container::Eif::parse(&bytes).with_context(|| format!("{}", file.display()))?;
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        let write = |name: &str, data: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, data).with_context(|| format!("{}", p.display()))
        };
        write("kernel", image.kernel())?;
        write("cmdline", image.cmdline())?;
        write("metadata.json", image.metadata())?;
        for (i, r) in image.ramdisks().iter().enumerate() {
            let gz = if r.starts_with(&ramdisk::GZIP_MAGIC) { ".gz" } else { "" };
            write(&format!("ramdisk{i}.cpio{gz}"), r)?;
        }
        if let Some(sig) = image.signature() {
            write("signature.cbor", sig)?;
        }
        eprintln!("eif: extracted {} to {}", file.display(), dir.display());
    }
    if list {
        for (i, r) in image.ramdisks().iter().enumerate() {
            let cpio = ramdisk::unpack(r).with_context(|| format!("{}: ramdisk {i}", file.display()))?;
            let how = if cpio.len() == r.len() { String::new() } else { format!(", gzip of {} bytes", cpio.len()) };
            println!("ramdisk {i} ({} bytes{how}):", r.len());
            let members = cpio::parse(&cpio).with_context(|| format!("{}: ramdisk {i}", file.display()))?;
            for m in members {
                let e = &m.entry;
                let dev = if matches!(e.mode & cpio::S_IFMT, cpio::S_IFCHR | cpio::S_IFBLK) {
                    format!("{},{}", e.rdev_major, e.rdev_minor)
                } else {
                    e.size.to_string()
                };
                match &e.link_target {
                    Some(t) => println!("  {} {}/{} {:>9} {} -> {}", e.mode_string(), e.uid, e.gid, dev, e.name, t),
                    None => println!("  {} {}/{} {:>9} {}", e.mode_string(), e.uid, e.gid, dev, e.name),
                }
            }
        }
    }
    Ok(())
}

fn hex_arg(name: &str, v: &Option<String>) -> Result<Option<Vec<u8>>> {
    v.as_deref()
        .map(|h| hex::decode(h.strip_prefix("0x").unwrap_or(h)).with_context(|| format!("--{name}: not hex")))
        .transpose()
}

/// `--NAME`: `0x` and exactly `N` bytes of hex.
fn fixed_hex<const N: usize>(name: &str, v: &str) -> Result<[u8; N]> {
    let digits = v.strip_prefix("0x").with_context(|| format!("--{name}: must start with 0x"))?;
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).with_context(|| format!("--{name}: must be 0x and {} hex digits", 2 * N))?;
    Ok(out)
}

fn rfc3339_arg(name: &str, v: &str) -> Result<i64> {
    Ok(time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .with_context(|| format!("--{name} {v:?}: not an RFC 3339 time"))?
        .unix_timestamp())
}

fn attestation_permitter(a: PermitterArgs) -> Result<bool> {
    use sworn_attestation::permitter::{AcquireCall, Permitter, SignatureCheck};
    let bytes = read(&a.doc)?;
    let mask = u16::from_str_radix(a.mask.trim_start_matches("0x"), 16)
        .with_context(|| format!("--mask {:?}: not a 16-bit hex mask", a.mask))?;
    let pcr_hash = match (&a.pcrs, &a.pcr_hash) {
        (_, Some(h)) => fixed_hex::<32>("pcr-hash", h)?,
        (Some(p), None) => {
            let m = Measurements::image_from_file(p)?;
            sworn_attestation::measurements::selector_hash(mask, |i| m.pcrs.get(&u16::from(i)).copied())
                .map_err(|i| anyhow::anyhow!("--pcrs {}: no PCR{i}, which --mask selects", p.display()))?
        }
        (None, None) => anyhow::bail!("--pcrs or --pcr-hash is required"),
    };
    let signatures = SignatureCheck::for_chain(a.chain_id).with_context(|| {
        format!("--chain-id {}: the permitter's P-384 check reverts on this chain (it runs on 1337, 31337 and Sapphire's 23293-23295)", a.chain_id)
    })?;
    let block_time = match &a.at {
        Some(t) => rfc3339_arg("at", t)?,
        None => time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let registry = fixed_hex::<20>("registry", &a.registry)?;
    let mut permitter = Permitter::new(a.chain_id, registry, mask, pcr_hash, signatures);
    let call = AcquireCall {
        identity: fixed_hex::<32>("identity", &a.identity)?,
        requester: fixed_hex::<20>("requester", &a.requester)?,
        duration: a.duration,
        document: &bytes,
        block_time: u64::try_from(block_time).context("--at: before 1970")?,
    };
    let outcome = permitter.acquire(&call);
    let checked = match signatures {
        SignatureCheck::Checked => "signatures checked",
        SignatureCheck::Skipped => "signatures skipped, as the contract does on this chain",
    };
    if a.json {
        let report = match &outcome {
            Ok(expiry) => serde_json::json!({ "ok": true, "expiry": expiry, "signatures": checked }),
            Err(r) => serde_json::json!({
                "ok": false,
                "revert": r.to_string(),
                "selector": r.selector().map(|s| format!("0x{}", hex::encode(s))),
                "signatures": checked,
            }),
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(outcome.is_ok());
    }
    match &outcome {
        Ok(expiry) => {
            println!("ok   the permitter grants the identity until {} ({checked})", metadata::rfc3339(*expiry as i64))
        }
        Err(r) => match r.selector() {
            Some(sel) => println!("FAIL {r} (0x{}; {checked})", hex::encode(sel)),
            None => println!("FAIL {r} ({checked})"),
        },
    }
    Ok(outcome.is_ok())
}

fn attestation_verify(a: AttestationArgs) -> Result<bool> {
    let bytes = read(&a.doc)?;
    let doc = SignedDocument::parse(&bytes).with_context(|| format!("{}", a.doc.display()))?;
    let pcrs = match &a.pcrs {
        Some(p) => Some(Measurements::image_from_file(p)?),
        None => None,
    };
    let want =
        Expectations { pcrs, nonce: hex_arg("nonce", &a.nonce)?, user_data: hex_arg("user-data", &a.user_data)? };
    let at = a.at.as_deref().map(|t| rfc3339_arg("at", t)).transpose()?;
    let opts = VerifyOptions { at, allow_emulator: a.emulator, ..VerifyOptions::aws() };
    let auth = attestation::verify(&doc, &opts);
    let mismatches = attestation::check_claims(&doc.document, &want);
    let ok = auth.is_ok() && mismatches.is_empty();
    let unauthenticated = matches!(&auth, Ok(x) if x.emulator_document);
    if unauthenticated {
        eprintln!("eif: WARNING: emulator document (zero signature and certificates): NOTHING WAS AUTHENTICATED.");
        eprintln!("eif: WARNING: only the PCR, nonce and user data values were compared; anyone could have made this document.");
    }
    if a.json {
        let report = serde_json::json!({
            "ok": ok,
            "authenticated": matches!(&auth, Ok(x) if x.authenticated),
            "emulator_document": doc.is_emulator_document(),
            "verification": match &auth { Ok(x) => serde_json::to_value(x)?, Err(e) => serde_json::json!({"error": e.to_string()}) },
            "mismatches": mismatches,
            "document": doc.document.to_json(),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ok);
    }
    let d = &doc.document;
    let ms = d.timestamp % 1000;
    let ts = metadata::rfc3339((d.timestamp / 1000) as i64);
    println!("module_id     {}", d.module_id);
    println!("digest        {}", d.digest);
    println!("timestamp     {} ({}.{ms:03}Z)", d.timestamp, ts.trim_end_matches('Z'));
    for (i, v) in &d.pcrs {
        if v.iter().any(|&b| b != 0) || matches!(i, 0..=4 | 8) {
            println!("PCR{i:<2}         {}", hex::encode(v));
        }
    }
    let zero = d.pcrs.iter().filter(|(i, v)| !matches!(i, 0..=4 | 8) && v.iter().all(|&b| b == 0)).count();
    if zero > 0 {
        println!("              ({zero} other PCRs are all zero)");
    }
    let opt = |v: &Option<Vec<u8>>| match v {
        None => "(none)".to_owned(),
        Some(b) if b.is_empty() => "(empty)".to_owned(),
        Some(b) => hex::encode(b),
    };
    println!("public_key    {}", opt(&d.public_key));
    println!("user_data     {}", opt(&d.user_data));
    println!("nonce         {}", opt(&d.nonce));
    match &auth {
        Ok(x) if x.authenticated => {
            for (i, c) in x.chain.iter().enumerate() {
                let label = if i + 1 == x.chain.len() { "certificate".to_owned() } else { format!("cabundle[{i}]") };
                println!("{label:<13} {} (valid {} to {})", c.subject, c.not_before, c.not_after);
            }
            println!("ok   chain to the pinned AWS Nitro root, certificates valid at {}", x.checked_at);
            println!("ok   ES384 signature");
        }
        Ok(_) => {
            println!("!!!! EMULATOR DOCUMENT: zero signature and certificates. NOT AUTHENTICATED.");
        }
        Err(e) => println!("FAIL {e}"),
    }
    for m in &mismatches {
        println!("FAIL {}:\n  expected {}\n  actual   {}", m.field, m.expected, m.actual);
    }
    if let Some(p) = &want.pcrs {
        for i in p.pcrs.keys() {
            if !mismatches.iter().any(|m| m.field == format!("PCR{i}")) {
                println!(
                    "ok   PCR{i} matches {}",
                    a.pcrs.as_deref().map(|p| p.display().to_string()).unwrap_or_default()
                );
            }
        }
    }
    for (name, w) in [("nonce", &want.nonce), ("user_data", &want.user_data)] {
        if w.is_some() && !mismatches.iter().any(|m| m.field == name) {
            println!("ok   {name}");
        }
    }
    let verdict = match (ok, unauthenticated) {
        (true, false) => "OK (authenticated)",
        (true, true) => "OK (EMULATOR: values match, NOTHING AUTHENTICATED)",
        (false, _) => "FAILED",
    };
    println!("{}: {verdict}", a.doc.display());
    Ok(ok)
}
