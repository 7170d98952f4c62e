//! What a document's `user_data` says it was made for, where the runner
//! itself fills it in.
//!
//! The runner binds its TLS key into documents (`public_key` = the key,
//! `user_data` = [`TLS_KEY_USER_DATA`]). Anyone who could get a genuine
//! document with that `user_data` and a `public_key` of their choosing could
//! pose as the enclave, so no other path may produce one: documents
//! requested through workers start with the worker's SHA-384 code
//! measurement (or, under the raw policy, are refused when they start with
//! the tag), and `GET /attestation` fixes `public_key` to the connection's
//! TLS key whenever it uses the tag. Clients accept a TLS binding only when
//! `user_data` is exactly the tag.

/// `user_data` of a document that binds the runner's TLS key.
pub const TLS_KEY_USER_DATA: &[u8] = b"sworn:tls-key:v1";

/// Whether `user_data` claims to be (or to start) a TLS key binding: such
/// user_data is refused from workers and HTTP clients.
pub fn claims_tls_binding(user_data: &[u8]) -> bool {
    user_data.starts_with(TLS_KEY_USER_DATA)
}
