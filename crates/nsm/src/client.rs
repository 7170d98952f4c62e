//! The typed NSM client.

use std::path::Path;

use crate::dev::DevNsm;
use crate::device::{DeviceKind, HardwareNsm, NsmDevice, NSM_DEVICE_PATH};
use crate::error::NsmError;
use crate::protocol::{NsmDescription, Request, Response};
use sworn_attestation::Measurements;

/// A PCR as `DescribePCR` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcrState {
    pub locked: bool,
    pub value: Vec<u8>,
}

/// Optional attestation inputs. Limits (512/512/1024 bytes) are checked by
/// [`crate::AttestationRequest::new`] before anything reaches the device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttestationInputs {
    pub user_data: Option<Vec<u8>>,
    pub nonce: Option<Vec<u8>>,
    pub public_key: Option<Vec<u8>>,
}

/// A client for one NSM device.
///
/// Calls are blocking (an ioctl, or an in-process signature for the
/// development NSM; both take milliseconds): async callers should use
/// `spawn_blocking`. `Nsm` is `Send + Sync`; share it behind an `Arc`.
pub struct Nsm {
    device: Box<dyn NsmDevice>,
}

impl std::fmt::Debug for Nsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nsm").field("device", &self.device.describe()).field("kind", &self.device.kind()).finish()
    }
}

impl Nsm {
    /// Wraps any device (hardware, development, or a test double).
    pub fn with_device(device: impl NsmDevice + 'static) -> Self {
        Self { device: Box::new(device) }
    }

    /// Opens `/dev/nsm`.
    pub fn open_hardware() -> Result<Self, NsmError> {
        Self::open_hardware_at(NSM_DEVICE_PATH)
    }

    /// Opens the NSM character device at `path`.
    pub fn open_hardware_at(path: impl AsRef<Path>) -> Result<Self, NsmError> {
        let path = path.as_ref();
        HardwareNsm::open_path(path)
            .map(Self::with_device)
            .map_err(|source| NsmError::Device { path: path.display().to_string(), source })
    }

    /// Starts a development NSM holding `measurements`.
    pub fn development(measurements: &Measurements) -> Result<Self, NsmError> {
        Ok(Self::with_device(DevNsm::new(measurements)?))
    }

    /// The real device when `/dev/nsm` exists, else a development NSM.
    ///
    /// If `/dev/nsm` exists but cannot be opened this is an error: an
    /// enclave must never silently fall back to development documents.
    pub fn open_or_development(measurements: &Measurements) -> Result<Self, NsmError> {
        Self::open_or_development_at(NSM_DEVICE_PATH, measurements)
    }

    /// [`Nsm::open_or_development`] with the device path given.
    pub fn open_or_development_at(path: impl AsRef<Path>, measurements: &Measurements) -> Result<Self, NsmError> {
        let path = path.as_ref();
        // symlink_metadata: a dangling link or a node we may not stat
        // still counts as "a device is meant to be here".
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::development(measurements),
            _ => Self::open_hardware_at(path),
        }
    }

    pub fn kind(&self) -> DeviceKind {
        self.device.kind()
    }

    /// Sends a request; an `Error` reply becomes [`NsmError::Rejected`].
    pub fn request(&self, request: &Request) -> Result<Response, NsmError> {
        let bytes = self
            .device
            .process(&request.to_cbor())
            .map_err(|source| NsmError::Device { path: self.device.describe(), source })?;
        match Response::from_cbor(&bytes) {
            Ok(Response::Error(code)) => Err(NsmError::Rejected { request: request.name(), code }),
            Ok(response) => Ok(response),
            Err(source) => Err(NsmError::Protocol { request: request.name(), source }),
        }
    }

    fn unexpected(request: &Request, got: &Response) -> NsmError {
        NsmError::UnexpectedResponse { request: request.name(), got: got.name() }
    }

    pub fn describe_pcr(&self, index: u16) -> Result<PcrState, NsmError> {
        let req = Request::DescribePcr { index };
        match self.request(&req)? {
            Response::DescribePcr { lock, data } => Ok(PcrState { locked: lock, value: data }),
            other => Err(Self::unexpected(&req, &other)),
        }
    }

    /// Extends PCR `index` with `data`; returns the new value.
    pub fn extend_pcr(&self, index: u16, data: &[u8]) -> Result<Vec<u8>, NsmError> {
        let req = Request::ExtendPcr { index, data: data.to_vec() };
        match self.request(&req)? {
            Response::ExtendPcr { data } => Ok(data),
            other => Err(Self::unexpected(&req, &other)),
        }
    }

    pub fn lock_pcr(&self, index: u16) -> Result<(), NsmError> {
        let req = Request::LockPcr { index };
        match self.request(&req)? {
            Response::LockPcr => Ok(()),
            other => Err(Self::unexpected(&req, &other)),
        }
    }

    /// Locks PCRs `0..range`.
    pub fn lock_pcrs(&self, range: u16) -> Result<(), NsmError> {
        let req = Request::LockPcrs { range };
        match self.request(&req)? {
            Response::LockPcrs => Ok(()),
            other => Err(Self::unexpected(&req, &other)),
        }
    }

    pub fn describe(&self) -> Result<NsmDescription, NsmError> {
        let req = Request::DescribeNsm;
        match self.request(&req)? {
            Response::DescribeNsm(d) => Ok(d),
            other => Err(Self::unexpected(&req, &other)),
        }
    }

    /// Random bytes from the NSM's hardware source (256 on Nitro).
    pub fn get_random(&self) -> Result<Vec<u8>, NsmError> {
        let req = Request::GetRandom;
        match self.request(&req)? {
            Response::GetRandom { random } => Ok(random),
            other => Err(Self::unexpected(&req, &other)),
        }
    }

    /// Asks for an attestation document; returns its raw COSE_Sign1 bytes.
    pub fn attestation(&self, inputs: &AttestationInputs) -> Result<Vec<u8>, NsmError> {
        let req = Request::Attestation {
            user_data: inputs.user_data.clone(),
            nonce: inputs.nonce.clone(),
            public_key: inputs.public_key.clone(),
        };
        match self.request(&req)? {
            Response::Attestation { document } => Ok(document),
            other => Err(Self::unexpected(&req, &other)),
        }
    }
}
