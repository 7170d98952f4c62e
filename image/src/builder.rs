//! `eif build`: inputs -> reproducible EIF + measurements.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::cpio::{self, CpioError};
use crate::eif::{EifError, EifWriter, SectionType};
use crate::measurements::MeasurementsFile;
use crate::metadata::Metadata;
use crate::pcr::Pcrs;
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
    pub signer: Option<Signer>,
}

/// Result of a build.
pub struct Built {
    pub pcrs: Pcrs,
    pub sha256: [u8; 32],
    pub len: u64,
    pub measurements: MeasurementsFile,
}

/// Loads a ramdisk: a directory is packed into a reproducible cpio, a file
/// is taken as it is.
pub fn load_ramdisk(path: &Path, epoch: u32) -> Result<Vec<u8>, BuildError> {
    let md = fs::metadata(path).map_err(io_err(path))?;
    if md.is_dir() {
        cpio::pack_dir(path, epoch).map_err(|source| BuildError::Ramdisk { path: path.to_path_buf(), source })
    } else {
        fs::read(path).map_err(io_err(path))
    }
}

/// The in-memory parts of an image.
pub struct Parts {
    pub kernel: Vec<u8>,
    pub cmdline: Vec<u8>,
    pub metadata: Vec<u8>,
    pub ramdisks: Vec<Vec<u8>>,
}

/// SHA-256 of the file `w` writes, without writing it.
fn file_sha256(w: &EifWriter<'_>) -> [u8; 32] {
    struct Hashing(Sha256);
    impl Write for Hashing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut h = Hashing(Sha256::new());
    // Hashing into memory cannot fail.
    let _ = w.write_to(&mut h);
    h.0.finalize().into()
}

fn layout<'a>(parts: &'a Parts, signature: Option<&'a [u8]>) -> Result<EifWriter<'a>, EifError> {
    let mut sections = vec![
        (SectionType::Kernel, parts.kernel.as_slice()),
        (SectionType::Cmdline, parts.cmdline.as_slice()),
        (SectionType::Metadata, parts.metadata.as_slice()),
    ];
    sections.extend(parts.ramdisks.iter().map(|r| (SectionType::Ramdisk, r.as_slice())));
    if let Some(sig) = signature {
        sections.push((SectionType::Signature, sig));
    }
    EifWriter::new(0, sections)
}

/// Measures, signs and writes `parts` to `out` (via a temporary file in the
/// same directory, renamed into place), then writes `out.json`.
///
/// Work is spread over threads: PCR0/PCR1 (one pass, cloned hasher) on
/// this thread, PCR2 on a second one, and, for unsigned images whose header
/// does not depend on the PCRs, the CRC and the file's SHA-256 on a third.
pub fn write_image(parts: &Parts, signer: Option<&Signer>, out: &Path) -> Result<Built, BuildError> {
    if parts.ramdisks.is_empty() {
        return Err(BuildError::NoRamdisk);
    }
    let ramdisks: Vec<&[u8]> = parts.ramdisks.iter().map(Vec::as_slice).collect();
    let cert_der = signer.map(Signer::certificate_der);
    let measure = || Pcrs::compute(&parts.kernel, &parts.cmdline, &ramdisks, cert_der);

    let signature;
    let (pcrs, writer, sha256) = match signer {
        None => {
            let digest_job = || {
                layout(parts, None).map(|w| {
                    let h = file_sha256(&w);
                    (w, h)
                })
            };
            std::thread::scope(|s| {
                let digest = s.spawn(digest_job);
                let pcrs = measure();
                // The job cannot panic; recompute here rather than propagate one.
                let joined = digest.join().unwrap_or_else(|_| digest_job());
                joined.map(|(w, h)| (pcrs, w, h))
            })?
        }
        Some(signer) => {
            let pcrs = measure();
            signature = signer.signature_section(&pcrs.pcr0)?;
            let w = layout(parts, Some(&signature))?;
            let h = file_sha256(&w);
            (pcrs, w, h)
        }
    };

    let tmp = tmp_path(out);
    let written = fs::File::create(&tmp).and_then(|mut f| writer.write_to(&mut f));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(&tmp)(e));
    }
    fs::rename(&tmp, out).map_err(io_err(out))?;

    let measurements = MeasurementsFile::new(&pcrs, Some(sha256));
    let json_path = json_path(out);
    fs::write(&json_path, measurements.to_json()).map_err(io_err(&json_path))?;
    Ok(Built { pcrs, sha256, len: writer.len(), measurements })
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
    let kernel = fs::read(&cfg.kernel).map_err(io_err(&cfg.kernel))?;
    let ramdisks = cfg.ramdisks.iter().map(|p| load_ramdisk(p, cfg.epoch)).collect::<Result<Vec<_>, _>>()?;
    let metadata = Metadata::new(&cfg.image_name, &cfg.image_version, cfg.epoch, &kernel).to_json();
    let parts = Parts { kernel, cmdline: cfg.cmdline.clone(), metadata, ramdisks };
    write_image(&parts, cfg.signer.as_ref(), out)
}
