//! Input files of `eif build`, mapped read-only instead of copied.
//!
//! A 22 MiB build spends more time copying its inputs into fresh heap pages
//! (page faults, zeroing, copy) than the CRC costs; a read-only mapping
//! populated up front (`MAP_POPULATE`) hands the page cache to the hashing
//! and writing threads directly.
//!
//! A mapping sees later changes of the file, so [`Input::unchanged`] lets the
//! builder check, after it has hashed and written everything, that no input
//! was modified meanwhile (size, mtime, ctime, inode). A file *truncated*
//! while mapped makes the process die with SIGBUS before anything is renamed
//! into place; the temporary output file is left behind in that case.

use std::fs::{File, Metadata};
use std::io;
use std::ops::Deref;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Bytes of an input: a read-only mapping of a file, or bytes built in memory
/// (a packed directory, a command line).
pub enum Input {
    Mapped { map: Mapping, file: File, stamp: Stamp },
    Owned(Vec<u8>),
}

impl Input {
    /// Maps the regular file at `path`; anything else (pipes, character
    /// devices, files that cannot be mapped) is read instead.
    pub fn open(path: &Path) -> io::Result<Input> {
        let file = File::open(path)?;
        let md = file.metadata()?;
        let len = usize::try_from(md.len()).map_err(|_| io::Error::other("file too large to map"))?;
        if md.is_file() {
            if let Ok(map) = Mapping::new(&file, len) {
                return Ok(Input::Mapped { map, stamp: Stamp::of(&md), file });
            }
        }
        let mut v = Vec::new();
        io::Read::read_to_end(&mut &file, &mut v)?;
        Ok(Input::Owned(v))
    }

    /// Whether a mapped file still has the size, times and inode it had when
    /// it was mapped (always true for owned bytes).
    pub fn unchanged(&self) -> io::Result<bool> {
        match self {
            Input::Mapped { file, stamp, .. } => Ok(Stamp::of(&file.metadata()?) == *stamp),
            Input::Owned(_) => Ok(true),
        }
    }
}

impl Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Input::Mapped { map, .. } => map,
            Input::Owned(v) => v,
        }
    }
}

/// What identifies a file's contents cheaply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(md: &Metadata) -> Stamp {
        Stamp {
            dev: md.dev(),
            ino: md.ino(),
            len: md.len(),
            mtime: (md.mtime(), md.mtime_nsec()),
            ctime: (md.ctime(), md.ctime_nsec()),
        }
    }
}

/// A private read-only mapping of a whole file.
pub struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is read-only and owned; sharing `&[u8]` views of it
// between threads is as safe as sharing a `&[u8]` of a `Vec`.
unsafe impl Send for Mapping {}
// SAFETY: as for `Send`: nothing writes through the mapping once it exists.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes of `file`, page tables populated.
    fn new(file: &File, len: usize) -> io::Result<Mapping> {
        if len == 0 {
            return Ok(Mapping { ptr: std::ptr::null_mut(), len: 0 });
        }
        // SAFETY: a fresh mapping at an address the kernel picks; it is only
        // ever read, and unmapped once in `drop`.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_POPULATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping { ptr, len })
    }
}

impl Deref for Mapping {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` maps `len` readable bytes for the life of `self`.
        // Another process writing the file changes these bytes under us;
        // the builder detects that afterwards (`Input::unchanged`) and fails.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: unmaps exactly what `new` mapped; no view outlives `self`.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_files_and_detects_changes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello").unwrap();
        let i = Input::open(&p).unwrap();
        assert!(matches!(i, Input::Mapped { .. }));
        assert_eq!(&*i, b"hello");
        assert!(i.unchanged().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::OpenOptions::new().write(true).open(&p).and_then(|mut f| io::Write::write_all(&mut f, b"J")).unwrap();
        assert_eq!(&*i, b"Jello");
        assert!(!i.unchanged().unwrap());
    }

    #[test]
    fn empty_files_map_to_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e");
        std::fs::write(&p, b"").unwrap();
        let i = Input::open(&p).unwrap();
        assert_eq!(&*i, b"");
        assert!(i.unchanged().unwrap());
    }
}
