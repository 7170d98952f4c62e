//! The raw NSM transport: CBOR request bytes in, CBOR response bytes out.
//!
//! Keeping the device this thin lets the client logic run unchanged against
//! the kernel driver, QEMU's virtio-nsm (through the same driver) and the
//! in-process development NSM.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::protocol::{MAX_REQUEST_LEN, MAX_RESPONSE_LEN};

/// Where the Nitro kernel driver exposes the NSM.
pub const NSM_DEVICE_PATH: &str = "/dev/nsm";

/// `_IOWR(0x0A, 0, struct nsm_raw)`; `struct nsm_raw` is 32 bytes.
pub const NSM_IOCTL_RAW: u64 = 0xC020_0A00;

/// Which kind of NSM answers: it decides whether documents can verify
/// against the AWS root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// The kernel's `/dev/nsm` (Nitro hardware, or QEMU's virtio-nsm).
    Hardware,
    /// The in-process development NSM; its documents never verify.
    Development,
}

/// A transport for raw NSM messages.
pub trait NsmDevice: Send + Sync {
    /// Sends one CBOR-encoded request and returns the CBOR-encoded response.
    fn process(&self, request: &[u8]) -> io::Result<Vec<u8>>;
    /// What kind of device this is.
    fn kind(&self) -> DeviceKind;
    /// Where it lives, for error messages.
    fn describe(&self) -> String;
}

#[repr(C)]
struct NsmIovec {
    addr: u64,
    len: u64,
}

/// `struct nsm_raw` of `include/uapi/linux/nsm.h`.
#[repr(C)]
struct NsmRaw {
    request: NsmIovec,
    response: NsmIovec,
}

const _: () = assert!(std::mem::size_of::<NsmRaw>() == 32);

/// The NSM behind the Linux driver (`drivers/misc/nsm.c`).
#[derive(Debug)]
pub struct HardwareNsm {
    file: File,
    path: PathBuf,
}

impl HardwareNsm {
    /// Opens `/dev/nsm`.
    pub fn open() -> io::Result<Self> {
        Self::open_path(NSM_DEVICE_PATH)
    }

    /// Opens the NSM character device at `path`.
    pub fn open_path(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new().read(true).write(true).custom_flags(libc::O_CLOEXEC).open(&path)?;
        Ok(Self { file, path })
    }
}

impl NsmDevice for HardwareNsm {
    fn process(&self, request: &[u8]) -> io::Result<Vec<u8>> {
        if request.len() > MAX_REQUEST_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("request is {} bytes, over the NSM limit of {MAX_REQUEST_LEN}", request.len()),
            ));
        }
        let mut response = vec![0u8; MAX_RESPONSE_LEN];
        let mut raw = NsmRaw {
            request: NsmIovec { addr: request.as_ptr() as u64, len: request.len() as u64 },
            response: NsmIovec { addr: response.as_mut_ptr() as u64, len: response.len() as u64 },
        };
        // SAFETY: `raw` points at two live buffers whose lengths are given;
        // the driver reads `request.len` bytes and writes at most
        // `response.len` bytes, then stores the written length back.
        let rc = unsafe { libc::ioctl(self.file.as_raw_fd(), NSM_IOCTL_RAW as _, &mut raw as *mut NsmRaw) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let len = usize::try_from(raw.response.len).unwrap_or(usize::MAX);
        if len > response.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "driver reported a response longer than the buffer",
            ));
        }
        response.truncate(len);
        Ok(response)
    }

    fn kind(&self) -> DeviceKind {
        DeviceKind::Hardware
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_number_is_iowr_0x0a_0_of_32_bytes() {
        // _IOC(dir=READ|WRITE (3), type, nr, size) on x86_64 and aarch64.
        let computed = (3u64 << 30) | ((std::mem::size_of::<NsmRaw>() as u64) << 16) | (0x0A << 8);
        assert_eq!(computed, NSM_IOCTL_RAW);
    }

    #[test]
    fn a_file_that_is_not_the_driver_fails_with_an_os_error() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let dev = HardwareNsm::open_path(f.path()).unwrap();
        let err = dev.process(&crate::Request::GetRandom.to_cbor()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOTTY));
        assert!(dev.process(&vec![0; MAX_REQUEST_LEN + 1]).is_err());
    }
}
