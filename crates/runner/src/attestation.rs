//! `GET /attestation`: an attestation document from the NSM for HTTP clients.
//!
//! Query: `nonce`, `user_data`, `public_key` (hex, limits of the NSM:
//! [`sworn_attestation::limits::MAX_NONCE_LEN`], `MAX_USER_DATA_LEN` and
//! `MAX_PUBLIC_KEY_LEN`: 512, 512 and 1024 bytes) and `format=cbor|json`. The
//! CBOR answer is the COSE_Sign1 document exactly as the NSM returned it
//! (parsed by `sworn-attestation` before it is served); the JSON answer is
//! its decoded view ([`sworn_attestation::AttestationDocument::to_json`])
//! with `development` and `emulator` flags ([`sworn_attestation::dev`],
//! [`sworn_attestation::emulator`]), which say the document proves nothing,
//! and `egressAllow`, the runner's `--egress-allow` patterns (empty when
//! unset). That list is the runner's report, outside the signed document.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use serde_json::json;
use sworn_nsm::{AttestationRequest, DeviceKind, Nsm};

use crate::body::OutBody;
use crate::server::{error, json_response};

/// Output format of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Cbor,
    Json,
}

/// The checked query of `GET /attestation`.
#[derive(Debug)]
struct Query {
    request: AttestationRequest,
    format: Format,
}

fn parse_query(query: &str) -> Result<Query, String> {
    let mut nonce = None;
    let mut user_data = None;
    let mut public_key = None;
    let mut format = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "nonce" => &mut nonce,
            "user_data" => &mut user_data,
            "public_key" => &mut public_key,
            "format" => &mut format,
            other => {
                return Err(format!("unknown query parameter {other:?} (use nonce, user_data, public_key, format)"))
            }
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(format!("query parameter {key:?} is given twice"));
        }
    }
    let format = match format.as_deref() {
        None | Some("cbor") => Format::Cbor,
        Some("json") => Format::Json,
        Some(other) => return Err(format!("format {other:?}: use \"cbor\" or \"json\"")),
    };
    let request = AttestationRequest::from_hex(user_data.as_deref(), nonce.as_deref(), public_key.as_deref())
        .map_err(|e| e.to_string())?;
    Ok(Query { request, format })
}

/// Answers `GET /attestation?...`. The NSM call is blocking (an ioctl, or an
/// ES384 signature in the development NSM), so it runs off the JS thread.
pub async fn get(nsm: Option<Arc<Nsm>>, query: Option<&str>, egress_allow: Vec<String>) -> Response<OutBody> {
    let Some(nsm) = nsm else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "attestation is switched off (--nsm off)");
    };
    let query = match parse_query(query.unwrap_or("")) {
        Ok(q) => q,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let kind = nsm.kind();
    let request = query.request;
    let attestation = match tokio::task::spawn_blocking(move || nsm.attest(&request)).await {
        Ok(Ok(att)) => att,
        Ok(Err(e)) => {
            tracing::warn!("attestation: {e}");
            return error(StatusCode::BAD_GATEWAY, format!("NSM: {e}"));
        }
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("NSM task: {e}")),
    };
    match query.format {
        Format::Json => {
            let mut view = attestation.to_json();
            if let Some(obj) = view.as_object_mut() {
                obj.insert("nsm".into(), json!(kind_name(kind)));
                obj.insert("egressAllow".into(), json!(egress_allow));
            }
            json_response(StatusCode::OK, view)
        }
        Format::Cbor => {
            let mut r = Response::new(OutBody::from(Bytes::from(attestation.bytes)));
            r.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/cbor"));
            r
        }
    }
}

fn kind_name(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Hardware => "hardware",
        DeviceKind::Development => "development",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_fields_are_checked() {
        let q = parse_query("nonce=00ff&user_data=0x61&format=json").unwrap();
        assert_eq!(q.format, Format::Json);
        assert_eq!(q.request.nonce(), Some(&[0x00, 0xff][..]));
        assert_eq!(q.request.user_data(), Some(&b"a"[..]));
        assert_eq!(parse_query("").unwrap().format, Format::Cbor);
        assert!(parse_query("nonce=zz").unwrap_err().contains("nonce"));
        assert!(parse_query("nonce=00&nonce=01").unwrap_err().contains("twice"));
        assert!(parse_query("pcr=1").unwrap_err().contains("unknown query parameter"));
        assert!(parse_query("format=xml").unwrap_err().contains("format"));
        let long = format!("user_data={}", "00".repeat(513));
        assert!(parse_query(&long).unwrap_err().contains("limit of 512"));
    }
}
