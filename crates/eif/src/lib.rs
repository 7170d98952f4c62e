//! Reproducible AWS Nitro Enclave images (EIF): build, inspect, verify and
//! sign them, and verify Nitro attestation documents.
//!
//! Modules have one job each: [`container`] is the container format, [`cpio`] the
//! ramdisk format ([`ramdisk`] its compression), [`pcr`] the measurement arithmetic
//! (on [`sha384`]'s block functions), [`measurements`] an image's
//! JSON file (read and written by `sworn-attestation`), [`sign`] PCR8 and the
//! signature section, [`metadata`] the metadata section, [`builder`] ties them
//! into `eif build` (reading files through [`input`]), and [`inspect`] into
//! `eif describe`/`verify`. Attestation documents and X.509 ([`attestation`],
//! [`cert`]) are the `sworn-attestation` crate, re-exported here.

pub use sworn_attestation as attestation;
pub use sworn_attestation::cert;
pub mod builder;
pub mod container;
pub mod cpio;
pub mod input;
pub mod inspect;
pub mod measurements;
pub mod metadata;
pub mod pcr;
pub mod ramdisk;
pub mod sha384;
pub mod sign;
