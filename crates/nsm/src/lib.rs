//! Enclave services of a Sworn worker that involve the Nitro Secure Module.
//!
//! - [`Nsm`]: a typed client for the NSM (`/dev/nsm` ioctl, CBOR messages):
//!   attestation, PCR describe/extend/lock, module description, randomness.
//!   The transport is the small [`NsmDevice`] trait, so the same logic runs
//!   against the kernel driver and the in-process [`DevNsm`].
//! - [`DevNsm`]: a development NSM for local mode. Same messages, same PCR
//!   semantics, documents in the exact AWS layout, signed under a throwaway
//!   development root: they never pass verification against the AWS root.
//!   [`Nsm::open_or_development`] picks the real device whenever
//!   `/dev/nsm` exists.
//! - [`SignedDocument`] / [`AttestationDocument`]: strict parsing of
//!   attestation documents (also QEMU's zero-signed ones) and a JSON view,
//!   re-exported from `sworn-attestation`, which also verifies them.
//! - [`AttestationRequest`], [`WorkerMeasurement`], [`bound_user_data`]: the
//!   runner-facing request API with limits and the worker binding.
//!
//! Workers' ephemeral Ethereum accounts live in the `sworn-eth` crate.

mod attest;
mod client;
mod dev;
mod device;
mod error;
mod protocol;

// The strict CBOR helpers are shared with the document parser.
use sworn_attestation::cbor;

pub use attest::{
    bound_user_data, caller_first_user_data, split_bound_user_data, split_caller_first, Attestation,
    AttestationRequest, BindingLayout, UserDataPolicy, WorkerMeasurement, CALLER_FIRST_MIN_LEN,
    MAX_BOUND_WORKER_DATA_LEN, MEASUREMENT_LEN,
};
pub use client::{AttestationInputs, Nsm, PcrState};
pub use dev::{
    DevNsm, DevNsmError, DEV_MODULE_ID_PREFIX, DEV_ORGANIZATION, DEV_ROOT_COMMON_NAME, DOCUMENT_PCRS, RANDOM_LEN,
};
pub use device::{DeviceKind, HardwareNsm, NsmDevice, NSM_DEVICE_PATH, NSM_IOCTL_RAW};
pub use error::{ErrorCode, NsmError, ProtocolError, RequestError};
pub use protocol::{
    NsmDescription, Request, Response, LOCKED_AT_BOOT, MAX_NONCE_LEN, MAX_PCRS, MAX_PUBLIC_KEY_LEN, MAX_RANDOM_LEN,
    MAX_REQUEST_LEN, MAX_RESPONSE_LEN, MAX_USER_DATA_LEN,
};
pub use sworn_attestation::{
    AttestationDocument, SignedDocument, COSE_ALG_ES384, COSE_ALG_UNSIGNED_EMULATOR, COSE_SIGN1_TAG, PROTECTED_ES384,
};
pub use sworn_attestation::{Measurements, MeasurementsError, PCR_LEN};
