//! A development NSM for local mode (no `/dev/nsm`).
//!
//! It behaves like the Nitro NSM at the message level: 32 SHA-384 PCRs,
//! 0..16 locked from the start, `extend(i, d)` = SHA-384(PCR[i] || d),
//! locks that stick, and the same error codes (`InvalidIndex`,
//! `ReadOnlyIndex`, `InputTooLarge`, ...). Its attestation documents have the
//! exact AWS layout (untagged COSE_Sign1, ES384, the same payload fields), but
//! they are signed by a leaf under a *development* root made when the NSM
//! starts, so they never verify against the AWS Nitro root. The layout goes
//! down to what Escrin's `NitroEnclavePermitter` parses byte by byte on a
//! development chain, where it skips only the signature check: a module id
//! of AWS's form (with the all-zero instance id), a root named
//! `aws.nitro-enclaves` as the permitter's issuer chaining wants, and DER
//! lengths of the same sizes. The organization of both certificates says
//! they are not AWS's, and the key says it to every verifier.
//!
//! Keys live only in memory and die with the process.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P384_SHA384_FIXED_SIGNING};
use sha2::{Digest, Sha384};

use crate::device::{DeviceKind, NsmDevice};
use crate::error::ErrorCode;
use crate::protocol::{
    NsmDescription, Request, Response, LOCKED_AT_BOOT, MAX_NONCE_LEN, MAX_PCRS, MAX_PUBLIC_KEY_LEN, MAX_REQUEST_LEN,
    MAX_USER_DATA_LEN,
};
use sworn_attestation::cose::{sig_structure, PROTECTED_ES384};
use sworn_attestation::measurements::{Measurements, PCR_LEN};
use sworn_attestation::{AttestationDocument, SignedDocument};

/// The development form's constants live with the document format.
pub use sworn_attestation::dev::{DEV_MODULE_ID_PREFIX, DEV_ORGANIZATION, DEV_ROOT_COMMON_NAME, DOCUMENT_PCRS};
/// Bytes returned by `GetRandom`, as on Nitro.
pub const RANDOM_LEN: usize = 256;
/// Validity of the development certificates, counted from start-up.
pub const DEV_CERT_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum DevNsmError {
    #[error("development NSM: generating the {what} key: {reason}")]
    Key { what: &'static str, reason: String },
    #[error("development NSM: making the {what} certificate: {reason}")]
    Certificate { what: &'static str, reason: String },
    #[error("development NSM: system randomness: {0}")]
    Random(String),
}

struct Pcr {
    value: [u8; PCR_LEN],
    locked: bool,
}

struct Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    leaf_der: Vec<u8>,
    root_der: Vec<u8>,
}

/// The development NSM. Implements [`NsmDevice`], so the [`crate::Nsm`]
/// client drives it exactly like `/dev/nsm`.
pub struct DevNsm {
    module_id: String,
    pcrs: Mutex<Vec<Pcr>>,
    signer: Signer,
}

impl std::fmt::Debug for DevNsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevNsm").field("module_id", &self.module_id).finish_non_exhaustive()
    }
}

impl DevNsm {
    /// Starts a development NSM whose PCRs hold `measurements` (others zero).
    pub fn new(measurements: &Measurements) -> Result<Self, DevNsmError> {
        // The 16 hex digits after `enc`, as in AWS's ids.
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| DevNsmError::Random(e.to_string()))?;
        let module_id = format!("{DEV_MODULE_ID_PREFIX}{}", hex::encode(id));
        let signer = make_signer(&module_id)?;
        let pcrs = (0..MAX_PCRS)
            .map(|i| Pcr {
                value: measurements.pcrs.get(&i).copied().unwrap_or([0; PCR_LEN]),
                locked: i < LOCKED_AT_BOOT,
            })
            .collect();
        Ok(Self { module_id, pcrs: Mutex::new(pcrs), signer })
    }

    pub fn module_id(&self) -> &str {
        &self.module_id
    }

    /// DER of the development root (the first `cabundle` entry).
    pub fn root_certificate_der(&self) -> &[u8] {
        &self.signer.root_der
    }

    /// DER of the leaf that signs documents.
    pub fn leaf_certificate_der(&self) -> &[u8] {
        &self.signer.leaf_der
    }

    /// The leaf's public key as an uncompressed SEC1 P-384 point.
    pub fn leaf_public_key(&self) -> &[u8] {
        self.signer.key.public_key().as_ref()
    }

    fn handle(&self, request: Request) -> Response {
        let mut pcrs = self.pcrs.lock().unwrap_or_else(|p| p.into_inner());
        let slot = |pcrs: &mut Vec<Pcr>, index: u16| -> Result<usize, ErrorCode> {
            let i = usize::from(index);
            if i < pcrs.len() {
                Ok(i)
            } else {
                Err(ErrorCode::InvalidIndex)
            }
        };
        let result = match request {
            Request::DescribePcr { index } => slot(&mut pcrs, index)
                .map(|i| Response::DescribePcr { lock: pcrs[i].locked, data: pcrs[i].value.to_vec() }),
            Request::ExtendPcr { index, data } => slot(&mut pcrs, index).and_then(|i| {
                if pcrs[i].locked {
                    return Err(ErrorCode::ReadOnlyIndex);
                }
                let mut h = Sha384::new();
                h.update(pcrs[i].value);
                h.update(&data);
                pcrs[i].value.copy_from_slice(&h.finalize());
                Ok(Response::ExtendPcr { data: pcrs[i].value.to_vec() })
            }),
            Request::LockPcr { index } => slot(&mut pcrs, index).map(|i| {
                pcrs[i].locked = true;
                Response::LockPcr
            }),
            Request::LockPcrs { range } => {
                if usize::from(range) > pcrs.len() {
                    Err(ErrorCode::InvalidIndex)
                } else {
                    pcrs.iter_mut().take(usize::from(range)).for_each(|p| p.locked = true);
                    Ok(Response::LockPcrs)
                }
            }
            Request::DescribeNsm => Ok(Response::DescribeNsm(NsmDescription {
                version_major: 1,
                version_minor: 0,
                version_patch: 0,
                module_id: self.module_id.clone(),
                max_pcrs: MAX_PCRS,
                locked_pcrs: (0..MAX_PCRS).filter(|i| pcrs[usize::from(*i)].locked).collect(),
                digest: "SHA384".into(),
            })),
            Request::GetRandom => {
                let mut random = vec![0u8; RANDOM_LEN];
                getrandom::fill(&mut random)
                    .map(|()| Response::GetRandom { random })
                    .map_err(|_| ErrorCode::InternalError)
            }
            Request::Attestation { user_data, nonce, public_key } => {
                let too_long = user_data.as_ref().is_some_and(|d| d.len() > MAX_USER_DATA_LEN)
                    || nonce.as_ref().is_some_and(|d| d.len() > MAX_NONCE_LEN)
                    || public_key.as_ref().is_some_and(|d| d.len() > MAX_PUBLIC_KEY_LEN);
                if too_long {
                    Err(ErrorCode::InputTooLarge)
                } else {
                    let document = AttestationDocument {
                        module_id: self.module_id.clone(),
                        digest: "SHA384".into(),
                        timestamp: now_ms(),
                        pcrs: (0..DOCUMENT_PCRS).map(|i| (i, pcrs[usize::from(i)].value.to_vec())).collect(),
                        certificate: self.signer.leaf_der.clone(),
                        cabundle: vec![self.signer.root_der.clone()],
                        public_key,
                        user_data,
                        nonce,
                    };
                    self.sign(&document).map(|document| Response::Attestation { document })
                }
            }
        };
        result.unwrap_or_else(Response::Error)
    }

    fn sign(&self, document: &AttestationDocument) -> Result<Vec<u8>, ErrorCode> {
        let payload = document.to_cbor();
        let to_sign = sig_structure(&PROTECTED_ES384, &payload);
        let signature =
            self.signer.key.sign(&self.signer.rng, &to_sign).map_err(|_| ErrorCode::InternalError)?.as_ref().to_vec();
        let signed =
            SignedDocument { protected: PROTECTED_ES384.to_vec(), payload, signature, document: document.clone() };
        Ok(signed.to_cbor())
    }
}

impl NsmDevice for DevNsm {
    fn process(&self, request: &[u8]) -> std::io::Result<Vec<u8>> {
        let response = if request.len() > MAX_REQUEST_LEN {
            Response::Error(ErrorCode::InputTooLarge)
        } else {
            match Request::from_cbor(request) {
                Ok(req) => self.handle(req),
                Err(_) => Response::Error(ErrorCode::InvalidArgument),
            }
        };
        Ok(response.to_cbor())
    }

    fn kind(&self) -> DeviceKind {
        DeviceKind::Development
    }

    fn describe(&self) -> String {
        format!("development NSM {}", self.module_id)
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn make_signer(module_id: &str) -> Result<Signer, DevNsmError> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

    let key_err = |what| move |e: rcgen::Error| DevNsmError::Key { what, reason: e.to_string() };
    let cert_err = |what| move |e: rcgen::Error| DevNsmError::Certificate { what, reason: e.to_string() };

    let now = SystemTime::now();
    let not_before = time::OffsetDateTime::from(now - Duration::from_secs(60));
    let not_after = time::OffsetDateTime::from(now + DEV_CERT_VALIDITY);

    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(key_err("root"))?;
    let mut root = CertificateParams::new(Vec::<String>::new()).map_err(cert_err("root"))?;
    root.distinguished_name.push(DnType::CommonName, DEV_ROOT_COMMON_NAME);
    root.distinguished_name.push(DnType::OrganizationName, DEV_ORGANIZATION);
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    root.not_before = not_before;
    root.not_after = not_after;
    let root_cert = root.self_signed(&root_key).map_err(cert_err("root"))?;

    let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(key_err("leaf"))?;
    let mut leaf = CertificateParams::new(Vec::<String>::new()).map_err(cert_err("leaf"))?;
    leaf.distinguished_name.push(DnType::CommonName, module_id);
    leaf.distinguished_name.push(DnType::OrganizationName, DEV_ORGANIZATION);
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.not_before = not_before;
    leaf.not_after = not_after;
    let issuer = Issuer::new(root, root_key);
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(cert_err("leaf"))?;

    let rng = SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &leaf_key.serialize_der(), &rng)
        .map_err(|e| DevNsmError::Key { what: "leaf", reason: e.to_string() })?;
    Ok(Signer { key, rng, leaf_der: leaf_cert.der().to_vec(), root_der: root_cert.der().to_vec() })
}
