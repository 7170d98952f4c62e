//! `eif build`: inputs -> reproducible EIF + measurements.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::container::{EifError, EifWriter, SectionType};
use crate::cpio::{self, CpioError};
use crate::input::Input;
use crate::measurements::{self, MeasurementsFile};
use crate::metadata::Metadata;
use crate::pcr::{self, Pcrs};
use crate::ramdisk::Compression;
use crate::sign::{SignError, Signer};

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("ramdisk {path}: {source}")]
    Ramdisk { path: PathBuf, source: CpioError },
    #[error("at least one ramdisk is required")]
    NoRamdisk,
    #[error("cmdline must not contain NUL bytes")]
    CmdlineNul,
    #[error(transparent)]
    Layout(#[from] EifError),
    #[error("signing: {0}")]
    Sign(#[from] SignError),
    #[error("{path}: changed while the image was being built")]
    InputChanged { path: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io { path: path.to_path_buf(), source }
}

/// Everything that determines an image.
pub struct BuildConfig {
    pub kernel: PathBuf,
    pub cmdline: Vec<u8>,
    /// cpio files or directories, in order.
    pub ramdisks: Vec<PathBuf>,
    pub image_name: String,
    pub image_version: String,
    /// `SOURCE_DATE_EPOCH`: cpio mtimes and `BuildTime`.
    pub epoch: u32,
    /// How ramdisks packed from directories are stored.
    pub ramdisk_compression: Compression,
    pub signer: Option<Signer>,
}

/// Result of a build.
pub struct Built {
    pub pcrs: Pcrs,
    pub sha256: [u8; 32],
    pub len: u64,
    pub measurements: MeasurementsFile,
}

/// Loads a ramdisk: a directory is packed into a reproducible cpio, stored
/// with `compression`; a file is taken as it is (mapped, not copied).
pub fn load_ramdisk(path: &Path, epoch: u32, compression: Compression) -> Result<Input, BuildError> {
    let md = fs::metadata(path).map_err(io_err(path))?;
    if md.is_dir() {
        cpio::pack_dir(path, epoch)
            .map(|cpio| Input::Owned(compression.apply(cpio)))
            .map_err(|source| BuildError::Ramdisk { path: path.to_path_buf(), source })
    } else {
        Input::open(path).map_err(io_err(path))
    }
}

/// The sections of an image, in memory.
pub struct Parts<'a> {
    pub kernel: &'a [u8],
    pub cmdline: &'a [u8],
    pub metadata: &'a [u8],
    pub ramdisks: Vec<&'a [u8]>,
}

/// SHA-256 of the file `w` writes, from the bytes in memory.
fn file_sha256(w: &EifWriter<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    w.for_each_chunk(|chunk| h.update(chunk));
    h.finalize().into()
}

fn layout<'a>(parts: &Parts<'a>, signature: Option<&'a [u8]>) -> Result<EifWriter<'a>, EifError> {
    let mut sections = vec![
        (SectionType::Kernel, parts.kernel),
        (SectionType::Cmdline, parts.cmdline),
        (SectionType::Metadata, parts.metadata),
    ];
    sections.extend(parts.ramdisks.iter().map(|r| (SectionType::Ramdisk, *r)));
    if let Some(sig) = signature {
        sections.push((SectionType::Signature, sig));
    }
    EifWriter::new(0, sections)
}

fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Creates `tmp` and writes the image into it, one `write` per section.
///
/// On ext4, renaming a file over another makes the `rename` call flush the
/// new file (the `auto_da_alloc` safety net: it allocates its blocks and
/// starts its writeback) and evict the old file's cached pages; for a 22 MiB
/// image that was about 15 ms, a third of the build, after all the hashing.
/// When `out` exists, both are started here instead, on the writing thread
/// while the others still hash: the cached pages of the image about to be
/// replaced are dropped (`POSIX_FADV_DONTNEED`, a hint; its data on disk
/// stays as it is until the rename), and writeback of the new file is
/// started (`SYNC_FILE_RANGE_WRITE`, which does not wait for the disk).
/// Neither is an fsync: durability is what it was (nothing beyond the atomic
/// rename). When `out` does not exist, the rename forces nothing, and
/// neither is done.
fn write_file(w: &EifWriter<'_>, tmp: &Path, out: &Path) -> Result<(), BuildError> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let existing = fs::symlink_metadata(out).ok();
    // Only a regular file (not what a symlink points to, never a FIFO).
    if existing.as_ref().is_some_and(fs::Metadata::is_file) {
        let old = fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(out);
        if let Ok(old) = old {
            // SAFETY: a plain syscall on an open descriptor; the result is a hint's.
            unsafe { libc::posix_fadvise(old.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        }
    }
    let written = fs::File::create(tmp).and_then(|mut f| {
        w.write_to(&mut f)?;
        if existing.is_some() {
            // SAFETY: as above; a failure (no writeback on this filesystem) is harmless.
            unsafe { libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
        }
        Ok(())
    });
    written.map_err(|e| {
        let _ = fs::remove_file(tmp);
        io_err(tmp)(e)
    })
}

/// Measures, signs and writes `parts` to `out` (via a temporary file in the
/// same directory, renamed into place), then writes `out.json`.
///
/// Unsigned images (whose bytes do not depend on the PCRs) are measured,
/// hashed and written at once, every pass reading the same input bytes
/// (mapped files, no copies): on this thread the PCRs (PCR0/PCR1 are one
/// SHA-384 pass, the hasher state taken after ramdisk 0; PCR2's pass runs
/// beside it in the vector unit where the CPU allows, see
/// [`pcr::one_pass`], else on the second thread); on a second thread the
/// file's SHA-256; on a third the CRC and the file write. For signed images
/// the PCRs come first (the signature covers PCR0), then the write and the
/// SHA-256 run side by side.
///
/// `inputs_unchanged` is called once everything is hashed and written, before
/// the rename: it fails the build if an input file changed meanwhile.
pub fn write_image(
    parts: &Parts<'_>,
    signer: Option<&Signer>,
    out: &Path,
    inputs_unchanged: &dyn Fn() -> Result<(), BuildError>,
) -> Result<Built, BuildError> {
    write_image_with(parts, signer, out, inputs_unchanged, crate::sha384::pair_is_fast())
}

/// [`write_image`], with PCR0 and PCR2 in one pass on one thread (`one_pass`)
/// or on two threads.
fn write_image_with(
    parts: &Parts<'_>,
    signer: Option<&Signer>,
    out: &Path,
    inputs_unchanged: &dyn Fn() -> Result<(), BuildError>,
    one_pass: bool,
) -> Result<Built, BuildError> {
    if parts.ramdisks.is_empty() {
        return Err(BuildError::NoRamdisk);
    }
    let tmp = tmp_path(out);
    let tmp = tmp.as_path();
    let ramdisks = &parts.ramdisks[..];
    let signature;
    let (pcrs, len, sha256) = match signer {
        None => {
            // Where PCR0 and PCR2 are hashed side by side on this thread, a
            // second thread writes the file and then hashes it (SHA-256), so
            // this one has a core to itself. Elsewhere this thread hashes
            // PCR0/PCR1, a second PCR2 and then the file's SHA-256, a third
            // writes the file.
            // The layout computes the CRC, which the header holds: a separate
            // SHA-256 thread waits for it (`ready`).
            let laid_out = std::sync::OnceLock::new();
            let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<()>(1);
            std::thread::scope(|s| {
                let laid_out = &laid_out;
                let write = s.spawn(move || {
                    let w = laid_out.get_or_init(|| layout(parts, None)).as_ref().map_err(Clone::clone)?;
                    let _ = ready_tx.send(());
                    write_file(w, tmp, out)?;
                    Ok::<_, BuildError>(one_pass.then(|| file_sha256(w)))
                });
                let app = (!one_pass).then(|| {
                    s.spawn(move || {
                        let pcr2 = pcr::app_pcr(ramdisks);
                        let sha256 = match (ready_rx.recv(), laid_out.get()) {
                            (Ok(()), Some(Ok(w))) => Some(file_sha256(w)),
                            _ => None,
                        };
                        (pcr2, sha256)
                    })
                });
                // `write` returns the SHA-256 when it computed it, else `app` did.
                let (pcr0, pcr1, pcr2, sha256) = match app {
                    Some(app) => {
                        let (pcr0, pcr1) = pcr::image_pcrs(parts.kernel, parts.cmdline, ramdisks);
                        let (pcr2, sha256) = join(app);
                        (pcr0, pcr1, pcr2, join(write)?.or(sha256))
                    }
                    None => {
                        let (pcr0, pcr1, pcr2) = pcr::one_pass(parts.kernel, parts.cmdline, ramdisks);
                        (pcr0, pcr1, pcr2, join(write)?)
                    }
                };
                // Written, so laid out, so hashed.
                let sha256 = sha256.expect("SHA-256 of the written image");
                let writer = laid_out.get().and_then(|w| w.as_ref().ok()).expect("image written");
                Ok::<_, BuildError>((Pcrs { pcr0, pcr1, pcr2, pcr8: None }, writer.len(), sha256))
            })?
        }
        Some(signer) => {
            let pcrs = Pcrs::compute(parts.kernel, parts.cmdline, ramdisks, Some(signer.certificate_der()));
            signature = signer.signature_section(&pcrs.pcr0)?;
            let w = layout(parts, Some(&signature))?;
            let sha256 = std::thread::scope(|s| {
                let digest = s.spawn(|| file_sha256(&w));
                write_file(&w, tmp, out)?;
                Ok::<_, BuildError>(join(digest))
            })?;
            (pcrs, w.len(), sha256)
        }
    };
    if let Err(e) = inputs_unchanged() {
        let _ = fs::remove_file(tmp);
        return Err(e);
    }
    fs::rename(tmp, out).map_err(|e| {
        let _ = fs::remove_file(tmp);
        io_err(out)(e)
    })?;

    let measurements = measurements::file(&pcrs, Some(sha256));
    let json_path = json_path(out);
    fs::write(&json_path, measurements.to_json()).map_err(io_err(&json_path))?;
    Ok(Built { pcrs, sha256, len, measurements })
}

/// `OUT.eif.json` beside `OUT.eif`.
pub fn json_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".json");
    PathBuf::from(s)
}

fn tmp_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(format!(".tmp{}", std::process::id()));
    PathBuf::from(s)
}

/// Reads every input of `cfg` and builds `out`.
pub fn build(cfg: &BuildConfig, out: &Path) -> Result<Built, BuildError> {
    if cfg.cmdline.contains(&0) {
        return Err(BuildError::CmdlineNul);
    }
    if cfg.ramdisks.is_empty() {
        return Err(BuildError::NoRamdisk);
    }
    let kernel = Input::open(&cfg.kernel).map_err(io_err(&cfg.kernel))?;
    let ramdisks = cfg
        .ramdisks
        .iter()
        .map(|p| load_ramdisk(p, cfg.epoch, cfg.ramdisk_compression))
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = Metadata::new(&cfg.image_name, &cfg.image_version, cfg.epoch, &kernel).to_json();
    let parts = Parts {
        kernel: &kernel,
        cmdline: &cfg.cmdline,
        metadata: &metadata,
        ramdisks: ramdisks.iter().map(|r| &r[..]).collect(),
    };
    let unchanged = || {
        let inputs = std::iter::once((&cfg.kernel, &kernel)).chain(cfg.ramdisks.iter().zip(&ramdisks));
        for (path, input) in inputs {
            if !input.unchanged().map_err(io_err(path))? {
                return Err(BuildError::InputChanged { path: path.clone() });
            }
        }
        Ok(())
    };
    write_image(&parts, cfg.signer.as_ref(), out, &unchanged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> BuildConfig {
        fs::write(dir.join("kernel"), vec![7u8; 5000]).unwrap();
        fs::write(dir.join("rd0"), vec![1u8; 3000]).unwrap();
        fs::write(dir.join("rd1"), vec![2u8; 70_000]).unwrap();
        BuildConfig {
            kernel: dir.join("kernel"),
            cmdline: b"console=ttyS0".to_vec(),
            ramdisks: vec![dir.join("rd0"), dir.join("rd1")],
            image_name: "t".into(),
            image_version: "1.0".into(),
            epoch: 0,
            ramdisk_compression: Compression::None,
            signer: None,
        }
    }

    fn check(built: &Built, out: &Path) {
        let bytes = fs::read(out).unwrap();
        assert_eq!(bytes.len() as u64, built.len);
        let sha: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(sha, built.sha256);
        let d = crate::inspect::describe(&bytes, 0).unwrap();
        assert!(d.header.crc_ok);
        assert_eq!(d.pcrs, built.pcrs);
        assert_eq!(fs::read_to_string(json_path(out)).unwrap(), built.measurements.to_json());
    }

    #[test]
    fn replaces_an_existing_file_a_symlink_and_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let out = dir.path().join("out.eif");
        let first = build(&cfg, &out).unwrap();
        check(&first, &out);
        // Over the previous image.
        let again = build(&cfg, &out).unwrap();
        check(&again, &out);
        assert_eq!(again.sha256, first.sha256);
        // A symlink is replaced, its target left alone.
        let target = dir.path().join("target");
        fs::write(&target, b"keep").unwrap();
        fs::remove_file(&out).unwrap();
        std::os::unix::fs::symlink(&target, &out).unwrap();
        check(&build(&cfg, &out).unwrap(), &out);
        assert_eq!(fs::read(&target).unwrap(), b"keep");
        assert!(fs::symlink_metadata(&out).unwrap().is_file());
        // A FIFO is replaced without being opened (opening it would block).
        fs::remove_file(&out).unwrap();
        let c = std::ffi::CString::new(out.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        check(&build(&cfg, &out).unwrap(), &out);
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(names.iter().all(|n| !n.to_string_lossy().contains(".tmp")), "{names:?}");
    }

    #[test]
    fn pcrs_match_pcrs_compute_over_the_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let out = dir.path().join("u.eif");
        let built = build(&cfg, &out).unwrap();
        check(&built, &out);
        let k = fs::read(&cfg.kernel).unwrap();
        let r0 = fs::read(&cfg.ramdisks[0]).unwrap();
        let r1 = fs::read(&cfg.ramdisks[1]).unwrap();
        assert_eq!(built.pcrs, Pcrs::compute(&k, &cfg.cmdline, &[&r0, &r1], None));
    }

    #[test]
    fn one_pass_and_threaded_builds_write_the_same_image() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let k = fs::read(&cfg.kernel).unwrap();
        let rds: Vec<Vec<u8>> = cfg.ramdisks.iter().map(|p| fs::read(p).unwrap()).collect();
        let metadata = Metadata::new("t", "1.0", 0, &k).to_json();
        let parts = Parts {
            kernel: &k,
            cmdline: &cfg.cmdline,
            metadata: &metadata,
            ramdisks: rds.iter().map(|r| &r[..]).collect(),
        };
        let mut images = Vec::new();
        for one_pass in [true, false] {
            let out = dir.path().join(format!("{one_pass}.eif"));
            let built = write_image_with(&parts, None, &out, &|| Ok(()), one_pass).unwrap();
            check(&built, &out);
            images.push(fs::read(&out).unwrap());
        }
        assert_eq!(images[0], images[1]);
        assert_eq!(
            images[0],
            fs::read({
                let out = dir.path().join("built.eif");
                build(&cfg, &out).unwrap();
                out
            })
            .unwrap()
        );
    }

    #[test]
    fn an_unreadable_input_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path());
        cfg.ramdisks[1] = dir.path().join("missing");
        let e = build(&cfg, &dir.path().join("x.eif")).err().unwrap();
        assert!(e.to_string().contains("missing"), "{e}");
        assert!(!dir.path().join("x.eif").exists());
    }
}
