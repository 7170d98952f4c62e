//! The child to start, from `/cmd` and `/env` in nitro-cli's layout: one
//! argument (or one `KEY=VALUE`) per line.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use thiserror::Error;

/// Largest `/cmd` or `/env` file accepted.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// PATH given to the child when `/env` sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LaunchError {
    #[error("{file}: empty, no command to run")]
    EmptyCommand { file: &'static str },
    #[error("{file}: {len} bytes, more than the {MAX_FILE_BYTES}-byte limit")]
    TooLarge { file: &'static str, len: usize },
    #[error("{file} line {line}: contains a NUL byte")]
    Nul { file: &'static str, line: usize },
    #[error("{file} line {line}: expected KEY=VALUE")]
    NotAssignment { file: &'static str, line: usize },
    #[error("{file} line {line}: variable name {name:?} is not a valid name")]
    BadName { file: &'static str, line: usize, name: String },
}

/// What init runs: argv and the complete environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchSpec {
    pub argv: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
}

fn lines<'a>(file: &'static str, bytes: &'a [u8]) -> Result<Vec<&'a [u8]>, LaunchError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(LaunchError::TooLarge { file, len: bytes.len() });
    }
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    for (i, l) in lines.iter().enumerate() {
        if l.contains(&0) {
            return Err(LaunchError::Nul { file, line: i + 1 });
        }
    }
    Ok(lines)
}

/// Parses `/cmd`: each line is one argument, kept verbatim (spaces included).
pub fn parse_cmd(bytes: &[u8]) -> Result<Vec<OsString>, LaunchError> {
    const FILE: &str = "/cmd";
    let argv: Vec<OsString> = lines(FILE, bytes)?.into_iter().map(|l| OsString::from_vec(l.to_vec())).collect();
    match argv.first() {
        None => Err(LaunchError::EmptyCommand { file: FILE }),
        Some(a) if a.is_empty() => Err(LaunchError::EmptyCommand { file: FILE }),
        Some(_) => Ok(argv),
    }
}

/// Parses `/env`: `KEY=VALUE` per line; blank lines are skipped; a later
/// assignment of the same key replaces the earlier one.
pub fn parse_env(bytes: &[u8]) -> Result<Vec<(OsString, OsString)>, LaunchError> {
    const FILE: &str = "/env";
    let mut env: Vec<(OsString, OsString)> = Vec::new();
    for (i, line) in lines(FILE, bytes)?.into_iter().enumerate() {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            return Err(LaunchError::NotAssignment { file: FILE, line: i + 1 });
        };
        let (name, value) = (&line[..eq], &line[eq + 1..]);
        let valid = !name.is_empty()
            && !name[0].is_ascii_digit()
            && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(LaunchError::BadName {
                file: FILE,
                line: i + 1,
                name: String::from_utf8_lossy(name).into_owned(),
            });
        }
        let name = OsString::from_vec(name.to_vec());
        let value = OsString::from_vec(value.to_vec());
        env.retain(|(k, _)| *k != name);
        env.push((name, value));
    }
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), DEFAULT_PATH.into()));
    }
    Ok(env)
}

impl LaunchSpec {
    /// Builds the spec from the contents of `/cmd` and `/env` (absent `/env` = empty).
    pub fn parse(cmd: &[u8], env: Option<&[u8]>) -> Result<Self, LaunchError> {
        Ok(Self { argv: parse_cmd(cmd)?, env: parse_env(env.unwrap_or_default())? })
    }

    /// Sets `name` in the child's environment, replacing what `/env` said:
    /// init's own settings (from the kernel command line) win.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.into(), value.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmd_one_argument_per_line() {
        let argv = parse_cmd(b"/usr/bin/runner\n--listen\nvsock:-1:1057\nwith space\n").unwrap();
        assert_eq!(argv, ["/usr/bin/runner", "--listen", "vsock:-1:1057", "with space"]);
        // No trailing newline; an empty argument in the middle is kept.
        assert_eq!(parse_cmd(b"/bin/x\n\n-v").unwrap(), ["/bin/x", "", "-v"]);
    }

    #[test]
    fn set_env_replaces_the_env_file_value() {
        let mut spec = LaunchSpec::parse(b"/bin/x\n", Some(b"SWORN_PARENT_CID=7\nA=1\n")).unwrap();
        spec.set_env("SWORN_PARENT_CID", "2");
        let got: Vec<_> = spec.env.iter().filter(|(k, _)| k == "SWORN_PARENT_CID").map(|(_, v)| v.clone()).collect();
        assert_eq!(got, ["2"]);
        assert!(spec.env.iter().any(|(k, v)| k == "A" && v == "1"));
    }

    #[test]
    fn cmd_errors() {
        assert_eq!(parse_cmd(b""), Err(LaunchError::EmptyCommand { file: "/cmd" }));
        assert_eq!(parse_cmd(b"\n"), Err(LaunchError::EmptyCommand { file: "/cmd" }));
        assert_eq!(parse_cmd(b"\n\n-x"), Err(LaunchError::EmptyCommand { file: "/cmd" }));
        assert_eq!(parse_cmd(b"/bin/x\na\0b"), Err(LaunchError::Nul { file: "/cmd", line: 2 }));
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        assert!(matches!(parse_cmd(&big), Err(LaunchError::TooLarge { .. })));
    }

    #[test]
    fn env_assignments() {
        let env = parse_env(b"A=1\n\nB=x=y\nPATH=/bin\nA=2\nEMPTY=\n").unwrap();
        let got: Vec<(String, String)> =
            env.into_iter().map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap())).collect();
        let want = [("B", "x=y"), ("PATH", "/bin"), ("A", "2"), ("EMPTY", "")];
        assert_eq!(got, want.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }

    #[test]
    fn env_gets_default_path() {
        let env = parse_env(b"").unwrap();
        assert_eq!(env, vec![("PATH".into(), DEFAULT_PATH.into())]);
    }

    #[test]
    fn env_errors() {
        assert_eq!(parse_env(b"A=1\nnope\n"), Err(LaunchError::NotAssignment { file: "/env", line: 2 }));
        assert!(matches!(parse_env(b"=x"), Err(LaunchError::BadName { line: 1, .. })));
        assert!(matches!(parse_env(b"1A=x"), Err(LaunchError::BadName { .. })));
        assert!(matches!(parse_env(b"A-B=x"), Err(LaunchError::BadName { .. })));
        assert_eq!(parse_env(b"A=\0"), Err(LaunchError::Nul { file: "/env", line: 1 }));
    }

    #[test]
    fn spec_without_env_file() {
        let spec = LaunchSpec::parse(b"/bin/true\n", None).unwrap();
        assert_eq!(spec.argv, ["/bin/true"]);
        assert_eq!(spec.env.len(), 1);
    }
}
