//! Loads `nsm.ko` from the bootstrap ramdisk, for kernels that build the NSM
//! driver as a module (such as the kernel nitro-cli ships).

use std::fs::File;
use std::path::Path;

use nix::errno::Errno;
use nix::kmod::{finit_module, ModuleInitFlags};

use crate::error::InitError;

#[derive(Debug, PartialEq, Eq)]
pub enum NsmModule {
    /// The image carries no module: the driver is built in (or absent).
    NotCarried,
    /// `/dev/nsm` already exists, so the driver is built in.
    BuiltIn,
    Loaded,
}

pub fn load_nsm(module: &Path, dev_nsm: &Path) -> Result<NsmModule, InitError> {
    if !module.exists() {
        return Ok(NsmModule::NotCarried);
    }
    if dev_nsm.exists() {
        return Ok(NsmModule::BuiltIn);
    }
    let err = |source| InitError::Module { path: module.to_owned(), source };
    let file = File::open(module).map_err(|e| err(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))))?;
    match finit_module(&file, c"", ModuleInitFlags::empty()) {
        Ok(()) | Err(Errno::EEXIST) => Ok(NsmModule::Loaded),
        Err(e) => Err(err(e)),
    }
}
