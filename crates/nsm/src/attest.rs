//! What the runner exposes to workers and HTTP clients: attestation
//! requests with checked limits (hex in, hex or JSON out) and the worker
//! binding.
//!
//! # Worker binding
//!
//! A worker's *measurement* is SHA-384 of its code, exactly the bytes the
//! runner loaded ([`WorkerMeasurement::of_code`]). With the default policy
//! ([`UserDataPolicy::BindWorker`]) every document requested through a
//! worker carries
//!
//! ```text
//! user_data = measurement (48 bytes) || worker_user_data (0..=464 bytes)
//! ```
//!
//! so a client checks `user_data[..48] == SHA-384(code it expects)` and
//! reads the worker's own data from `user_data[48..]`. The prefix has a
//! fixed length, so the split is unambiguous. Under this policy a worker
//! cannot choose the first 48 bytes and so cannot pose as another worker.
//!
//! Escrin's `NitroEnclavePermitter` reads its binding from the *first* 32
//! bytes of user_data, so documents a worker asks for through `env.tpm`
//! (Escrin's RPC) take the other layout, [`BindingLayout::CallerFirst`]:
//!
//! ```text
//! user_data = worker_user_data, zero-padded to at least 32 bytes || measurement (48 bytes)
//! ```
//!
//! `bytes32(user_data)` is then exactly what the worker passed (a shorter
//! value reads as right-padded, as Solidity's `bytes32` does), and a client
//! finds the measurement in the *last* 48 bytes ([`split_caller_first`]).
//!
//! [`UserDataPolicy::Raw`] passes the worker's `user_data` through untouched
//! (for verifiers with a fixed user_data format, such as Escrin's
//! NitroEnclavePermitter); it is an operator setting, never a worker's
//! choice, and is only safe when the image (PCR2) pins the one worker.

use crate::client::{AttestationInputs, Nsm};
use crate::error::{NsmError, RequestError};
use crate::protocol::{MAX_NONCE_LEN, MAX_PUBLIC_KEY_LEN, MAX_USER_DATA_LEN};
use sworn_attestation::SignedDocument;

/// Bytes of the measurement prefix in bound user_data.
pub const MEASUREMENT_LEN: usize = 48;
/// Room left for a worker's own user_data under the binding.
pub const MAX_BOUND_WORKER_DATA_LEN: usize = MAX_USER_DATA_LEN - MEASUREMENT_LEN;

/// SHA-384 of a worker's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerMeasurement(pub [u8; MEASUREMENT_LEN]);

impl WorkerMeasurement {
    pub fn of_code(code: &[u8]) -> Self {
        // ring's assembly SHA-384: several times faster than the portable
        // code on large bundles.
        let digest = ring::digest::digest(&ring::digest::SHA384, code);
        let mut out = [0u8; MEASUREMENT_LEN];
        out.copy_from_slice(digest.as_ref());
        Self(out)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// How user_data of worker-requested documents is formed (operator setting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UserDataPolicy {
    /// `measurement || worker_user_data` (the default).
    #[default]
    BindWorker,
    /// The worker's user_data as given.
    Raw,
}

/// The binding, as one function: what user_data a worker-requested
/// document carries.
pub fn bound_user_data(
    measurement: &WorkerMeasurement,
    worker_user_data: Option<&[u8]>,
) -> Result<Vec<u8>, RequestError> {
    let extra = within_bound_limit(worker_user_data)?;
    let mut out = Vec::with_capacity(MEASUREMENT_LEN + extra.len());
    out.extend_from_slice(&measurement.0);
    out.extend_from_slice(extra);
    Ok(out)
}

/// Where the measurement goes in a worker-requested document's user_data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BindingLayout {
    /// `measurement || worker_user_data`: Sworn's own (`env.nsm`).
    #[default]
    MeasurementFirst,
    /// `worker_user_data (>= 32 bytes) || measurement`: for verifiers that
    /// read `bytes32(user_data)`, Escrin's permitter (`env.tpm`).
    CallerFirst,
}

/// The smallest caller part of [`BindingLayout::CallerFirst`] user_data:
/// the permitter's `bytes32`.
pub const CALLER_FIRST_MIN_LEN: usize = 32;

/// [`BindingLayout::CallerFirst`]'s user_data.
pub fn caller_first_user_data(
    measurement: &WorkerMeasurement,
    worker_user_data: Option<&[u8]>,
) -> Result<Vec<u8>, RequestError> {
    let data = within_bound_limit(worker_user_data)?;
    if sworn_attestation::binding::claims_tls_binding(data) {
        return Err(RequestError::ReservedUserData);
    }
    let mut out = Vec::with_capacity(data.len().max(CALLER_FIRST_MIN_LEN) + MEASUREMENT_LEN);
    out.extend_from_slice(data);
    out.resize(data.len().max(CALLER_FIRST_MIN_LEN), 0);
    out.extend_from_slice(&measurement.0);
    Ok(out)
}

/// A worker's user_data (none is empty), if it leaves room for the
/// measurement.
fn within_bound_limit(worker_user_data: Option<&[u8]>) -> Result<&[u8], RequestError> {
    let data = worker_user_data.unwrap_or_default();
    if data.len() > MAX_BOUND_WORKER_DATA_LEN {
        return Err(RequestError::TooLong { field: "user_data", len: data.len(), limit: MAX_BOUND_WORKER_DATA_LEN });
    }
    Ok(data)
}

/// The inverse for clients of [`BindingLayout::CallerFirst`]: the caller's
/// part (padded) and the measurement. `None` if too short to hold both.
pub fn split_caller_first(user_data: &[u8]) -> Option<(&[u8], WorkerMeasurement)> {
    let at = user_data.len().checked_sub(MEASUREMENT_LEN).filter(|n| *n >= CALLER_FIRST_MIN_LEN)?;
    let (data, m) = user_data.split_at(at);
    Some((data, WorkerMeasurement(m.try_into().ok()?)))
}

/// The inverse for clients: splits bound user_data into measurement and the
/// worker's data. `None` if it is shorter than a measurement.
pub fn split_bound_user_data(user_data: &[u8]) -> Option<(WorkerMeasurement, &[u8])> {
    let (m, rest) = user_data.split_at_checked(MEASUREMENT_LEN)?;
    Some((WorkerMeasurement(m.try_into().ok()?), rest))
}

/// A validated attestation request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttestationRequest {
    inputs: AttestationInputs,
}

impl AttestationRequest {
    /// Checks the NSM's limits: user_data and nonce <= 512 bytes,
    /// public_key <= 1024 bytes.
    pub fn new(
        user_data: Option<Vec<u8>>,
        nonce: Option<Vec<u8>>,
        public_key: Option<Vec<u8>>,
    ) -> Result<Self, RequestError> {
        check("user_data", &user_data, MAX_USER_DATA_LEN)?;
        check("nonce", &nonce, MAX_NONCE_LEN)?;
        check("public_key", &public_key, MAX_PUBLIC_KEY_LEN)?;
        Ok(Self { inputs: AttestationInputs { user_data, nonce, public_key } })
    }

    /// Same, from hex strings (an optional `0x` prefix is accepted; an empty
    /// string means "absent").
    pub fn from_hex(
        user_data: Option<&str>,
        nonce: Option<&str>,
        public_key: Option<&str>,
    ) -> Result<Self, RequestError> {
        Self::new(
            decode_hex("user_data", user_data, MAX_USER_DATA_LEN)?,
            decode_hex("nonce", nonce, MAX_NONCE_LEN)?,
            decode_hex("public_key", public_key, MAX_PUBLIC_KEY_LEN)?,
        )
    }

    pub fn user_data(&self) -> Option<&[u8]> {
        self.inputs.user_data.as_deref()
    }

    pub fn nonce(&self) -> Option<&[u8]> {
        self.inputs.nonce.as_deref()
    }

    pub fn public_key(&self) -> Option<&[u8]> {
        self.inputs.public_key.as_deref()
    }
}

fn check(field: &'static str, value: &Option<Vec<u8>>, limit: usize) -> Result<(), RequestError> {
    match value {
        Some(v) if v.len() > limit => Err(RequestError::TooLong { field, len: v.len(), limit }),
        _ => Ok(()),
    }
}

fn decode_hex(field: &'static str, text: Option<&str>, limit: usize) -> Result<Option<Vec<u8>>, RequestError> {
    let Some(text) = text else { return Ok(None) };
    let text = text.strip_prefix("0x").unwrap_or(text);
    if text.is_empty() {
        return Ok(None);
    }
    // Check the size before decoding, so oversized input costs nothing.
    if text.len() > 2 * limit {
        return Err(RequestError::TooLong { field, len: text.len().div_ceil(2), limit });
    }
    hex::decode(text).map(Some).map_err(|e| RequestError::BadHex { field, reason: e.to_string() })
}

/// A document fresh from the NSM, with its parsed form.
#[derive(Debug, Clone)]
pub struct Attestation {
    /// The COSE_Sign1 bytes exactly as the NSM returned them.
    pub bytes: Vec<u8>,
    pub parsed: SignedDocument,
}

impl Attestation {
    pub fn to_hex(&self) -> String {
        hex::encode(&self.bytes)
    }

    /// The decoded JSON view (`GET /attestation?format=json`): the payload
    /// fields in hex, plus the signature and whether this is a development
    /// or emulator document (neither proves anything).
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = self.parsed.document.to_json();
        if let Some(obj) = json.as_object_mut() {
            obj.insert("signature".into(), hex::encode(&self.parsed.signature).into());
            obj.insert("development".into(), self.parsed.is_development_document().into());
            obj.insert("emulator".into(), self.parsed.is_emulator_document().into());
        }
        json
    }
}

impl Nsm {
    /// Requests a document with already validated inputs, and parses it.
    pub fn attest(&self, request: &AttestationRequest) -> Result<Attestation, NsmError> {
        let bytes = self.attestation(&request.inputs)?;
        let parsed = SignedDocument::from_cbor(&bytes)
            .map_err(|source| NsmError::Protocol { request: "Attestation", source })?;
        Ok(Attestation { bytes, parsed })
    }

    /// Requests a document on behalf of a worker, applying `policy` to
    /// user_data (see the module documentation for the exact binding).
    pub fn attest_for_worker(
        &self,
        measurement: &WorkerMeasurement,
        policy: UserDataPolicy,
        request: &AttestationRequest,
    ) -> Result<Attestation, NsmError> {
        self.attest_for_worker_as(measurement, policy, BindingLayout::MeasurementFirst, request)
    }

    /// [`Self::attest_for_worker`] with the binding in `layout`.
    pub fn attest_for_worker_as(
        &self,
        measurement: &WorkerMeasurement,
        policy: UserDataPolicy,
        layout: BindingLayout,
        request: &AttestationRequest,
    ) -> Result<Attestation, NsmError> {
        let bind = match layout {
            BindingLayout::MeasurementFirst => bound_user_data,
            BindingLayout::CallerFirst => caller_first_user_data,
        };
        let request = match policy {
            UserDataPolicy::Raw => {
                if request.user_data().is_some_and(sworn_attestation::binding::claims_tls_binding) {
                    return Err(RequestError::ReservedUserData.into());
                }
                request.clone()
            }
            UserDataPolicy::BindWorker => AttestationRequest {
                inputs: AttestationInputs {
                    user_data: Some(bind(measurement, request.user_data())?),
                    ..request.inputs.clone()
                },
            },
        };
        self.attest(&request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_limits_name_the_field_and_limit() {
        let err = AttestationRequest::from_hex(Some(&"00".repeat(513)), None, None).unwrap_err();
        assert_eq!(err.to_string(), "user_data is 513 bytes, over the limit of 512 bytes");
        let err = AttestationRequest::from_hex(None, Some(&"00".repeat(600)), None).unwrap_err();
        assert_eq!(err, RequestError::TooLong { field: "nonce", len: 600, limit: 512 });
        let err = AttestationRequest::from_hex(None, None, Some(&"ab".repeat(1025))).unwrap_err();
        assert_eq!(err, RequestError::TooLong { field: "public_key", len: 1025, limit: 1024 });
        assert!(matches!(
            AttestationRequest::from_hex(Some("zz"), None, None),
            Err(RequestError::BadHex { field: "user_data", .. })
        ));
        let ok = AttestationRequest::from_hex(Some("0xdead"), Some(""), Some(&"ab".repeat(1024))).unwrap();
        assert_eq!(ok.user_data(), Some(&[0xde, 0xad][..]));
        assert_eq!(ok.nonce(), None);
        assert_eq!(ok.public_key().map(<[u8]>::len), Some(1024));
    }

    #[test]
    fn workers_never_get_the_tls_binding_tag() {
        let nsm = Nsm::development(&sworn_attestation::Measurements::default()).unwrap();
        let m = WorkerMeasurement::of_code(b"export default {}");
        let mut data = sworn_attestation::binding::TLS_KEY_USER_DATA.to_vec();
        data.extend_from_slice(b"more");
        let req = AttestationRequest::new(Some(data), None, Some(vec![1; 91])).unwrap();
        let e = nsm.attest_for_worker(&m, UserDataPolicy::Raw, &req).unwrap_err();
        assert!(e.to_string().contains("TLS key binding"), "{e}");
        // Bound: the document's user_data starts with the code measurement instead.
        let doc = nsm.attest_for_worker(&m, UserDataPolicy::BindWorker, &req).unwrap();
        assert_eq!(&doc.parsed.document.user_data.unwrap()[..48], &m.0);
    }

    #[test]
    fn caller_first_puts_the_callers_32_bytes_first_and_the_measurement_last() {
        let m = WorkerMeasurement::of_code(b"export default {}");
        let binding = [0xab; 32];
        let bound = caller_first_user_data(&m, Some(&binding)).unwrap();
        assert_eq!((&bound[..32], &bound[32..]), (&binding[..], &m.0[..]));
        assert_eq!(split_caller_first(&bound), Some((&binding[..], m)));
        // Shorter data reads as Solidity's right-padded bytes32.
        let short = caller_first_user_data(&m, Some(b"hi")).unwrap();
        assert_eq!(short.len(), 80);
        assert_eq!(&short[..4], b"hi\0\0");
        assert_eq!(caller_first_user_data(&m, None).unwrap()[..32], [0; 32]);
        // Longer data stays whole; the measurement is still the last 48 bytes.
        let long = caller_first_user_data(&m, Some(&[7; 100])).unwrap();
        assert_eq!(split_caller_first(&long), Some((&[7u8; 100][..], m)));
        assert_eq!(
            caller_first_user_data(&m, Some(&[0; 465])),
            Err(RequestError::TooLong { field: "user_data", len: 465, limit: 464 })
        );
        assert!(split_caller_first(&[0; 79]).is_none());
        // First is where the TLS binding tag would sit: a worker cannot claim it.
        let tag = sworn_attestation::binding::TLS_KEY_USER_DATA.to_vec();
        assert_eq!(caller_first_user_data(&m, Some(&tag)), Err(RequestError::ReservedUserData));
    }

    #[test]
    fn binding_is_measurement_then_worker_data() {
        let m = WorkerMeasurement::of_code(b"export default {}");
        assert_eq!(bound_user_data(&m, None).unwrap(), m.0.to_vec());
        let bound = bound_user_data(&m, Some(b"hello")).unwrap();
        assert_eq!(&bound[..48], &m.0);
        assert_eq!(&bound[48..], b"hello");
        let (m2, rest) = split_bound_user_data(&bound).unwrap();
        assert_eq!((m2, rest), (m, &b"hello"[..]));
        assert_eq!(
            bound_user_data(&m, Some(&[0; 465])),
            Err(RequestError::TooLong { field: "user_data", len: 465, limit: 464 })
        );
        assert!(split_bound_user_data(&[0; 47]).is_none());
        // SHA-384 of the empty string, a published constant.
        assert_eq!(
            WorkerMeasurement::of_code(b"").to_hex(),
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"
        );
    }
}
