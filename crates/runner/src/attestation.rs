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
//! unset). That list is the runner's report, outside the signed document
//! (the flag itself is in the image's `/cmd`, so PCR2 covers it).
//!
//! On a TLS connection (`--tls`) the document always binds that
//! connection's key: `public_key` is the SubjectPublicKeyInfo of the
//! certificate served on it and `user_data` the TLS tag
//! ([`sworn_attestation::binding::TLS_KEY_USER_DATA`]); only `nonce` (and
//! `format`) may be given, and the JSON view adds `tls: {publicKey,
//! certificateSha256}`. On plain HTTP a `user_data` that starts with the tag
//! is refused, so no document but the TLS module's binds a TLS key.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use serde_json::{json, Value};
use sworn_attestation::binding::{claims_tls_binding, TLS_KEY_USER_DATA};
use sworn_nsm::{Attestation, AttestationRequest, DeviceKind, Nsm};

use crate::body::OutBody;
use crate::peer::{Peer, TlsKey};
use crate::server::{error, json_response};

/// Output format of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Cbor,
    Json,
}

/// The query of `GET /attestation`, as given (hex still undecoded).
#[derive(Debug, Default)]
struct Query {
    nonce: Option<String>,
    user_data: Option<String>,
    public_key: Option<String>,
    format: Option<String>,
}

fn parse_query(query: &str) -> Result<Query, String> {
    let mut q = Query::default();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "nonce" => &mut q.nonce,
            "user_data" => &mut q.user_data,
            "public_key" => &mut q.public_key,
            "format" => &mut q.format,
            other => {
                return Err(format!("unknown query parameter {other:?} (use nonce, user_data, public_key, format)"))
            }
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(format!("query parameter {key:?} is given twice"));
        }
    }
    Ok(q)
}

impl Query {
    fn format(&self) -> Result<Format, String> {
        match self.format.as_deref() {
            None | Some("cbor") => Ok(Format::Cbor),
            Some("json") => Ok(Format::Json),
            Some(other) => Err(format!("format {other:?}: use \"cbor\" or \"json\"")),
        }
    }

    /// The NSM request for this query on `peer`'s connection. Over TLS the
    /// document always binds the connection's key (public_key = its key,
    /// user_data = the TLS tag), so a client can check that a fresh
    /// document (its nonce) speaks for the very connection it asked on. On
    /// plain HTTP, user_data may not claim the TLS tag: only the TLS module
    /// makes documents that bind a TLS key.
    fn request(&self, peer: &Peer) -> Result<AttestationRequest, String> {
        match &peer.tls_key {
            Some(key) => {
                for (name, given) in [("public_key", &self.public_key), ("user_data", &self.user_data)] {
                    if given.is_some() {
                        return Err(format!(
                            "{name} cannot be chosen over TLS: the document binds this connection's key \
                             (public_key = the TLS key, user_data = {:?}); pass only nonce",
                            String::from_utf8_lossy(TLS_KEY_USER_DATA)
                        ));
                    }
                }
                let nonce =
                    AttestationRequest::from_hex(None, self.nonce.as_deref(), None).map_err(|e| e.to_string())?;
                AttestationRequest::new(
                    Some(TLS_KEY_USER_DATA.to_vec()),
                    nonce.nonce().map(<[u8]>::to_vec),
                    Some(key.public_key.clone()),
                )
                .map_err(|e| e.to_string())
            }
            None => {
                let request = AttestationRequest::from_hex(
                    self.user_data.as_deref(),
                    self.nonce.as_deref(),
                    self.public_key.as_deref(),
                )
                .map_err(|e| e.to_string())?;
                if request.user_data().is_some_and(claims_tls_binding) {
                    return Err(format!(
                        "user_data may not start with the TLS binding tag {:?}: only the runner's TLS key gets \
                         such a document (ask over TLS)",
                        String::from_utf8_lossy(TLS_KEY_USER_DATA)
                    ));
                }
                Ok(request)
            }
        }
    }
}

/// Answers `GET /attestation?...` on `peer`'s connection. The NSM call is
/// blocking (an ioctl, or an ES384 signature in the development NSM), so it
/// runs off the JS thread.
pub async fn get(
    nsm: Option<Arc<Nsm>>,
    query: Option<&str>,
    peer: &Peer,
    egress_allow: Vec<String>,
) -> Response<OutBody> {
    let Some(nsm) = nsm else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "attestation is switched off (--nsm off)");
    };
    let checked = parse_query(query.unwrap_or("")).and_then(|q| Ok((q.format()?, q.request(peer)?)));
    let (format, request) = match checked {
        Ok(x) => x,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let kind = nsm.kind();
    let attestation = match tokio::task::spawn_blocking(move || nsm.attest(&request)).await {
        Ok(Ok(att)) => att,
        Ok(Err(e)) => {
            tracing::warn!("attestation: {e}");
            return error(StatusCode::BAD_GATEWAY, format!("NSM: {e}"));
        }
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("NSM task: {e}")),
    };
    match format {
        Format::Json => {
            json_response(StatusCode::OK, json_view(&attestation, kind, peer.tls_key.as_deref(), &egress_allow))
        }
        Format::Cbor => {
            let mut r = Response::new(OutBody::from(Bytes::from(attestation.bytes)));
            r.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/cbor"));
            r
        }
    }
}

/// The `format=json` answer: the decoded document, which NSM made it, and
/// over TLS the connection's key and certificate. One place to add fields.
fn json_view(attestation: &Attestation, kind: DeviceKind, tls: Option<&TlsKey>, egress_allow: &[String]) -> Value {
    let mut view = attestation.to_json();
    if let Some(obj) = view.as_object_mut() {
        obj.insert("nsm".into(), json!(kind_name(kind)));
        obj.insert("egressAllow".into(), json!(egress_allow));
        if let Some(key) = tls {
            obj.insert(
                "tls".into(),
                json!({
                    "publicKey": hex::encode(&key.public_key),
                    "certificateSha256": hex::encode(key.certificate_sha256),
                }),
            );
        }
    }
    view
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

    fn checked(query: &str, peer: &Peer) -> Result<(Format, AttestationRequest), String> {
        parse_query(query).and_then(|q| Ok((q.format()?, q.request(peer)?)))
    }

    #[test]
    fn query_fields_are_checked() {
        let plain = Peer::plain(None);
        let (format, request) = checked("nonce=00ff&user_data=0x61&format=json", &plain).unwrap();
        assert_eq!(format, Format::Json);
        assert_eq!(request.nonce(), Some(&[0x00, 0xff][..]));
        assert_eq!(request.user_data(), Some(&b"a"[..]));
        assert_eq!(checked("", &plain).unwrap().0, Format::Cbor);
        assert!(checked("nonce=zz", &plain).unwrap_err().contains("nonce"));
        assert!(checked("nonce=00&nonce=01", &plain).unwrap_err().contains("twice"));
        assert!(checked("pcr=1", &plain).unwrap_err().contains("unknown query parameter"));
        assert!(checked("format=xml", &plain).unwrap_err().contains("format"));
        let long = format!("user_data={}", "00".repeat(513));
        assert!(checked(&long, &plain).unwrap_err().contains("limit of 512"));
    }

    #[test]
    fn over_tls_the_document_binds_the_connection_key() {
        let key = Arc::new(TlsKey { public_key: vec![1, 2, 3], certificate_sha256: [9; 32] });
        let tls = Peer::tls(None, false, key);
        let (_, request) = checked("nonce=abcd", &tls).unwrap();
        assert_eq!(
            (request.public_key(), request.user_data(), request.nonce()),
            (Some(&[1u8, 2, 3][..]), Some(TLS_KEY_USER_DATA), Some(&[0xab, 0xcd][..]))
        );
        for q in ["public_key=0102", "user_data=61", "public_key=", "nonce=00&user_data=00"] {
            let e = checked(q, &tls).unwrap_err();
            assert!(e.contains("binds this connection's key"), "{q}: {e}");
        }
        assert!(checked("nonce=zz", &tls).unwrap_err().contains("nonce"));
    }

    #[test]
    fn plain_http_cannot_claim_the_tls_binding() {
        let tagged = hex::encode([TLS_KEY_USER_DATA, b"-forged"].concat());
        let e = checked(&format!("user_data={tagged}"), &Peer::plain(None)).unwrap_err();
        assert!(e.contains("TLS binding tag"), "{e}");
        assert!(checked("user_data=736f6d657468696e67", &Peer::plain(None)).is_ok());
    }
}
