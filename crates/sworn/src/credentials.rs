//! The owner credentials of deployed workers, kept in a local JSON file.
//!
//! `POST /workers` answers with a credential that is the only proof of
//! ownership of the worker (`Authorization: Bearer …` for its details, logs
//! and deletion), and the runner cannot show it again. So `sworn deploy`
//! stores it here, keyed by the runner's origin and the worker's name (with
//! its id), and `sworn delete` removes it:
//!
//! ```json
//! {"version": 1, "runners": {"https://host:443": {"hello": {"id": "…", "credential": "…"}}}}
//! ```
//!
//! The file is created with mode 0600 (its directory 0700) and replaced
//! atomically (a new file, then rename). A file that group or others may
//! read or write is refused rather than used: its secrets may already have
//! leaked, and silently tightening the mode would hide that.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::target::Target;

/// The format version written and accepted.
pub const VERSION: u32 = 1;

/// Permission bits a credentials file must not have (group and others).
const FORBIDDEN_MODE: u32 = 0o077;

/// Why the credentials file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("credentials file {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "credentials file {} has mode {mode:04o}: group or others may read or write it, and it holds owner \
         credentials; refusing to use it (check who could have read it, then chmod 600 it)",
        path.display()
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error("credentials file {}: not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error("credentials file {}: {reason}", path.display())]
    Format { path: PathBuf, reason: String },
    #[error("no place for the credentials file: set XDG_CONFIG_HOME or HOME, or pass --credentials FILE")]
    NoLocation,
}

/// One worker's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub credential: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Contents {
    version: u32,
    /// Runner origin (`https://HOST:PORT`) -> worker name -> entry.
    runners: BTreeMap<String, BTreeMap<String, Entry>>,
}

/// The credentials file, read into memory.
#[derive(Debug)]
pub struct CredentialStore {
    path: PathBuf,
    contents: Contents,
}

impl CredentialStore {
    /// `$XDG_CONFIG_HOME/sworn/credentials.json`, else
    /// `~/.config/sworn/credentials.json` (XDG: a relative
    /// `XDG_CONFIG_HOME` is ignored).
    pub fn default_path() -> Result<PathBuf, CredentialsError> {
        let from = |var: &str| std::env::var_os(var).map(PathBuf::from).filter(|p| p.is_absolute());
        let config = from("XDG_CONFIG_HOME")
            .or_else(|| from("HOME").map(|h| h.join(".config")))
            .ok_or(CredentialsError::NoLocation)?;
        Ok(config.join("sworn").join("credentials.json"))
    }

    /// Reads `path`; a missing file is an empty store (created on
    /// [`Self::save`]).
    pub fn open(path: &Path) -> Result<CredentialStore, CredentialsError> {
        let io = |source| CredentialsError::Io { path: path.to_owned(), source };
        let mut file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(CredentialStore {
                    path: path.to_owned(),
                    contents: Contents { version: VERSION, ..Contents::default() },
                })
            }
            Err(e) => return Err(io(e)),
        };
        // The mode of the file opened, not of whatever the path names later.
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(CredentialsError::NotAFile { path: path.to_owned() });
        }
        let mode = meta.mode() & 0o7777;
        if mode & FORBIDDEN_MODE != 0 {
            return Err(CredentialsError::Permissions { path: path.to_owned(), mode });
        }
        let mut text = Vec::new();
        file.read_to_end(&mut text).map_err(io)?;
        let contents: Contents = serde_json::from_slice(&text)
            .map_err(|e| CredentialsError::Format { path: path.to_owned(), reason: e.to_string() })?;
        if contents.version != VERSION {
            return Err(CredentialsError::Format {
                path: path.to_owned(),
                reason: format!("version {} (this sworn reads version {VERSION})", contents.version),
            });
        }
        Ok(CredentialStore { path: path.to_owned(), contents })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entry of the worker named (or with id) `name_or_id` on `runner`,
    /// with its name.
    pub fn find(&self, runner: &Target, name_or_id: &str) -> Option<(&str, &Entry)> {
        let workers = self.contents.runners.get(&runner.to_string())?;
        workers
            .get_key_value(name_or_id)
            .or_else(|| workers.iter().find(|(_, e)| e.id == name_or_id))
            .map(|(n, e)| (n.as_str(), e))
    }

    /// Every stored worker of `runner`: name -> entry.
    pub fn workers(&self, runner: &Target) -> impl Iterator<Item = (&str, &Entry)> {
        self.contents.runners.get(&runner.to_string()).into_iter().flatten().map(|(n, e)| (n.as_str(), e))
    }

    /// Stores (or replaces) the entry of worker `name`.
    pub fn insert(&mut self, runner: &Target, name: &str, entry: Entry) {
        self.contents.runners.entry(runner.to_string()).or_default().insert(name.to_owned(), entry);
    }

    /// Removes the entry of `name_or_id`, returning it with its name.
    pub fn remove(&mut self, runner: &Target, name_or_id: &str) -> Option<(String, Entry)> {
        let key = runner.to_string();
        let name = self.find(runner, name_or_id)?.0.to_owned();
        let workers = self.contents.runners.get_mut(&key)?;
        let entry = workers.remove(&name)?;
        if workers.is_empty() {
            self.contents.runners.remove(&key);
        }
        Some((name, entry))
    }

    /// Writes the file: a new file of mode 0600 beside it, then rename, so a
    /// crash leaves the old file or the new one, never half of one. Two
    /// `sworn` processes saving at once keep the last one's view.
    pub fn save(&self) -> Result<(), CredentialsError> {
        let io = |source| CredentialsError::Io { path: self.path.clone(), source };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)?;
        }
        let mut text = serde_json::to_vec_pretty(&self.contents)
            .map_err(|e| CredentialsError::Format { path: self.path.clone(), reason: e.to_string() })?;
        text.push(b'\n');
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(format!(".tmp.{}", std::process::id()));
        let tmp = PathBuf::from(tmp_name);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn runner() -> Target {
        Target::parse("https://127.0.0.1:8443").unwrap()
    }

    #[test]
    fn entries_round_trip_through_a_0600_file_and_are_found_by_name_or_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/credentials.json");
        let mut store = CredentialStore::open(&path).unwrap();
        store.insert(&runner(), "hello", Entry { id: "w1".into(), credential: "secret".into() });
        store.save().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().mode() & 0o777, 0o700);
        let mut again = CredentialStore::open(&path).unwrap();
        assert_eq!(again.find(&runner(), "hello").unwrap().1.credential, "secret");
        assert_eq!(again.find(&runner(), "w1").unwrap().0, "hello");
        assert!(again.find(&Target::parse("https://127.0.0.1:1").unwrap(), "hello").is_none());
        assert_eq!(again.remove(&runner(), "w1").unwrap().0, "hello");
        again.save().unwrap();
        assert_eq!(CredentialStore::open(&path).unwrap().workers(&runner()).count(), 0);
    }

    #[test]
    fn a_file_others_can_read_is_refused_naming_file_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        std::fs::write(&path, r#"{"version":1,"runners":{}}"#).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = CredentialStore::open(&path).unwrap_err();
        assert!(matches!(e, CredentialsError::Permissions { mode: 0o640, .. }), "{e}");
        let text = e.to_string();
        assert!(text.contains(&path.display().to_string()) && text.contains("0640"), "{text}");
    }

    #[test]
    fn malformed_files_and_other_versions_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        for (text, want) in [("{", "credentials file"), (r#"{"version":2,"runners":{}}"#, "version 2")] {
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            let e = CredentialStore::open(&path).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }
}
