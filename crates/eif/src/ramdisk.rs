//! Ramdisk compression: what `eif build --ramdisk-compression gzip` packs
//! and what `eif extract --list` reads back.
//!
//! The Linux kernel unpacks an initramfs whose segments are newc cpio,
//! plain or compressed by any decompressor it was built with (the enclave
//! kernel has `CONFIG_RD_GZIP`). A compressed ramdisk makes the image, and
//! the enclave memory it is loaded into, smaller; the PCRs measure the bytes
//! as stored, so a compressed ramdisk has other PCRs than the same files
//! uncompressed. The output is deterministic: a gzip header with no name,
//! no modification time and OS "unknown", and the deflate stream of
//! `flate2`'s pure-Rust backend at its best level, pinned by Cargo.lock.

use std::io::{Read, Write};

/// How `eif build` stores the ramdisks it packs from directories (also
/// its `--ramdisk-compression` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Compression {
    /// newc cpio as it is, as nitro-cli stores it.
    #[default]
    None,
    /// gzip (RFC 1952) of the cpio.
    Gzip,
}

/// The two bytes every gzip member starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Most bytes a compressed ramdisk may unpack to when it is read back: far
/// beyond any enclave image, and a bound on a decompression bomb.
pub const MAX_UNPACKED: u64 = 1 << 30;

/// Why a compressed ramdisk could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("gzip: {0}")]
    Gzip(std::io::Error),
    #[error("gzip: unpacks to more than {MAX_UNPACKED} bytes")]
    TooLarge,
}

impl Compression {
    /// Stores a packed cpio.
    pub fn apply(self, cpio: Vec<u8>) -> Vec<u8> {
        match self {
            Compression::None => cpio,
            Compression::Gzip => {
                let out = Vec::with_capacity(cpio.len() / 2);
                let mut gz = flate2::GzBuilder::new().operating_system(255).write(out, flate2::Compression::best());
                // Writing into a Vec cannot fail.
                let _ = gz.write_all(&cpio);
                gz.finish().unwrap_or_default()
            }
        }
    }
}

/// The cpio of a ramdisk as stored: itself, or its gzip unpacked.
pub fn unpack(stored: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, UnpackError> {
    if !stored.starts_with(&GZIP_MAGIC) {
        return Ok(std::borrow::Cow::Borrowed(stored));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(stored)
        .take(MAX_UNPACKED + 1)
        .read_to_end(&mut out)
        .map_err(UnpackError::Gzip)?;
    if out.len() as u64 > MAX_UNPACKED {
        return Err(UnpackError::TooLarge);
    }
    Ok(std::borrow::Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_deterministic_and_unpacks_to_the_same_cpio() {
        let cpio: Vec<u8> = (0..200_000u32).map(|i| (i * 7 / 3) as u8).collect();
        let a = Compression::Gzip.apply(cpio.clone());
        let b = Compression::Gzip.apply(cpio.clone());
        assert_eq!(a, b, "same input, same bytes");
        assert!(a.starts_with(&GZIP_MAGIC) && a.len() < cpio.len() / 4, "{} bytes", a.len());
        // No name, no mtime, OS unknown: the header is fixed.
        assert_eq!(&a[3..10], &[0, 0, 0, 0, 0, 2, 255]);
        assert_eq!(unpack(&a).unwrap().as_ref(), &cpio[..]);
    }

    #[test]
    fn an_uncompressed_ramdisk_is_read_as_it_is() {
        let cpio = b"070701rest".to_vec();
        assert_eq!(Compression::None.apply(cpio.clone()), cpio);
        assert!(matches!(unpack(&cpio).unwrap(), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn a_truncated_gzip_is_an_error() {
        let gz = Compression::Gzip.apply(vec![5u8; 100_000]);
        let err = unpack(&gz[..gz.len() / 2]).unwrap_err();
        assert!(err.to_string().starts_with("gzip: "), "{err}");
    }
}
