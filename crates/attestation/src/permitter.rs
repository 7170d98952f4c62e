//! Escrin's `NitroEnclavePermitter`, as its `NE` library reads a document:
//! byte by byte, at fixed offsets, stricter than CBOR or X.509 are. A
//! document that [`crate::verify()`] accepts can still revert on chain (a
//! tagged COSE_Sign1, a short module id, a certificate length in another
//! form), so this module answers the question a Smart Worker's operator
//! has: will the permitter take this document, and if not, with which
//! revert? [`Revert`] names the contract's own error or reason string.
//!
//! [`Permitter::acquire`] runs `acquireIdentity`'s checks in the contract's
//! order: the duration cap, the layout, the PCR selector, the certificate
//! chain by issuer common name and validity, the signatures (unless
//! [`SignatureCheck::Skipped`], as on the development chains 31337 and
//! 1337), the nonce, and the binding in `bytes32(user_data)`.
//!
//! Where the contract's arithmetic is approximate (its UTCTime conversion
//! uses 365.25-day years) this module computes exact times; the two can
//! differ near a validity bound by up to a day, well inside the permitter's
//! own fuzz. Two reason strings the facts leave open are named after the
//! nearest documented one: a payload that is not a 9-entry map reverts
//! `expected module_id`, and a bad value of `public_key`, `user_data` or
//! `nonce` reverts `expected userdata bytes`.

use std::collections::HashMap;

use p384::ecdsa::{signature::Verifier, Signature, VerifyingKey};
use sha3::{Digest, Keccak256};

use crate::cose::{sig_structure, PROTECTED_ES384};
use crate::measurements::{selector_hash, Pcr, PCR_LEN};

/// The longest permit `acquireIdentity` grants, in seconds (not
/// configurable in the contract).
pub const MAX_PERMIT_DURATION: u64 = 1800;
/// How old a document may be, by the contract's reckoning, in seconds
/// (compared against a millisecond timestamp, so in effect never).
const NOT_BEFORE_WINDOW: u64 = 1800;
/// After this block time (the AWS root's notAfter) the contract refuses all.
const CONTRACT_END: u64 = 2_519_044_085;
/// The common name the first certificate after the root must be issued by.
pub const ROOT_COMMON_NAME: &str = "aws.nitro-enclaves";
/// The AWS Nitro root's P-384 key, as the contract pins it (uncompressed).
pub const AWS_ROOT_KEY: &str = "04fc0254eba608c1f36870e29ada90be46383292736e894bfff672d989444b5051e534a4b1f6dbe3c0bc581a32b7b176070ede12d69a3fea211b66e752cf7dd1dd095f6f1370f4170843d9dc100121e4cf63012809664487c9796284304dc53ff4";
/// The document's first bytes: untagged COSE_Sign1, protected `{1: -35}`,
/// empty unprotected map, a payload with a 2-byte length.
const DOCUMENT_PREFIX: [u8; 8] = [0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x59];
/// ecdsa-with-SHA384, as a DER AlgorithmIdentifier.
const ECDSA_SHA384_ALGORITHM: [u8; 12] = [0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
/// The OID of commonName (2.5.4.3).
const COMMON_NAME_OID: [u8; 5] = [0x06, 0x03, 0x55, 0x04, 0x03];

/// How the permitter ended a call that did not grant: a custom error of
/// the contract, or `Error(string)` with the library's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Revert {
    #[error("DurationTooLong()")]
    DurationTooLong,
    #[error("ContractExpired()")]
    ContractExpired,
    #[error("DocAlreadyUsed()")]
    DocAlreadyUsed,
    #[error("BindingMismatch()")]
    BindingMismatch,
    #[error("CertExpired()")]
    CertExpired,
    #[error("CertNotActive()")]
    CertNotActive,
    #[error("InvalidSignature()")]
    InvalidSignature,
    /// A `require` without a message (the signature's `58 60`).
    #[error("revert without a reason")]
    Bare,
    #[error("Error({0:?})")]
    Reason(&'static str),
}

impl Revert {
    /// The 4-byte selector of a custom error (as a node reports it).
    pub fn selector(&self) -> Option<[u8; 4]> {
        let hex = match self {
            Revert::DurationTooLong => "9529f506",
            Revert::ContractExpired => "0790d4e3",
            Revert::DocAlreadyUsed => "1d3300c0",
            Revert::BindingMismatch => "438c4873",
            Revert::CertExpired => "08fceeaa",
            Revert::CertNotActive => "d4b1c2f8",
            Revert::InvalidSignature => "8baa579f",
            Revert::Bare | Revert::Reason(_) => return None,
        };
        let mut out = [0u8; 4];
        hex::decode_to_slice(hex, &mut out).ok()?;
        Some(out)
    }
}

/// Whether P-384 signatures are checked: on Sapphire (0x5afd..=0x5aff) they
/// are, with its precompile; on the development chains 31337 and 1337 the
/// contract returns without checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    Checked,
    Skipped,
}

impl SignatureCheck {
    /// The contract's choice for `chain_id` (`None`: chains where its P-384
    /// check reverts, `Panic(0x11)` below Sapphire's ids, `no p384` above).
    pub fn for_chain(chain_id: u64) -> Option<SignatureCheck> {
        match chain_id {
            1337 | 31337 => Some(SignatureCheck::Skipped),
            0x5afd..=0x5aff => Some(SignatureCheck::Checked),
            _ => None,
        }
    }
}

/// A document's fields as the permitter reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermitterDocument<'a> {
    pub module_id: &'a [u8],
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    pub pcrs: Vec<Pcr>,
    pub certificate: &'a [u8],
    pub cabundle: Vec<&'a [u8]>,
    pub public_key: Option<&'a [u8]>,
    pub user_data: Option<&'a [u8]>,
    pub nonce: Option<&'a [u8]>,
    payload: &'a [u8],
    signature: &'a [u8],
}

impl<'a> PermitterDocument<'a> {
    /// Reads `bytes` with the permitter's layout checks (steps 2-4 of its
    /// document verification).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Revert> {
        let mut c = Cursor::new(bytes);
        c.expect(&DOCUMENT_PREFIX, Revert::Reason("invalid doc"))?;
        let payload = c.bytes_u16(Revert::Reason("invalid doc"))?;
        c.expect(&[0x58, 0x60], Revert::Bare)?;
        let signature = c.take(96, Revert::Bare)?;
        let mut p = Cursor::new(payload);
        let module = Revert::Reason("expected module_id");
        p.expect(&[0xa9], module.clone())?;
        p.expect(&key("module_id"), module.clone())?;
        p.expect(&[0x78], module.clone())?;
        let n = p.u8(module.clone())?;
        let module_id = p.take(usize::from(n), module)?;
        let dt = Revert::Reason("expected digest & timestamp");
        p.expect(&key("digest"), dt.clone())?;
        p.expect(&key("SHA384"), dt.clone())?;
        p.expect(&key("timestamp"), dt.clone())?;
        p.expect(&[0x1b], dt.clone())?;
        let timestamp = u64::from_be_bytes(p.array(dt)?);
        let pe = Revert::Reason("expected pcrs");
        p.expect(&key("pcrs"), pe.clone())?;
        p.expect(&[0xb0], pe.clone())?;
        let mut pcrs = Vec::with_capacity(16);
        for i in 0u8..16 {
            p.expect(&[i, 0x58, 0x30], pe.clone())?;
            pcrs.push(p.array::<PCR_LEN>(pe.clone())?);
        }
        let ce = Revert::Reason("expected certificate");
        p.expect(&key("certificate"), ce.clone())?;
        p.expect(&[0x59], ce.clone())?;
        let certificate = p.bytes_u16(ce)?;
        let be = Revert::Reason("expected cabundle");
        p.expect(&key("cabundle"), be.clone())?;
        let head = p.u8(be.clone())?;
        if !(0x80..=0x8f).contains(&head) {
            return Err(be);
        }
        let mut cabundle = Vec::new();
        for _ in 0..head - 0x80 {
            let ie = Revert::Reason("invalid cabundle");
            p.expect(&[0x59], ie.clone())?;
            cabundle.push(p.bytes_u16(ie)?);
        }
        let public_key = p.optional_bytes("public_key", Revert::Reason("expected public_key"))?;
        let user_data = p.optional_bytes("user_data", Revert::Reason("expected user_data"))?;
        let nonce = p.optional_bytes("nonce", Revert::Reason("expected nonce"))?;
        if !p.rest().is_empty() {
            return Err(Revert::Reason("unparsed payload"));
        }
        Ok(PermitterDocument {
            module_id,
            timestamp,
            pcrs,
            certificate,
            cabundle,
            public_key,
            user_data,
            nonce,
            payload,
            signature,
        })
    }

    /// `bytes32(user_data)`: its first 32 bytes, right-padded with zeros.
    pub fn binding(&self) -> [u8; 32] {
        first_word(self.user_data)
    }

    /// The first 32 bytes of the nonce (zero-padded): the contract's record
    /// of used documents. A missing nonce is nonce 0.
    pub fn nonce_word(&self) -> [u8; 32] {
        first_word(self.nonce)
    }
}

fn first_word(bytes: Option<&[u8]>) -> [u8; 32] {
    let mut out = [0u8; 32];
    let b = bytes.unwrap_or_default();
    let n = b.len().min(32);
    out[..n].copy_from_slice(&b[..n]);
    out
}

/// A CBOR text key as the document encodes it (short text, < 24 bytes).
fn key(name: &str) -> Vec<u8> {
    let mut out = vec![0x60 | name.len() as u8];
    out.extend_from_slice(name.as_bytes());
    out
}

/// The binding a Smart Worker puts in `bytes32(user_data)`:
/// `keccak256(abi.encode(uint256 chainId, address registry, bytes32 identity,
/// address requester, bool acquire))`. Release documents have `acquire`
/// false.
pub fn binding(
    chain_id: u64,
    registry: &[u8; 20],
    identity: &[u8; 32],
    requester: &[u8; 20],
    acquire: bool,
) -> [u8; 32] {
    let mut words = [0u8; 160];
    words[24..32].copy_from_slice(&chain_id.to_be_bytes());
    words[44..64].copy_from_slice(registry);
    words[64..96].copy_from_slice(identity);
    words[108..128].copy_from_slice(requester);
    words[159] = u8::from(acquire);
    Keccak256::digest(words).into()
}

/// One permitter instance: its PCR selector, signature rule and the
/// nonces it has burnt.
#[derive(Debug, Clone)]
pub struct Permitter {
    pub chain_id: u64,
    pub registry: [u8; 20],
    pub mask: u16,
    pub pcr_hash: [u8; 32],
    pub signatures: SignatureCheck,
    burnt: HashMap<[u8; 32], [u8; 32]>,
}

/// The arguments of `acquireIdentity` and the block it runs in.
#[derive(Debug, Clone)]
pub struct AcquireCall<'a> {
    pub identity: [u8; 32],
    pub requester: [u8; 20],
    pub duration: u64,
    /// The attestation document (`authorization`).
    pub document: &'a [u8],
    /// `block.timestamp`, in seconds.
    pub block_time: u64,
}

impl Permitter {
    pub fn new(chain_id: u64, registry: [u8; 20], mask: u16, pcr_hash: [u8; 32], signatures: SignatureCheck) -> Self {
        Permitter { chain_id, registry, mask, pcr_hash, signatures, burnt: HashMap::new() }
    }

    /// `acquireIdentity`: the permit's expiry, or the revert. A success
    /// burns the document's nonce, as the contract does.
    pub fn acquire(&mut self, call: &AcquireCall<'_>) -> Result<u64, Revert> {
        if call.duration > MAX_PERMIT_DURATION {
            return Err(Revert::DurationTooLong);
        }
        let nbf = call.block_time.saturating_sub(NOT_BEFORE_WINDOW);
        let doc = self.verify(call.document, nbf, call.block_time)?;
        let nonce = doc.nonce_word();
        if self.burnt.get(&nonce).is_some_and(|id| *id != [0; 32]) {
            return Err(Revert::DocAlreadyUsed);
        }
        if doc.binding() != binding(self.chain_id, &self.registry, &call.identity, &call.requester, true) {
            return Err(Revert::BindingMismatch);
        }
        self.burnt.insert(nonce, call.identity);
        Ok(call.block_time + call.duration)
    }

    /// The `NE` library's document verification (without nonce and binding).
    pub fn verify<'a>(&self, bytes: &'a [u8], nbf: u64, block_time: u64) -> Result<PermitterDocument<'a>, Revert> {
        if block_time >= CONTRACT_END {
            return Err(Revert::ContractExpired);
        }
        let doc = PermitterDocument::parse(bytes)?;
        if doc.timestamp <= nbf {
            return Err(Revert::Reason("old attestation"));
        }
        let hash = selector_hash(self.mask, |i| doc.pcrs.get(usize::from(i)).copied())
            .map_err(|_| Revert::Reason("wrong pcrs"))?;
        if hash != self.pcr_hash {
            return Err(Revert::Reason("wrong pcrs"));
        }
        let mut issuer_cn = ROOT_COMMON_NAME.as_bytes().to_vec();
        let mut issuer_key = hex::decode(AWS_ROOT_KEY).map_err(|_| Revert::Bare)?;
        for der in doc.cabundle.iter().skip(1).chain(std::iter::once(&doc.certificate)) {
            let cert = PermitterCert::parse(der)?;
            if cert.issuer_cn != issuer_cn.as_slice() {
                return Err(Revert::Reason("wrong issuer"));
            }
            cert.check_validity(block_time)?;
            if self.signatures == SignatureCheck::Checked {
                verify_p384(&issuer_key, cert.tbs, SignatureBytes::Der(cert.signature))?;
            }
            issuer_cn = cert.subject_cn.to_vec();
            issuer_key = cert.key.to_vec();
        }
        if self.signatures == SignatureCheck::Checked {
            let to_sign = sig_structure(&PROTECTED_ES384, doc.payload);
            verify_p384(&issuer_key, &to_sign, SignatureBytes::Fixed(doc.signature))?;
        }
        Ok(doc)
    }
}

enum SignatureBytes<'a> {
    Der(&'a [u8]),
    Fixed(&'a [u8]),
}

fn verify_p384(key: &[u8], message: &[u8], signature: SignatureBytes<'_>) -> Result<(), Revert> {
    let key = VerifyingKey::from_sec1_bytes(key).map_err(|_| Revert::InvalidSignature)?;
    let signature = match signature {
        SignatureBytes::Der(d) => Signature::from_der(d),
        SignatureBytes::Fixed(f) => Signature::from_slice(f),
    }
    .map_err(|_| Revert::InvalidSignature)?;
    key.verify(message, &signature).map_err(|_| Revert::InvalidSignature)
}

/// A certificate as the permitter reads it: CNs, validity, key, signature.
#[derive(Debug)]
struct PermitterCert<'a> {
    tbs: &'a [u8],
    issuer_cn: &'a [u8],
    subject_cn: &'a [u8],
    not_before: u64,
    not_after: u64,
    /// The last 97 bytes of the SubjectPublicKeyInfo.
    key: &'a [u8],
    signature: &'a [u8],
}

impl<'a> PermitterCert<'a> {
    fn parse(der: &'a [u8]) -> Result<Self, Revert> {
        let mut c = Cursor::new(der);
        c.expect(&[0x30, 0x82], Revert::Reason("not cert"))?;
        let len = c.u16(Revert::Reason("not cert"))?;
        if usize::from(len) != c.rest().len() {
            return Err(Revert::Reason("not cert len"));
        }
        let tbs_start = c.at;
        c.expect(&[0x30, 0x82], Revert::Reason("not tbs"))?;
        let tbs_len = c.u16(Revert::Reason("not tbs"))?;
        let tbs_body = c.take(usize::from(tbs_len), Revert::Reason("not tbs"))?;
        let tbs = &der[tbs_start..c.at];
        let mut t = Cursor::new(tbs_body);
        t.expect(&[0xa0, 0x03, 0x02, 0x01, 0x02], Revert::Reason("not v2 tbs"))?;
        t.expect(&[0x02], Revert::Reason("not serial"))?;
        let n = t.u8(Revert::Reason("not serial"))?;
        if n >= 0x80 {
            return Err(Revert::Reason("not serial"));
        }
        t.take(usize::from(n), Revert::Reason("not serial"))?;
        t.expect(&ECDSA_SHA384_ALGORITHM, Revert::Reason("wrong sig"))?;
        let issuer_cn = common_name(&mut t)?;
        t.expect(&[0x30, 0x1e], Revert::Reason("not utc tz"))?;
        let not_before = utc_time(&mut t)?;
        let not_after = utc_time(&mut t)?;
        let subject_cn = common_name(&mut t)?;
        t.expect(&[0x30], Revert::Reason("not spki"))?;
        let n = t.u8(Revert::Reason("not spki"))?;
        if !(97..0x80).contains(&n) {
            return Err(Revert::Reason("not spki"));
        }
        let spki = t.take(usize::from(n), Revert::Reason("not spki"))?;
        let key = &spki[spki.len() - 97..];
        // Extensions (and anything else in the TBS) are not read.
        c.expect(&ECDSA_SHA384_ALGORITHM, Revert::Reason("wrong sig"))?;
        c.expect(&[0x03], Revert::Reason("not sig"))?;
        let n = c.u8(Revert::Reason("not sig"))?;
        if n >= 0x80 || n == 0 {
            return Err(Revert::Reason("not sig"));
        }
        c.expect(&[0x00], Revert::Reason("not sig"))?;
        let signature = c.take(usize::from(n) - 1, Revert::Reason("not sig"))?;
        Ok(PermitterCert { tbs, issuer_cn, subject_cn, not_before, not_after, key, signature })
    }

    /// The contract's validity window: a day of slack for certificates that
    /// live under two days, a quarter of their life otherwise.
    fn check_validity(&self, block_time: u64) -> Result<(), Revert> {
        let live = self.not_after.saturating_sub(self.not_before);
        let fuzz = if live < 2 * 86_400 { 86_400 } else { live / 4 };
        if block_time > self.not_after.saturating_add(fuzz) {
            return Err(Revert::CertExpired);
        }
        if block_time < self.not_before.saturating_sub(fuzz) {
            return Err(Revert::CertNotActive);
        }
        Ok(())
    }
}

/// A Name's commonName (a UTF8String), the rest of the Name skipped.
fn common_name<'a>(c: &mut Cursor<'a>) -> Result<&'a [u8], Revert> {
    c.expect(&[0x30], Revert::Reason("not seq"))?;
    let len = c.der_len(Revert::Reason("seq too big"))?;
    let name = c.take(len, Revert::Reason("not seq"))?;
    let mut n = Cursor::new(name);
    let mut cn = None;
    while !n.rest().is_empty() {
        n.expect(&[0x31], Revert::Reason("not rdn"))?;
        let len = n.der_len(Revert::Reason("not rdn"))?;
        let rdn = n.take(len, Revert::Reason("not rdn"))?;
        let mut r = Cursor::new(rdn);
        r.expect(&[0x30], Revert::Reason("not rdn"))?;
        let len = r.der_len(Revert::Reason("not rdn"))?;
        let mut atv = Cursor::new(r.take(len, Revert::Reason("not rdn"))?);
        if atv.rest().starts_with(&COMMON_NAME_OID) {
            atv.take(COMMON_NAME_OID.len(), Revert::Reason("not cn"))?;
            atv.expect(&[0x0c], Revert::Reason("not cn"))?;
            let len = atv.der_len(Revert::Reason("not cn"))?;
            cn = Some(atv.take(len, Revert::Reason("not cn"))?);
        }
    }
    cn.ok_or(Revert::Reason("no CN"))
}

/// `17 0d YYMMDDHHMMSSZ` as Unix seconds (years 1950-2049, as X.509 reads
/// two digits).
fn utc_time(c: &mut Cursor<'_>) -> Result<u64, Revert> {
    c.expect(&[0x17, 0x0d], Revert::Reason("not utc tz"))?;
    let t = c.take(13, Revert::Reason("not utc tz"))?;
    if t[12] != b'Z' || !t[..12].iter().all(u8::is_ascii_digit) {
        return Err(Revert::Reason("not utc tz"));
    }
    let d = |i: usize| u32::from(t[i] - b'0') * 10 + u32::from(t[i + 1] - b'0');
    let yy = d(0) as i32;
    let year = if yy < 50 { 2000 + yy } else { 1900 + yy };
    let month = time::Month::try_from(d(2) as u8).map_err(|_| Revert::Reason("bad month"))?;
    let date = time::Date::from_calendar_date(year, month, d(4) as u8).map_err(|_| Revert::Reason("bad month"))?;
    let at = date
        .with_hms(d(6) as u8, d(8) as u8, d(10) as u8)
        .map_err(|_| Revert::Reason("not utc tz"))?
        .assume_utc()
        .unix_timestamp();
    u64::try_from(at).map_err(|_| Revert::Reason("not utc tz"))
}

/// Reads fixed-layout bytes; every failure is the caller's revert.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, at: 0 }
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at..]
    }

    fn take(&mut self, n: usize, e: Revert) -> Result<&'a [u8], Revert> {
        let out = self.rest().get(..n).ok_or(e)?;
        self.at += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, e: Revert) -> Result<[u8; N], Revert> {
        self.take(N, e.clone())?.try_into().map_err(|_| e)
    }

    fn expect(&mut self, want: &[u8], e: Revert) -> Result<(), Revert> {
        if self.take(want.len(), e.clone())? != want {
            return Err(e);
        }
        Ok(())
    }

    fn u8(&mut self, e: Revert) -> Result<u8, Revert> {
        Ok(self.take(1, e)?[0])
    }

    fn u16(&mut self, e: Revert) -> Result<u16, Revert> {
        Ok(u16::from_be_bytes(self.array(e)?))
    }

    /// A 2-byte big-endian length, then that many bytes.
    fn bytes_u16(&mut self, e: Revert) -> Result<&'a [u8], Revert> {
        let n = self.u16(e.clone())?;
        self.take(usize::from(n), e)
    }

    /// A DER length of at most two bytes.
    fn der_len(&mut self, e: Revert) -> Result<usize, Revert> {
        match self.u8(e.clone())? {
            n @ 0..=0x7f => Ok(usize::from(n)),
            0x81 => Ok(usize::from(self.u8(e)?)),
            0x82 => Ok(usize::from(self.u16(e)?)),
            _ => Err(e),
        }
    }

    /// A keyed byte string that may be null, empty, or up to 0xffff bytes.
    fn optional_bytes(&mut self, name: &str, missing: Revert) -> Result<Option<&'a [u8]>, Revert> {
        self.expect(&key(name), missing)?;
        let bad = Revert::Reason("expected userdata bytes");
        match self.u8(bad.clone())? {
            0xf6 => Ok(None),
            0x40 => Ok(Some(&[])),
            0x58 => {
                let n = self.u8(bad.clone())?;
                self.take(usize::from(n), bad).map(Some)
            }
            0x59 => self.bytes_u16(bad).map(Some),
            _ => Err(bad),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWS_DOC: &[u8] = include_bytes!("../../../tests/data/aws-nitro-attestation-debug.cbor");
    /// The AWS document's timestamp, in seconds.
    const AWS_DOC_TIME: u64 = 1_703_101_342;

    fn permitter(mask: u16, doc: &PermitterDocument<'_>, signatures: SignatureCheck) -> Permitter {
        let hash = selector_hash(mask, |i| doc.pcrs.get(usize::from(i)).copied()).unwrap();
        Permitter::new(1337, [0x11; 20], mask, hash, signatures)
    }

    #[test]
    fn the_aws_document_parses_with_the_facts_values_and_selector_hashes() {
        let doc = PermitterDocument::parse(AWS_DOC).unwrap();
        assert_eq!(doc.module_id, b"i-04e250099155f9e9f-enc018c88bffa961e5d");
        assert_eq!(doc.timestamp, 1_703_101_342_719);
        assert_eq!((doc.certificate.len(), doc.cabundle.len()), (639, 4));
        assert_eq!(doc.public_key, Some(&[][..]));
        assert_eq!(hex::encode(doc.binding()), "d50decc78c72f38badf2f053e54bf0b79d1e9975d4f205b06b18b984b5b9204b");
        assert_eq!(hex::encode(doc.nonce_word()), "856493693d787d7134e61cdb374ed3ccaeef709f542adda0e59aeefc09206309");
        let pcr = |i: u8| doc.pcrs.get(usize::from(i)).copied();
        assert_eq!(
            hex::encode(selector_hash(0, pcr).unwrap()),
            "290decd9548b62a8d60345a988386fc84ba6bc95484008f6362f93160ef3e563"
        );
        assert_eq!(
            hex::encode(selector_hash(7, pcr).unwrap()),
            "f922ae56a1ff9042aa9a8c0a75eb438642db50c431b56e6f9b0421bcca8cf60f"
        );
    }

    #[test]
    fn the_aws_document_passes_pcrs_chain_and_signatures_but_not_the_binding_at_its_time() {
        let doc = PermitterDocument::parse(AWS_DOC).unwrap();
        let mut p = permitter(7, &doc, SignatureCheck::Checked);
        let call = AcquireCall {
            identity: [0x22; 32],
            requester: [0x33; 20],
            duration: 1800,
            document: AWS_DOC,
            block_time: AWS_DOC_TIME + 30,
        };
        assert_eq!(p.acquire(&call), Err(Revert::BindingMismatch));
        assert!(p.verify(AWS_DOC, 0, AWS_DOC_TIME + 30).is_ok());
        // A day and more later, the regional certificate has run out.
        assert_eq!(p.verify(AWS_DOC, 0, 1_764_700_000).map(|_| ()), Err(Revert::CertExpired));
        assert_eq!(p.acquire(&AcquireCall { duration: 3600, ..call.clone() }), Err(Revert::DurationTooLong));
        // A flipped signature byte fails where signatures are checked only.
        let mut bad = AWS_DOC.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(p.verify(&bad, 0, AWS_DOC_TIME + 30).map(|_| ()), Err(Revert::InvalidSignature));
        let lax = permitter(7, &doc, SignatureCheck::Skipped);
        assert!(lax.verify(&bad, 0, AWS_DOC_TIME + 30).is_ok());
    }

    #[test]
    fn layout_deviations_revert_with_the_contracts_reasons() {
        let mut tagged = vec![0xd2];
        tagged.extend_from_slice(AWS_DOC);
        assert_eq!(PermitterDocument::parse(&tagged), Err(Revert::Reason("invalid doc")));
        assert_eq!(PermitterDocument::parse(&AWS_DOC[..100]), Err(Revert::Reason("invalid doc")));
        let doc = PermitterDocument::parse(AWS_DOC).unwrap();
        let p = permitter(7, &doc, SignatureCheck::Skipped);
        let other = Permitter { pcr_hash: [0; 32], ..p.clone() };
        assert_eq!(other.verify(AWS_DOC, 0, AWS_DOC_TIME).map(|_| ()), Err(Revert::Reason("wrong pcrs")));
        assert_eq!(p.verify(AWS_DOC, 0, CONTRACT_END).map(|_| ()), Err(Revert::ContractExpired));
    }

    #[test]
    fn the_binding_is_keccak_of_the_abi_encoded_words() {
        // Facts §8: chain 23295, registry R, identity I, requester A.
        let mut r = [0u8; 20];
        hex::decode_to_slice("5FbDB2315678afecb367f032d93F642f64180aa3", &mut r).unwrap();
        let mut i = [0u8; 32];
        hex::decode_to_slice("b725694d2cfafceaf7dbbf2b29ce7f8879ba0c23451f19aee5db8722812e3409", &mut i).unwrap();
        let mut a = [0u8; 20];
        hex::decode_to_slice("70997970C51812dc3A010C7d01b50e0d17dc79C8", &mut a).unwrap();
        assert_eq!(
            hex::encode(binding(23295, &r, &i, &a, true)),
            "1306ac2dce2e47fe354b5c8876b52e6a64d5ffbb4c87b0dd1fa053b41b26e365"
        );
        assert!(hex::encode(binding(23295, &r, &i, &a, false)).starts_with("428a95fc"));
    }

    #[test]
    fn custom_errors_carry_their_selectors() {
        assert_eq!(Revert::DocAlreadyUsed.selector(), Some([0x1d, 0x33, 0x00, 0xc0]));
        assert_eq!(Revert::BindingMismatch.selector(), Some([0x43, 0x8c, 0x48, 0x73]));
        assert_eq!(Revert::Reason("invalid doc").selector(), None);
        assert_eq!(SignatureCheck::for_chain(31337), Some(SignatureCheck::Skipped));
        assert_eq!(SignatureCheck::for_chain(0x5aff), Some(SignatureCheck::Checked));
        assert_eq!(SignatureCheck::for_chain(1), None);
    }
}
