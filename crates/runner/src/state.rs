//! The state journal behind `--state-dir`: one file per worker holding what
//! the runner needs to bring the worker back after the process dies (its
//! spec, id, creation time, ephemeral account key and, for owned workers,
//! the SHA-256 of the owner's credential), so a crash of the
//! runner does not lose the workers deployed to the enclave.
//!
//! In the image the directory is a tmpfs under `/run`: enclave RAM, gone
//! with the enclave, so the secret keys in it never reach a disk or the
//! host. Files are `<id>.json`, mode 0600, in a 0700 directory, written
//! atomically (temporary file, fsync, rename, fsync of the directory) so a
//! crash leaves either the old entry or the new one, never half of one.
//!
//! An entry that cannot be used (truncated, not JSON, another format
//! version, a field missing or wrong, code that does not match its
//! measurement) is reported with the file's path and the reason and
//! skipped: one bad file never stops the other workers or the runner.
//! Error messages never quote field values, so a key cannot leak through
//! them.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Map, Value};
use sworn_eth::EphemeralAccount;
use zeroize::{Zeroize, Zeroizing};

use crate::auth::CredentialHash;
use crate::registry::WorkerSpec;

/// What `format` holds in every entry.
pub const FORMAT: &str = "sworn-runner-worker";
/// The entry layout this runner writes and reads. An entry with another
/// version is skipped (reported), not guessed at.
pub const FORMAT_VERSION: u64 = 1;
/// Entry files are `<worker id>` plus this.
pub const ENTRY_SUFFIX: &str = ".json";
/// The runner's gas key (see `crate::gas`), beside the worker entries; not
/// an entry, so it has no entry suffix.
pub const GAS_KEY_FILE: &str = "gas-account.key";
/// Far more than the gas key's JSON needs.
const GAS_KEY_MAX_BYTES: u64 = 4096;
/// Temporary files are `.<id>.json` plus this; leftovers of a crash in the
/// middle of a write are removed on start.
const TEMP_SUFFIX: &str = ".tmp";

/// Why the journal directory itself cannot be used. Fatal at start: the
/// operator asked for workers to survive restarts.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot create the state directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the state directory {path}")]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the state entry {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot remove the state entry {path}")]
    Remove {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Why one entry's bytes are not a usable worker. Never carries a field's
/// value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EntryError {
    #[error("not valid JSON (truncated or corrupt): {0}")]
    Syntax(String),
    #[error("not a JSON object")]
    NotObject,
    #[error("field \"format\" is not {FORMAT:?}")]
    Format,
    #[error("format version {found} is not the supported {FORMAT_VERSION}")]
    Version { found: String },
    #[error("field {0:?} is missing")]
    Missing(&'static str),
    #[error("field {field:?}: {problem}")]
    Invalid { field: &'static str, problem: String },
    #[error("field \"measurement\" does not match the code")]
    Measurement,
    #[error("field \"ephemeralAccount\": the key does not give the recorded address")]
    AccountMismatch,
}

/// Why one file in the state directory was skipped at start.
#[derive(Debug, thiserror::Error)]
pub enum SkipReason {
    #[error("cannot read it: {0}")]
    Read(std::io::Error),
    #[error("not a regular file")]
    NotAFile,
    #[error("larger than the limit of {0} bytes")]
    TooLarge(u64),
    #[error("the name is not <worker id>{ENTRY_SUFFIX}")]
    Name,
    #[error("{0}")]
    Entry(#[from] EntryError),
    #[error("its id does not match the file name")]
    IdMismatch,
    #[error("the worker did not start: {0}")]
    Start(String),
    #[error("{0}")]
    Registry(String),
}

/// A file that was not restored, as reported in the log (and kept for the
/// API through [`Journal::skipped`]).
#[derive(Debug)]
pub struct Skipped {
    pub file: PathBuf,
    pub reason: SkipReason,
}

/// What [`Journal::load`] found.
#[derive(Debug)]
pub struct Loaded {
    /// Usable entries with their files, in file-name order.
    pub entries: Vec<(PathBuf, Entry)>,
    /// Files that are not usable entries (already logged).
    pub skipped: Vec<Skipped>,
}

/// One worker as journaled.
#[derive(Debug)]
pub struct Entry {
    pub id: String,
    /// Unix milliseconds of the original deploy (the API's `created`).
    pub created_unix_ms: u64,
    pub spec: WorkerSpec,
    pub account: Option<EphemeralAccount>,
    /// SHA-256 of the owner's credential (the credential itself is never
    /// stored). Optional: entries written before owners existed, and
    /// workers made by `POST /` or at boot, restore without an owner.
    pub owner: Option<CredentialHash>,
}

/// The serialised form; borrowed so no extra copy of the key is made.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Stored<'a> {
    format: &'static str,
    version: u64,
    id: &'a str,
    created: u64,
    measurement: String,
    name: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    code: &'a str,
    schedule: Option<&'a str>,
    /// JSON text, as `env.config` gets it.
    config: &'a str,
    /// JSON text, as `env.args` gets it.
    args: &'a str,
    ephemeral_account: Option<StoredAccount<'a>>,
    /// Hex of SHA-256 of the owner's credential; absent when unowned.
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_sha256: Option<String>,
}

#[derive(Serialize)]
struct StoredAccount<'a> {
    /// Hex of the 32-byte secp256k1 secret.
    secret: &'a str,
    /// EIP-55 address, checked against the key on restore.
    address: String,
}

/// Counts bytes, to size the output buffer exactly: a buffer that grows
/// would leave unwiped copies of the key behind in freed memory.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The bytes of `entry`'s file, wiped when dropped.
pub fn encode(entry: &Entry) -> Zeroizing<Vec<u8>> {
    let secret = entry.account.as_ref().map(|a| Zeroizing::new(hex::encode(*a.secret_bytes_for_journal())));
    let stored = Stored {
        format: FORMAT,
        version: FORMAT_VERSION,
        id: &entry.id,
        created: entry.created_unix_ms,
        measurement: entry.spec.measurement().to_hex(),
        name: entry.spec.name.as_deref(),
        kind: entry.spec.kind.as_str(),
        code: &entry.spec.code,
        schedule: entry.spec.schedule.as_ref().map(|s| s.source()),
        config: &entry.spec.config,
        args: &entry.spec.args,
        ephemeral_account: entry
            .account
            .as_ref()
            .zip(secret.as_ref())
            .map(|(a, s)| StoredAccount { secret: s.as_str(), address: a.address().to_checksum() }),
        credential_sha256: entry.owner.map(|h| hex::encode(h.as_bytes())),
    };
    let mut counter = Counter(0);
    // Serialising borrowed strings and integers into a writer cannot fail
    // except through the writer, and neither writer fails.
    let _ = serde_json::to_writer(&mut counter, &stored);
    let mut out = Zeroizing::new(Vec::with_capacity(counter.0));
    let _ = serde_json::to_writer(&mut *out, &stored);
    out
}

/// Removes a string field from `map`.
fn take_string(map: &mut Map<String, Value>, field: &'static str) -> Result<Option<String>, EntryError> {
    match map.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(EntryError::Invalid { field, problem: "must be a string".into() }),
    }
}

fn require_string(map: &mut Map<String, Value>, field: &'static str) -> Result<String, EntryError> {
    take_string(map, field)?.ok_or(EntryError::Missing(field))
}

/// Parses one entry file. Checks everything a deploy checks (through the
/// same parser as `POST /workers`) plus the measurement and the account.
pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
    // serde_json's syntax errors name a line and column, never a value.
    let value: Value = serde_json::from_slice(bytes).map_err(|e| EntryError::Syntax(e.to_string()))?;
    let Value::Object(mut map) = value else {
        return Err(EntryError::NotObject);
    };
    match map.get("version") {
        None => return Err(EntryError::Missing("version")),
        Some(Value::Number(n)) if n.as_u64() == Some(FORMAT_VERSION) => {}
        Some(Value::Number(n)) => return Err(EntryError::Version { found: n.to_string() }),
        Some(_) => return Err(EntryError::Version { found: "(not a number)".into() }),
    }
    if take_string(&mut map, "format")?.as_deref() != Some(FORMAT) {
        return Err(EntryError::Format);
    }
    // Take the key out first so it is wiped whatever fails later.
    let account = take_account(&mut map)?;
    let id = require_string(&mut map, "id")?;
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(EntryError::Invalid { field: "id", problem: "must be 1 to 64 hex digits".into() });
    }
    let created_unix_ms = match map.get("created") {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| EntryError::Invalid { field: "created", problem: "must be Unix milliseconds".into() })?,
        None => return Err(EntryError::Missing("created")),
        Some(_) => return Err(EntryError::Invalid { field: "created", problem: "must be a number".into() }),
    };
    let measurement = require_string(&mut map, "measurement")?;
    let owner = match take_string(&mut map, "credentialSha256")? {
        None => None,
        Some(text) => {
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(text.as_bytes(), &mut bytes).map_err(|_| EntryError::Invalid {
                field: "credentialSha256",
                problem: "is not 64 hex digits".into(),
            })?;
            Some(CredentialHash::from_bytes(bytes))
        }
    };
    let mut fields = Map::new();
    fields.insert("code".into(), Value::String(require_string(&mut map, "code")?));
    fields.insert("type".into(), Value::String(require_string(&mut map, "type")?));
    for field in ["name", "schedule", "config", "args"] {
        if let Some(v) = take_string(&mut map, field)? {
            fields.insert(field.into(), Value::String(v));
        }
    }
    let spec = crate::api::spec_from_fields(fields)
        .map_err(|e| EntryError::Invalid { field: e.field().unwrap_or("spec"), problem: e.to_string() })?;
    if spec.measurement().to_hex() != measurement.to_ascii_lowercase() {
        return Err(EntryError::Measurement);
    }
    Ok(Entry { id, created_unix_ms, spec, account, owner })
}

/// Takes `ephemeralAccount` out of `map`, wiping the text of the key.
fn take_account(map: &mut Map<String, Value>) -> Result<Option<EphemeralAccount>, EntryError> {
    const FIELD: &str = "ephemeralAccount";
    match map.remove(FIELD) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => stored_account(m, FIELD).map(Some),
        Some(_) => Err(EntryError::Invalid { field: FIELD, problem: "must be an object".into() }),
    }
}

/// A [`StoredAccount`] object as the key it holds (its `address` checked),
/// wiping the text of the key; errors name `field`.
fn stored_account(mut account: Map<String, Value>, field: &'static str) -> Result<EphemeralAccount, EntryError> {
    let secret = match account.remove("secret") {
        Some(Value::String(s)) => Zeroizing::new(s),
        Some(mut other) => {
            if let Value::String(s) = &mut other {
                s.zeroize();
            }
            return Err(EntryError::Invalid { field, problem: "\"secret\" must be a string".into() });
        }
        None => return Err(EntryError::Invalid { field, problem: "\"secret\" is missing".into() }),
    };
    let address = match account.remove("address") {
        Some(Value::String(s)) => s,
        _ => return Err(EntryError::Invalid { field, problem: "\"address\" must be a string".into() }),
    };
    let mut bytes = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(secret.as_bytes(), &mut *bytes)
        .map_err(|_| EntryError::Invalid { field, problem: "\"secret\" is not 64 hex digits".into() })?;
    let made = EphemeralAccount::from_secret_bytes(&bytes)
        .map_err(|_| EntryError::Invalid { field, problem: "\"secret\" is not a secp256k1 key".into() })?;
    if made.address().to_checksum() != address {
        return Err(EntryError::AccountMismatch);
    }
    Ok(made)
}

/// The state directory.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    max_entry_bytes: u64,
    /// Files skipped at start, for whoever shows them (log, API).
    skipped: Mutex<Vec<(PathBuf, String)>>,
}

impl Journal {
    /// Creates `dir` (0700) when missing and tightens it to 0700 when not.
    /// Entries larger than `max_entry_bytes` are refused on load.
    pub fn open(dir: &Path, max_entry_bytes: u64) -> Result<Journal, StateError> {
        let create = |source| StateError::CreateDir { path: dir.to_path_buf(), source };
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(create)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(create)?;
        Ok(Journal { dir: dir.to_path_buf(), max_entry_bytes, skipped: Mutex::new(Vec::new()) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry file of worker `id`.
    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{ENTRY_SUFFIX}"))
    }

    /// Writes `entry` atomically: a crash leaves the previous file or the
    /// new one, and a completed call survives a crash of the process.
    pub fn write(&self, entry: &Entry) -> Result<(), StateError> {
        self.write_file(&format!("{}{ENTRY_SUFFIX}", entry.id), &encode(entry))
    }

    /// The runner's gas key, if one is kept here.
    pub fn read_gas_key(&self) -> Result<Option<EphemeralAccount>, SkipReason> {
        let path = self.dir.join(GAS_KEY_FILE);
        let mut f = match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SkipReason::Read(e)),
        };
        let mut bytes = Zeroizing::new(Vec::with_capacity(GAS_KEY_MAX_BYTES as usize + 1));
        Read::take(&mut f, GAS_KEY_MAX_BYTES + 1).read_to_end(&mut bytes).map_err(SkipReason::Read)?;
        if bytes.len() as u64 > GAS_KEY_MAX_BYTES {
            return Err(SkipReason::TooLarge(GAS_KEY_MAX_BYTES));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => stored_account(map, GAS_KEY_FILE).map(Some).map_err(SkipReason::from),
            _ => Err(EntryError::Invalid { field: GAS_KEY_FILE, problem: "not a JSON object".into() }.into()),
        }
    }

    /// Keeps `account` as the runner's gas key (atomically, 0600).
    pub fn write_gas_key(&self, account: &EphemeralAccount) -> Result<(), StateError> {
        let secret = Zeroizing::new(hex::encode(*account.secret_bytes_for_journal()));
        let stored = StoredAccount { secret: secret.as_str(), address: account.address().to_checksum() };
        let bytes = Zeroizing::new(serde_json::to_vec(&stored).unwrap_or_default());
        self.write_file(GAS_KEY_FILE, &bytes)
    }

    /// Renames an unusable gas key file out of the way (kept for whoever
    /// looks into it; the directory dies with the enclave).
    pub fn set_gas_key_aside(&self) -> Result<(), StateError> {
        let path = self.dir.join(GAS_KEY_FILE);
        let aside = self.dir.join(format!("{GAS_KEY_FILE}.unusable"));
        fs::rename(&path, &aside).map_err(|source| StateError::Write { path, source })
    }

    /// Writes `name` in the directory atomically (temporary file, fsync,
    /// rename, fsync of the directory), mode 0600.
    fn write_file(&self, name: &str, bytes: &[u8]) -> Result<(), StateError> {
        let path = self.dir.join(name);
        let temp = self.dir.join(format!(".{name}{TEMP_SUFFIX}"));
        let failed = |source| StateError::Write { path: path.clone(), source };
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, &path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(failed(e));
        }
        self.sync_dir().map_err(failed)
    }

    /// Removes worker `id`'s entry; a missing one is fine.
    pub fn remove(&self, id: &str) -> Result<(), StateError> {
        let path = self.path_of(id);
        match fs::remove_file(&path) {
            Ok(()) => self.sync_dir().map_err(|source| StateError::Remove { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StateError::Remove { path, source }),
        }
    }

    fn sync_dir(&self) -> std::io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }

    /// Every entry in the directory, in file-name order, with the files
    /// that are not usable entries (already logged). Leftover temporary
    /// files are removed.
    pub fn load(&self) -> Result<Loaded, StateError> {
        let read_dir = |source| StateError::ReadDir { path: self.dir.clone(), source };
        let mut files: Vec<fs::DirEntry> =
            fs::read_dir(&self.dir).map_err(read_dir)?.collect::<Result<_, _>>().map_err(read_dir)?;
        files.sort_by_key(|f| f.file_name());
        let mut entries = Vec::new();
        let mut skipped = Vec::new();
        for file in files {
            let path = file.path();
            let name = file.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(TEMP_SUFFIX) {
                match fs::remove_file(&path) {
                    Ok(()) => tracing::info!("state: removed the unfinished write {}", path.display()),
                    Err(e) => tracing::warn!("state: cannot remove the unfinished write {}: {e}", path.display()),
                }
                continue;
            }
            if name == GAS_KEY_FILE {
                continue;
            }
            match self.load_one(&file, &name) {
                Ok(entry) => entries.push((path, entry)),
                Err(reason) => skipped.push(Skipped { file: path, reason }),
            }
        }
        for s in &skipped {
            self.report(s);
        }
        Ok(Loaded { entries, skipped })
    }

    fn load_one(&self, file: &fs::DirEntry, name: &str) -> Result<Entry, SkipReason> {
        let kind = file.file_type().map_err(SkipReason::Read)?;
        if !kind.is_file() {
            return Err(SkipReason::NotAFile);
        }
        let Some(stem) = name.strip_suffix(ENTRY_SUFFIX) else {
            return Err(SkipReason::Name);
        };
        let mut bytes = Zeroizing::new(Vec::new());
        let mut f =
            OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(file.path()).map_err(SkipReason::Read)?;
        let len = f.metadata().map_err(SkipReason::Read)?.len();
        if len > self.max_entry_bytes {
            return Err(SkipReason::TooLarge(self.max_entry_bytes));
        }
        // Exact capacity: growing would leave copies of the key in freed memory.
        bytes.reserve_exact(len as usize + 1);
        Read::take(&mut f, self.max_entry_bytes + 1).read_to_end(&mut bytes).map_err(SkipReason::Read)?;
        if bytes.len() as u64 > self.max_entry_bytes {
            return Err(SkipReason::TooLarge(self.max_entry_bytes));
        }
        let entry = decode(&bytes)?;
        if entry.id != stem {
            return Err(SkipReason::IdMismatch);
        }
        Ok(entry)
    }

    /// Logs `skipped` and keeps it for [`Journal::skipped`].
    pub fn report(&self, skipped: &Skipped) {
        tracing::error!("state: skipped {}: {}", skipped.file.display(), skipped.reason);
        if let Ok(mut list) = self.skipped.lock() {
            list.push((skipped.file.clone(), skipped.reason.to_string()));
        }
    }

    /// `{dir, skipped: [{file, reason}]}`: what a status endpoint shows.
    pub fn status(&self) -> Value {
        let skipped: Vec<Value> = self
            .skipped
            .lock()
            .map(|l| {
                l.iter()
                    .map(|(file, reason)| serde_json::json!({ "file": file.display().to_string(), "reason": reason }))
                    .collect()
            })
            .unwrap_or_default();
        serde_json::json!({ "dir": self.dir.display().to_string(), "skipped": skipped })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cron::Schedule;
    use crate::registry::WorkerKind;

    fn entry() -> Entry {
        let mut secret = [0u8; 32];
        secret[31] = 7;
        Entry {
            id: "0123456789abcdef".into(),
            created_unix_ms: 1_700_000_000_000,
            spec: WorkerSpec {
                name: Some("ticker".into()),
                code: "export default { scheduled() {} }".into(),
                kind: WorkerKind::Module,
                schedule: Some(Schedule::parse("*/5 * * * *").expect("schedule")),
                config: r#"{"k":[1,"two"]}"#.into(),
                args: r#"{"a":true}"#.into(),
            },
            account: Some(EphemeralAccount::from_secret_bytes(&secret).expect("key")),
            owner: Some(CredentialHash::from_bytes([0xab; 32])),
        }
    }

    fn reencode(bytes: &[u8], change: impl FnOnce(&mut Map<String, Value>)) -> Vec<u8> {
        let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(bytes) else { panic!("entry is an object") };
        change(&mut m);
        serde_json::to_vec(&Value::Object(m)).expect("json")
    }

    #[test]
    fn an_entry_round_trips_with_its_spec_and_account() {
        let original = entry();
        let back = decode(&encode(&original)).expect("decodes");
        assert_eq!(back.id, original.id);
        assert_eq!(back.created_unix_ms, original.created_unix_ms);
        assert_eq!(back.spec.name, original.spec.name);
        assert_eq!(back.spec.code, original.spec.code);
        assert_eq!(back.spec.kind, original.spec.kind);
        assert_eq!(back.spec.schedule, original.spec.schedule);
        assert_eq!(back.spec.config, original.spec.config);
        assert_eq!(back.spec.args, original.spec.args);
        let (a, b) = (back.account.expect("account"), original.account.expect("account"));
        assert_eq!(a.address(), b.address());
        assert_eq!(back.owner.map(|h| *h.as_bytes()), Some([0xab; 32]));
    }

    #[test]
    fn the_owner_is_journaled_as_a_hash_and_entries_without_one_restore_unowned() {
        let credential = crate::auth::Credential::generate().expect("random");
        let mut original = entry();
        original.owner = Some(credential.hash());
        let bytes = encode(&original);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert!(text.contains(&format!("\"credentialSha256\":\"{}\"", hex::encode(credential.hash().as_bytes()))));
        assert!(!text.contains(&credential.expose()[4..]), "the credential itself is never journaled");
        let back = decode(&bytes).expect("decodes");
        assert!(back.owner.expect("owner").matches(&credential));
        // An entry of a runner from before owners: no field, no owner.
        let old = reencode(&bytes, |m| drop(m.remove("credentialSha256")));
        assert!(decode(&old).expect("decodes").owner.is_none());
        original.owner = None;
        assert!(!String::from_utf8_lossy(&encode(&original)).contains("credentialSha256"));
        let bad = reencode(&bytes, |m| drop(m.insert("credentialSha256".into(), "zz".into())));
        let e = decode(&bad).unwrap_err();
        assert_eq!(e, EntryError::Invalid { field: "credentialSha256", problem: "is not 64 hex digits".into() });
    }

    #[test]
    fn an_entry_without_account_name_or_schedule_round_trips() {
        let mut original = entry();
        original.account = None;
        original.spec.name = None;
        original.spec.schedule = None;
        original.spec.kind = WorkerKind::ServiceWorker;
        let back = decode(&encode(&original)).expect("decodes");
        assert!(back.account.is_none() && back.spec.name.is_none() && back.spec.schedule.is_none());
        assert_eq!(back.spec.kind, WorkerKind::ServiceWorker);
    }

    #[test]
    fn a_wasi_worker_round_trips_with_its_module_and_arguments() {
        let mut original = entry();
        original.spec.kind = WorkerKind::Wasi;
        original.spec.code = "AGFzbQEAAAA=".into(); // \0asm, version 1
        original.spec.args = r#"["--verbose","two words"]"#.into();
        let back = decode(&encode(&original)).expect("decodes");
        assert_eq!(back.spec.kind, WorkerKind::Wasi);
        assert_eq!(back.spec.wasm().as_deref(), Some(&b"\0asm\x01\0\0\0"[..]));
        assert_eq!(back.spec.args, original.spec.args);
        assert_eq!(back.spec.measurement(), original.spec.measurement());
    }

    #[test]
    fn another_format_version_is_refused_by_number() {
        let bytes = reencode(&encode(&entry()), |m| {
            m.insert("version".into(), 2.into());
        });
        assert_eq!(decode(&bytes).unwrap_err(), EntryError::Version { found: "2".into() });
        let bytes = reencode(&encode(&entry()), |m| {
            m.remove("version");
        });
        assert_eq!(decode(&bytes).unwrap_err(), EntryError::Missing("version"));
    }

    #[test]
    fn a_truncated_entry_is_a_syntax_error_at_every_cut() {
        let bytes = encode(&entry());
        for cut in [0, 1, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
            assert!(matches!(decode(&bytes[..cut]), Err(EntryError::Syntax(_))), "cut at {cut}");
        }
    }

    #[test]
    fn errors_name_the_field_and_never_quote_the_key() {
        let good = encode(&entry());
        let secret_hex = {
            let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&good) else { panic!("object") };
            m["ephemeralAccount"]["secret"].as_str().expect("secret").to_string()
        };
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (reencode(&good, |m| drop(m.insert("code".into(), "export default {} // changed".into()))), "measurement"),
            (reencode(&good, |m| drop(m.remove("code"))), "code"),
            (reencode(&good, |m| drop(m.insert("schedule".into(), "61 * * * *".into()))), "schedule"),
            (reencode(&good, |m| drop(m.insert("id".into(), "../../etc".into()))), "id"),
            (
                reencode(&good, |m| {
                    m["ephemeralAccount"]["address"] = "0x0000000000000000000000000000000000000000".into();
                }),
                "ephemeralAccount",
            ),
            (reencode(&good, |m| m["ephemeralAccount"]["secret"] = 5.into()), "ephemeralAccount"),
        ];
        for (bytes, field) in cases {
            let message = decode(&bytes).unwrap_err().to_string();
            assert!(message.contains(field), "{field}: {message}");
            assert!(!message.contains(&secret_hex), "{message}");
        }
        assert!(!format!("{:?}", decode(&good).expect("good")).contains(&secret_hex));
    }

    #[test]
    fn writes_are_0600_in_a_0700_directory_and_removal_deletes_the_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("state");
        let journal = Journal::open(&dir, 1 << 20).expect("open");
        let e = entry();
        journal.write(&e).expect("write");
        let mode = |p: &Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&journal.path_of(&e.id)), 0o600);
        let loaded = journal.load().expect("load");
        assert_eq!((loaded.entries.len(), loaded.skipped.len()), (1, 0));
        journal.remove(&e.id).expect("remove");
        assert!(!journal.path_of(&e.id).exists());
        journal.remove(&e.id).expect("removing twice is fine");
    }

    #[test]
    fn load_skips_bad_files_and_removes_unfinished_writes() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let journal = Journal::open(tmp.path(), 1 << 20).expect("open");
        let e = entry();
        journal.write(&e).expect("write");
        let good = fs::read(journal.path_of(&e.id)).expect("read");
        fs::write(tmp.path().join("aaaa.json"), &good[..good.len() / 2]).expect("truncated");
        fs::write(tmp.path().join("bbbb.json"), &good).expect("id mismatch");
        fs::write(tmp.path().join("notes.txt"), b"hello").expect("garbage");
        fs::write(tmp.path().join(".cccc.json.tmp"), b"{").expect("temp");
        let loaded = journal.load().expect("load");
        assert_eq!(loaded.entries.len(), 1);
        let reasons: Vec<String> =
            loaded.skipped.iter().map(|s| format!("{}: {}", s.file.display(), s.reason)).collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].contains("aaaa.json: not valid JSON"), "{reasons:?}");
        assert!(reasons[1].contains("bbbb.json: its id does not match"), "{reasons:?}");
        assert!(reasons[2].contains("notes.txt: the name is not"), "{reasons:?}");
        assert!(!tmp.path().join(".cccc.json.tmp").exists());
        assert_eq!(journal.status()["skipped"].as_array().map(Vec::len), Some(3));
    }
}
