//! Reproducible AWS Nitro Enclave images (EIF): build, inspect, verify and
//! sign them, and verify Nitro attestation documents.
//!
//! Modules have one job each: [`eif`] is the container format, [`cpio`] the
//! ramdisk format, [`pcr`] the measurement arithmetic
//! (on [`sha384`]'s block functions), [`measurements`] the
//! JSON files, [`sign`] PCR8 and the signature section, [`cert`] X.509,
//! [`metadata`] the metadata section, [`builder`] ties them into `eif build`
//! (reading files through [`input`]),
//! [`inspect`] into `eif describe`/`verify`, and [`attestation`] parses and
//! verifies attestation documents.

pub mod attestation;
pub mod builder;
pub mod cert;
pub mod container;
pub mod cpio;
pub mod input;
pub mod inspect;
pub mod measurements;
pub mod metadata;
pub mod pcr;
pub mod sha384;
pub mod sign;
