//! Reproducible newc ("070701") cpio archives: the initramfs format the
//! kernel unpacks.
//!
//! [`pack_dir`] turns a directory into an archive whose bytes depend only on
//! the tree's names, contents, modes, symlink targets and device numbers:
//! entries are sorted by path bytes, owners are 0, every mtime is the given
//! timestamp, inode numbers count up from 1 in that order, hard links are
//! stored as independent files, and the host device numbers are zero.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

const MAGIC_NEWC: &[u8; 6] = b"070701";
const MAGIC_CRC: &[u8; 6] = b"070702";
const HEADER_LEN: usize = 110;
const TRAILER: &[u8] = b"TRAILER!!!";

/// File type bits of `st_mode`.
pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFIFO: u32 = 0o010000;
pub const S_IFSOCK: u32 = 0o140000;

/// Why an archive could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum CpioError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: sockets cannot be stored in a cpio archive")]
    Socket { path: PathBuf },
    #[error("{path}: file of {size} bytes exceeds the newc limit of 4 GiB")]
    TooLarge { path: PathBuf, size: u64 },
    #[error("entry at offset {offset}: bad magic {found:?} (expected 070701 or 070702)")]
    BadMagic { offset: usize, found: String },
    #[error("entry at offset {offset}: truncated {what}")]
    Truncated { offset: usize, what: &'static str },
    #[error("entry at offset {offset}: field {field} is not 8 hex digits")]
    BadField { offset: usize, field: &'static str },
    #[error("entry at offset {offset}: name is not NUL-terminated")]
    BadName { offset: usize },
    #[error("archive ends without a TRAILER!!! entry")]
    NoTrailer,
}

/// One archive member.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub name: String,
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub size: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    /// Target of a symbolic link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

impl Entry {
    /// `ls -l`-style type and permission string, e.g. `drwxr-xr-x`.
    pub fn mode_string(&self) -> String {
        let t = match self.mode & S_IFMT {
            S_IFDIR => 'd',
            S_IFLNK => 'l',
            S_IFCHR => 'c',
            S_IFBLK => 'b',
            S_IFIFO => 'p',
            S_IFSOCK => 's',
            _ => '-',
        };
        let mut s = String::with_capacity(10);
        s.push(t);
        for shift in [6u32, 3, 0] {
            let bits = (self.mode >> shift) & 7;
            s.push(if bits & 4 != 0 { 'r' } else { '-' });
            s.push(if bits & 2 != 0 { 'w' } else { '-' });
            s.push(if bits & 1 != 0 { 'x' } else { '-' });
        }
        s
    }
}

/// Appends one newc header, name and data, with the 4-byte padding.
#[allow(clippy::too_many_arguments)]
fn push_entry(
    out: &mut Vec<u8>,
    name: &[u8],
    ino: u32,
    mode: u32,
    nlink: u32,
    mtime: u32,
    rdev: (u32, u32),
    data: &[u8],
) {
    use std::fmt::Write as _;
    let mut h = String::with_capacity(HEADER_LEN);
    h.push_str("070701");
    // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
    for v in [ino, mode, 0, 0, nlink, mtime, data.len() as u32, 0, 0, rdev.0, rdev.1, name.len() as u32 + 1, 0] {
        let _ = write!(h, "{v:08X}");
    }
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(name);
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CpioError + '_ {
    move |source| CpioError::Io { path: path.to_path_buf(), source }
}

/// Collects every path under `root` (relative, root itself excluded).
fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), CpioError> {
    let dir = root.join(rel);
    for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
        let entry = entry.map_err(io_err(&dir))?;
        let rel_child = rel.join(entry.file_name());
        let is_dir = entry.file_type().map_err(io_err(&dir))?.is_dir();
        out.push(rel_child.clone());
        if is_dir {
            walk(root, &rel_child, out)?;
        }
    }
    Ok(())
}

/// Packs the tree under `root` into a reproducible newc archive.
///
/// Symbolic links are stored as links (never followed), device nodes and
/// FIFOs keep their type and device numbers, permission bits (including
/// setuid/setgid/sticky) are kept as they are on disk.
pub fn pack_dir(root: &Path, mtime: u32) -> Result<Vec<u8>, CpioError> {
    let mut paths = Vec::new();
    walk(root, Path::new(""), &mut paths)?;
    paths.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    let mut out = Vec::new();
    for (i, rel) in paths.iter().enumerate() {
        let full = root.join(rel);
        let md = fs::symlink_metadata(&full).map_err(io_err(&full))?;
        let ft = md.file_type();
        let mode = md.mode() & 0o7777;
        let ino = i as u32 + 1;
        let name = rel.as_os_str().as_bytes();
        let rdev = md.rdev();
        let (major, minor) = (dev_major(rdev), dev_minor(rdev));
        if ft.is_dir() {
            push_entry(&mut out, name, ino, S_IFDIR | mode, 2, mtime, (0, 0), &[]);
        } else if ft.is_symlink() {
            let target = fs::read_link(&full).map_err(io_err(&full))?;
            push_entry(&mut out, name, ino, S_IFLNK | 0o777, 1, mtime, (0, 0), target.as_os_str().as_bytes());
        } else if ft.is_file() {
            if md.len() > u64::from(u32::MAX) {
                return Err(CpioError::TooLarge { path: full, size: md.len() });
            }
            let data = fs::read(&full).map_err(io_err(&full))?;
            if data.len() as u64 > u64::from(u32::MAX) {
                return Err(CpioError::TooLarge { path: full, size: data.len() as u64 });
            }
            push_entry(&mut out, name, ino, S_IFREG | mode, 1, mtime, (0, 0), &data);
        } else if ft.is_char_device() {
            push_entry(&mut out, name, ino, S_IFCHR | mode, 1, mtime, (major, minor), &[]);
        } else if ft.is_block_device() {
            push_entry(&mut out, name, ino, S_IFBLK | mode, 1, mtime, (major, minor), &[]);
        } else if ft.is_fifo() {
            push_entry(&mut out, name, ino, S_IFIFO | mode, 1, mtime, (0, 0), &[]);
        } else {
            return Err(CpioError::Socket { path: full });
        }
    }
    push_entry(&mut out, TRAILER, 0, 0, 1, 0, (0, 0), &[]);
    Ok(out)
}

/// Linux `dev_t` encoding (glibc's gnu_dev_major/minor).
fn dev_major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0x0000_0fff)) as u32
}
fn dev_minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0x0000_00ff)) as u32
}

/// Parsed archive member with its data.
#[derive(Clone, Debug)]
pub struct Member<'a> {
    pub entry: Entry,
    pub data: &'a [u8],
}

fn hex_field(h: &[u8], idx: usize, field: &'static str, offset: usize) -> Result<u32, CpioError> {
    let s = &h[6 + 8 * idx..6 + 8 * idx + 8];
    std::str::from_utf8(s)
        .ok()
        .and_then(|s| u32::from_str_radix(s, 16).ok())
        .ok_or(CpioError::BadField { offset, field })
}

fn align4(x: usize) -> usize {
    x.saturating_add(3) & !3
}

/// Reads a newc archive (as the kernel does: several concatenated archives
/// and zero padding between them are allowed).
pub fn parse(bytes: &[u8]) -> Result<Vec<Member<'_>>, CpioError> {
    let mut members = Vec::new();
    let mut off = 0usize;
    let mut saw_trailer = false;
    while off < bytes.len() {
        // Zero padding between concatenated archives.
        if bytes[off] == 0 && saw_trailer {
            off += 1;
            continue;
        }
        let h = bytes.get(off..off + HEADER_LEN).ok_or(CpioError::Truncated { offset: off, what: "header" })?;
        let magic = &h[..6];
        if magic != MAGIC_NEWC && magic != MAGIC_CRC {
            return Err(CpioError::BadMagic { offset: off, found: String::from_utf8_lossy(magic).into_owned() });
        }
        const FIELDS: [&str; 13] = [
            "ino",
            "mode",
            "uid",
            "gid",
            "nlink",
            "mtime",
            "filesize",
            "devmajor",
            "devminor",
            "rdevmajor",
            "rdevminor",
            "namesize",
            "check",
        ];
        let mut v = [0u32; 13];
        for (i, f) in FIELDS.iter().enumerate() {
            v[i] = hex_field(h, i, f, off)?;
        }
        let namesize = v[11] as usize;
        let filesize = v[6] as usize;
        let name_start = off + HEADER_LEN;
        let name_raw = name_start
            .checked_add(namesize)
            .and_then(|end| bytes.get(name_start..end))
            .ok_or(CpioError::Truncated { offset: off, what: "name" })?;
        let name = match name_raw.split_last() {
            Some((0, n)) => n,
            _ => return Err(CpioError::BadName { offset: off }),
        };
        let data_start = align4(name_start + namesize);
        let data = data_start
            .checked_add(filesize)
            .and_then(|end| bytes.get(data_start..end))
            .ok_or(CpioError::Truncated { offset: off, what: "data" })?;
        off = align4(data_start + filesize);
        if name == TRAILER {
            saw_trailer = true;
            continue;
        }
        saw_trailer = false;
        let mode = v[1];
        let link_target = (mode & S_IFMT == S_IFLNK).then(|| String::from_utf8_lossy(data).into_owned());
        members.push(Member {
            entry: Entry {
                name: String::from_utf8_lossy(OsStr::from_bytes(name).as_bytes()).into_owned(),
                ino: v[0],
                mode,
                uid: v[2],
                gid: v[3],
                nlink: v[4],
                mtime: v[5],
                size: v[6],
                rdev_major: v[9],
                rdev_minor: v[10],
                link_target,
            },
            data,
        });
    }
    if !saw_trailer {
        return Err(CpioError::NoTrailer);
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        fs::create_dir_all(p.join("dev")).unwrap();
        fs::create_dir_all(p.join("etc/sub")).unwrap();
        fs::write(p.join("init"), b"#!/bin/sh\n").unwrap();
        fs::set_permissions(p.join("init"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(p.join("etc/sub/conf"), b"a=b").unwrap();
        fs::set_permissions(p.join("etc/sub/conf"), fs::Permissions::from_mode(0o640)).unwrap();
        symlink("../init", p.join("etc/init-link")).unwrap();
        d
    }

    #[test]
    fn packs_sorted_deterministic_entries() {
        let d = tree();
        let a = pack_dir(d.path(), 0).unwrap();
        let m = parse(&a).unwrap();
        let names: Vec<_> = m.iter().map(|m| m.entry.name.as_str()).collect();
        assert_eq!(names, ["dev", "etc", "etc/init-link", "etc/sub", "etc/sub/conf", "init"]);
        let inos: Vec<_> = m.iter().map(|m| m.entry.ino).collect();
        assert_eq!(inos, [1, 2, 3, 4, 5, 6]);
        assert!(m.iter().all(|m| m.entry.uid == 0 && m.entry.gid == 0 && m.entry.mtime == 0));
        assert_eq!(m[5].entry.mode, S_IFREG | 0o755);
        assert_eq!(m[5].data, b"#!/bin/sh\n");
        assert_eq!(m[4].entry.mode, S_IFREG | 0o640);
        assert_eq!(m[2].entry.link_target.as_deref(), Some("../init"));
        assert_eq!(m[0].entry.mode, S_IFDIR | (md_mode(d.path(), "dev") & 0o7777));
        assert_eq!(m[5].entry.mode_string(), "-rwxr-xr-x");
        assert_eq!(m[2].entry.mode_string(), "lrwxrwxrwx");
        // The header of the first entry, byte for byte.
        assert_eq!(&a[..6], b"070701");
        assert_eq!(a.len() % 4, 0);
        // Same tree, later mtimes on disk: same bytes.
        fs::write(d.path().join("etc/sub/conf"), b"a=b").unwrap();
        assert_eq!(pack_dir(d.path(), 0).unwrap(), a);
        // SOURCE_DATE_EPOCH changes only the mtime fields.
        let b = pack_dir(d.path(), 1_700_000_000).unwrap();
        assert!(parse(&b).unwrap().iter().all(|m| m.entry.mtime == 1_700_000_000));
    }

    fn md_mode(root: &Path, rel: &str) -> u32 {
        fs::symlink_metadata(root.join(rel)).unwrap().mode()
    }

    #[test]
    fn packs_device_nodes_when_root() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("dev")).unwrap();
        let console = d.path().join("dev/console");
        let c = std::ffi::CString::new(console.as_os_str().as_bytes()).unwrap();
        // mknod needs CAP_MKNOD; skip the check where it is not available.
        let dev = (5u64 << 8) | 1;
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        if unsafe { libc_mknod(c.as_ptr(), S_IFCHR | 0o600, dev) } != 0 {
            eprintln!("mknod not permitted here; device node packing not exercised");
            return;
        }
        let a = pack_dir(d.path(), 0).unwrap();
        let m = parse(&a).unwrap();
        assert_eq!(m[1].entry.name, "dev/console");
        assert_eq!(m[1].entry.mode, S_IFCHR | 0o600);
        assert_eq!((m[1].entry.rdev_major, m[1].entry.rdev_minor), (5, 1));
    }

    extern "C" {
        #[link_name = "mknod"]
        fn libc_mknod(path: *const std::os::raw::c_char, mode: u32, dev: u64) -> i32;
    }

    #[test]
    fn parse_rejects_garbage_with_offsets() {
        assert!(matches!(parse(b"hello"), Err(CpioError::Truncated { offset: 0, .. })));
        let mut bad = vec![b'0'; 120];
        bad[..6].copy_from_slice(b"123456");
        assert!(matches!(parse(&bad), Err(CpioError::BadMagic { offset: 0, .. })));
        let d = tree();
        let a = pack_dir(d.path(), 0).unwrap();
        assert!(matches!(parse(&a[..a.len() - 200]), Err(CpioError::Truncated { .. })));
        let mut z = a.clone();
        z[6] = b'Z';
        assert!(matches!(parse(&z), Err(CpioError::BadField { offset: 0, field: "ino" })));
        // A huge filesize must not allocate or panic.
        let mut h = a.clone();
        h[54..62].copy_from_slice(b"FFFFFFFF");
        assert!(matches!(parse(&h), Err(CpioError::Truncated { offset: 0, what: "data" })));
        assert!(matches!(parse(&[]), Err(CpioError::NoTrailer)));
    }
}
