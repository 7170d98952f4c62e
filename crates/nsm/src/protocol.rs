//! NSM request and response messages and their CBOR encoding.
//!
//! The device speaks serde's "externally tagged" CBOR: a unit variant is a
//! text string (`"DescribeNSM"`), a struct variant is a one-entry map
//! `{"Variant": {field: value, ...}}`. Both directions are implemented here
//! so that the development NSM shares the exact wire format with the client.

use ciborium::value::Value;

use crate::cbor::{self, Map};
use crate::error::{ErrorCode, ProtocolError};

/// Largest request the device accepts.
pub const MAX_REQUEST_LEN: usize = 0x1000;
/// Size of the response buffer handed to the device.
pub const MAX_RESPONSE_LEN: usize = 0x3000;
/// Number of PCRs of a Nitro NSM.
pub use sworn_attestation::limits::MAX_PCRS;
/// PCRs 0..16 are locked by the hypervisor at boot.
pub const LOCKED_AT_BOOT: u16 = 16;
/// Limits on the optional attestation inputs, as enforced by the NSM (the
/// document limits of `sworn-attestation`).
pub use sworn_attestation::limits::{MAX_NONCE_LEN, MAX_PUBLIC_KEY_LEN, MAX_USER_DATA_LEN};
/// Upper bound we accept for a `GetRandom` answer (real devices give 256).
pub const MAX_RANDOM_LEN: usize = 1024;
/// Upper bound for `module_id` text.
pub use sworn_attestation::limits::MAX_MODULE_ID_LEN;

/// A request to the NSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    DescribePcr {
        index: u16,
    },
    ExtendPcr {
        index: u16,
        data: Vec<u8>,
    },
    LockPcr {
        index: u16,
    },
    /// Locks PCRs `0..range`.
    LockPcrs {
        range: u16,
    },
    DescribeNsm,
    Attestation {
        user_data: Option<Vec<u8>>,
        nonce: Option<Vec<u8>>,
        public_key: Option<Vec<u8>>,
    },
    GetRandom,
}

/// What `DescribeNSM` reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NsmDescription {
    pub version_major: u16,
    pub version_minor: u16,
    pub version_patch: u16,
    pub module_id: String,
    pub max_pcrs: u16,
    pub locked_pcrs: Vec<u16>,
    pub digest: String,
}

/// A response from the NSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    DescribePcr { lock: bool, data: Vec<u8> },
    ExtendPcr { data: Vec<u8> },
    LockPcr,
    LockPcrs,
    DescribeNsm(NsmDescription),
    Attestation { document: Vec<u8> },
    GetRandom { random: Vec<u8> },
    Error(ErrorCode),
}

impl Request {
    /// The wire name of the request, used in error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Request::DescribePcr { .. } => "DescribePCR",
            Request::ExtendPcr { .. } => "ExtendPCR",
            Request::LockPcr { .. } => "LockPCR",
            Request::LockPcrs { .. } => "LockPCRs",
            Request::DescribeNsm => "DescribeNSM",
            Request::Attestation { .. } => "Attestation",
            Request::GetRandom => "GetRandom",
        }
    }

    pub fn to_cbor(&self) -> Vec<u8> {
        let body = match self {
            Request::DescribeNsm | Request::GetRandom => return cbor::encode(&Value::Text(self.name().into())),
            Request::DescribePcr { index } | Request::LockPcr { index } => {
                cbor::tmap(vec![("index", Value::from(*index))])
            }
            Request::ExtendPcr { index, data } => {
                cbor::tmap(vec![("index", Value::from(*index)), ("data", Value::Bytes(data.clone()))])
            }
            Request::LockPcrs { range } => cbor::tmap(vec![("range", Value::from(*range))]),
            Request::Attestation { user_data, nonce, public_key } => cbor::tmap(vec![
                ("user_data", cbor::opt_bytes_value(user_data)),
                ("nonce", cbor::opt_bytes_value(nonce)),
                ("public_key", cbor::opt_bytes_value(public_key)),
            ]),
        };
        cbor::encode(&cbor::tmap(vec![(self.name(), body)]))
    }

    /// Decodes a request (the device side; used by the development NSM).
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let value = cbor::decode(bytes, "request", MAX_REQUEST_LEN)?;
        let (name, body) = split_variant(&value, "request")?;
        let Some(body) = body else {
            return match name {
                "DescribeNSM" => Ok(Request::DescribeNsm),
                "GetRandom" => Ok(Request::GetRandom),
                other => Err(ProtocolError::UnknownVariant { what: "request", name: other.into() }),
            };
        };
        let map = Map::new(body, "request")?;
        let req = match name {
            "DescribePCR" => {
                map.deny_unknown(&["index"])?;
                Request::DescribePcr { index: cbor::uint(map.require("index")?, "index")? }
            }
            "LockPCR" => {
                map.deny_unknown(&["index"])?;
                Request::LockPcr { index: cbor::uint(map.require("index")?, "index")? }
            }
            "ExtendPCR" => {
                map.deny_unknown(&["index", "data"])?;
                Request::ExtendPcr {
                    index: cbor::uint(map.require("index")?, "index")?,
                    data: cbor::bytes(map.require("data")?, "data", MAX_REQUEST_LEN)?,
                }
            }
            "LockPCRs" => {
                map.deny_unknown(&["range"])?;
                Request::LockPcrs { range: cbor::uint(map.require("range")?, "range")? }
            }
            "Attestation" => {
                map.deny_unknown(&["user_data", "nonce", "public_key"])?;
                // Sizes are checked by the device logic, which answers
                // InputTooLarge like the real NSM.
                Request::Attestation {
                    user_data: cbor::opt_bytes(map.get("user_data"), "user_data", MAX_REQUEST_LEN)?,
                    nonce: cbor::opt_bytes(map.get("nonce"), "nonce", MAX_REQUEST_LEN)?,
                    public_key: cbor::opt_bytes(map.get("public_key"), "public_key", MAX_REQUEST_LEN)?,
                }
            }
            other => return Err(ProtocolError::UnknownVariant { what: "request", name: other.into() }),
        };
        Ok(req)
    }
}

impl Response {
    /// The wire name of the response, used in error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Response::DescribePcr { .. } => "DescribePCR",
            Response::ExtendPcr { .. } => "ExtendPCR",
            Response::LockPcr => "LockPCR",
            Response::LockPcrs => "LockPCRs",
            Response::DescribeNsm(_) => "DescribeNSM",
            Response::Attestation { .. } => "Attestation",
            Response::GetRandom { .. } => "GetRandom",
            Response::Error(_) => "Error",
        }
    }

    pub fn to_cbor(&self) -> Vec<u8> {
        let body = match self {
            Response::LockPcr | Response::LockPcrs => return cbor::encode(&Value::Text(self.name().into())),
            Response::DescribePcr { lock, data } => {
                cbor::tmap(vec![("lock", Value::Bool(*lock)), ("data", Value::Bytes(data.clone()))])
            }
            Response::ExtendPcr { data } => cbor::tmap(vec![("data", Value::Bytes(data.clone()))]),
            Response::DescribeNsm(d) => cbor::tmap(vec![
                ("version_major", Value::from(d.version_major)),
                ("version_minor", Value::from(d.version_minor)),
                ("version_patch", Value::from(d.version_patch)),
                ("module_id", Value::Text(d.module_id.clone())),
                ("max_pcrs", Value::from(d.max_pcrs)),
                ("locked_pcrs", Value::Array(d.locked_pcrs.iter().map(|i| Value::from(*i)).collect())),
                ("digest", Value::Text(d.digest.clone())),
            ]),
            Response::Attestation { document } => cbor::tmap(vec![("document", Value::Bytes(document.clone()))]),
            Response::GetRandom { random } => cbor::tmap(vec![("random", Value::Bytes(random.clone()))]),
            Response::Error(code) => Value::Text(code.as_str().into()),
        };
        cbor::encode(&cbor::tmap(vec![(self.name(), body)]))
    }

    /// Decodes a device response, enforcing per-field limits.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let value = cbor::decode(bytes, "response", MAX_RESPONSE_LEN)?;
        let (name, body) = split_variant(&value, "response")?;
        let Some(body) = body else {
            return match name {
                "LockPCR" => Ok(Response::LockPcr),
                "LockPCRs" => Ok(Response::LockPcrs),
                other => Err(ProtocolError::UnknownVariant { what: "response", name: other.into() }),
            };
        };
        if name == "Error" {
            let code = cbor::text(body, "Error", 64)?;
            return Ok(Response::Error(ErrorCode::from_name(&code)));
        }
        let map = Map::new(body, "response")?;
        let resp = match name {
            "DescribePCR" => {
                map.deny_unknown(&["lock", "data"])?;
                Response::DescribePcr {
                    lock: cbor::boolean(map.require("lock")?, "lock")?,
                    data: pcr_value(map.require("data")?, "data")?,
                }
            }
            "ExtendPCR" => {
                map.deny_unknown(&["data"])?;
                Response::ExtendPcr { data: pcr_value(map.require("data")?, "data")? }
            }
            "DescribeNSM" => {
                map.deny_unknown(&[
                    "version_major",
                    "version_minor",
                    "version_patch",
                    "module_id",
                    "max_pcrs",
                    "locked_pcrs",
                    "digest",
                ])?;
                let max_pcrs: u16 = cbor::uint(map.require("max_pcrs")?, "max_pcrs")?;
                if max_pcrs > 1024 {
                    return Err(ProtocolError::OutOfRange { field: "max_pcrs" });
                }
                let locked = cbor::array(map.require("locked_pcrs")?, "locked_pcrs", usize::from(max_pcrs))?
                    .iter()
                    .map(|v| cbor::uint::<u16>(v, "locked_pcrs"))
                    .collect::<Result<Vec<u16>, _>>()?;
                Response::DescribeNsm(NsmDescription {
                    version_major: cbor::uint(map.require("version_major")?, "version_major")?,
                    version_minor: cbor::uint(map.require("version_minor")?, "version_minor")?,
                    version_patch: cbor::uint(map.require("version_patch")?, "version_patch")?,
                    module_id: cbor::text(map.require("module_id")?, "module_id", MAX_MODULE_ID_LEN)?,
                    max_pcrs,
                    locked_pcrs: locked,
                    digest: cbor::text(map.require("digest")?, "digest", 16)?,
                })
            }
            "Attestation" => {
                map.deny_unknown(&["document"])?;
                Response::Attestation { document: cbor::bytes(map.require("document")?, "document", MAX_RESPONSE_LEN)? }
            }
            "GetRandom" => {
                map.deny_unknown(&["random"])?;
                let random = cbor::bytes(map.require("random")?, "random", MAX_RANDOM_LEN)?;
                if random.is_empty() {
                    return Err(ProtocolError::BadLength { field: "random", len: 0, expected: "at least 1 byte" });
                }
                Response::GetRandom { random }
            }
            other => return Err(ProtocolError::UnknownVariant { what: "response", name: other.into() }),
        };
        Ok(resp)
    }
}

/// PCR values are digests: SHA-256, SHA-384 or SHA-512 sized.
pub(crate) use sworn_attestation::document::pcr_value;

/// Splits an externally tagged enum value into its name and optional body.
fn split_variant<'a>(value: &'a Value, what: &'static str) -> Result<(&'a str, Option<&'a Value>), ProtocolError> {
    match value {
        Value::Text(name) => Ok((name.as_str(), None)),
        Value::Map(pairs) if pairs.len() == 1 => match &pairs[0] {
            (Value::Text(name), body) => Ok((name.as_str(), Some(body))),
            _ => Err(ProtocolError::WrongType { field: what, expected: "variant name as text" }),
        },
        Value::Map(_) => Err(ProtocolError::WrongType { field: what, expected: "map with exactly one variant" }),
        _ => Err(ProtocolError::WrongType { field: what, expected: "text or single-entry map" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_match_the_aws_wire_format() {
        // {"DescribePCR": {"index": 3}}
        assert_eq!(
            hex::encode(Request::DescribePcr { index: 3 }.to_cbor()),
            "a16b4465736372696265504352a165696e64657803"
        );
        // "GetRandom"
        assert_eq!(hex::encode(Request::GetRandom.to_cbor()), "6947657452616e646f6d");
        let att = Request::Attestation { user_data: Some(vec![1]), nonce: None, public_key: None }.to_cbor();
        assert_eq!(
            Request::from_cbor(&att).unwrap_or(Request::GetRandom),
            Request::Attestation { user_data: Some(vec![1]), nonce: None, public_key: None }
        );
    }

    #[test]
    fn every_request_and_response_round_trips() {
        let reqs = [
            Request::DescribePcr { index: 16 },
            Request::ExtendPcr { index: 17, data: vec![9; 100] },
            Request::LockPcr { index: 18 },
            Request::LockPcrs { range: 20 },
            Request::DescribeNsm,
            Request::Attestation { user_data: None, nonce: Some(vec![2; 4]), public_key: Some(vec![3; 8]) },
            Request::GetRandom,
        ];
        for r in reqs {
            assert_eq!(Request::from_cbor(&r.to_cbor()), Ok(r));
        }
        let resps = [
            Response::DescribePcr { lock: true, data: vec![0; 48] },
            Response::ExtendPcr { data: vec![1; 48] },
            Response::LockPcr,
            Response::LockPcrs,
            Response::DescribeNsm(NsmDescription {
                version_major: 1,
                version_minor: 0,
                version_patch: 0,
                module_id: "i-x".into(),
                max_pcrs: 32,
                locked_pcrs: vec![0, 1, 2],
                digest: "SHA384".into(),
            }),
            Response::Attestation { document: vec![0x84; 10] },
            Response::GetRandom { random: vec![7; 256] },
            Response::Error(ErrorCode::ReadOnlyIndex),
            Response::Error(ErrorCode::Other("NewCode".into())),
        ];
        for r in resps {
            assert_eq!(Response::from_cbor(&r.to_cbor()), Ok(r));
        }
    }

    #[test]
    fn truncated_responses_are_errors_at_every_length() {
        let full = Response::DescribePcr { lock: false, data: vec![5; 48] }.to_cbor();
        for n in 0..full.len() {
            assert!(Response::from_cbor(&full[..n]).is_err(), "prefix of {n} bytes accepted");
        }
    }

    #[test]
    fn malformed_responses_name_the_field() {
        let bad_len = cbor::encode(&cbor::tmap(vec![(
            "DescribePCR",
            cbor::tmap(vec![("lock", Value::Bool(true)), ("data", Value::Bytes(vec![0; 47]))]),
        )]));
        assert_eq!(
            Response::from_cbor(&bad_len),
            Err(ProtocolError::BadLength { field: "data", len: 47, expected: "32, 48 or 64 bytes" })
        );
        let wrong_type = cbor::encode(&cbor::tmap(vec![(
            "DescribePCR",
            cbor::tmap(vec![("lock", Value::from(1u8)), ("data", Value::Bytes(vec![0; 48]))]),
        )]));
        assert_eq!(Response::from_cbor(&wrong_type), Err(ProtocolError::WrongType { field: "lock", expected: "bool" }));
        let big_random =
            cbor::encode(&cbor::tmap(vec![("GetRandom", cbor::tmap(vec![("random", Value::Bytes(vec![0; 2000]))]))]));
        assert_eq!(
            Response::from_cbor(&big_random),
            Err(ProtocolError::FieldTooLong { field: "random", len: 2000, limit: MAX_RANDOM_LEN })
        );
        let missing = cbor::encode(&cbor::tmap(vec![("ExtendPCR", cbor::tmap(vec![]))]));
        assert_eq!(Response::from_cbor(&missing), Err(ProtocolError::MissingField { what: "response", field: "data" }));
        let mut trailing = Response::LockPcr.to_cbor();
        trailing.push(0);
        assert_eq!(Response::from_cbor(&trailing), Err(ProtocolError::TrailingBytes { what: "response", len: 1 }));
        assert!(matches!(
            Response::from_cbor(&cbor::encode(&Value::Text("Surprise".into()))),
            Err(ProtocolError::UnknownVariant { .. })
        ));
        let oversized = vec![0u8; MAX_RESPONSE_LEN + 1];
        assert!(matches!(Response::from_cbor(&oversized), Err(ProtocolError::TooLarge { .. })));
    }

    #[test]
    fn byte_arrays_of_integers_are_accepted() {
        let v = cbor::tmap(vec![(
            "ExtendPCR",
            cbor::tmap(vec![("data", Value::Array((0..48u8).map(Value::from).collect()))]),
        )]);
        assert_eq!(Response::from_cbor(&cbor::encode(&v)), Ok(Response::ExtendPcr { data: (0..48).collect() }));
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let v = Value::Map(vec![(
            Value::Text("ExtendPCR".into()),
            Value::Map(vec![
                (Value::Text("data".into()), Value::Bytes(vec![0; 48])),
                (Value::Text("data".into()), Value::Bytes(vec![1; 48])),
            ]),
        )]);
        assert!(matches!(Response::from_cbor(&cbor::encode(&v)), Err(ProtocolError::DuplicateField { .. })));
    }
}
