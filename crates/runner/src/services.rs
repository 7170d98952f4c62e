//! Enclave services on a worker's `env`: `env.nsm` (attestation documents,
//! PCRs, randomness from the Nitro Secure Module) and Escrin's RPC fetchers
//! `env.tpm` and `env.iam`.
//!
//! Documents requested through a worker bind that worker's code measurement
//! unless the operator chose [`UserDataPolicy::Raw`] (see `sworn_nsm`'s
//! module documentation for the exact layout): first under `env.nsm`, after
//! the caller's 32 bytes under `env.tpm`, whose documents are made for
//! Escrin's permitter. NSM calls are synchronous: an
//! ioctl on Nitro, an ES384 signature in the development NSM; both take about
//! a millisecond and count against the calling request's CPU time.

use std::sync::Arc;

use rquickjs::convert::List;
use rquickjs::function::Opt;
use rquickjs::{ArrayBuffer, Ctx, Exception, Function, Object, Value};
use serde_json::{json, Value as Json};
use sworn_nsm::{AttestationRequest, BindingLayout, Nsm, NsmError, PcrState, UserDataPolicy};

use crate::engine::bindings::EnvBinding;
use crate::registry::Worker;

/// Most random bytes one call may ask for.
pub const MAX_RANDOM_BYTES: usize = 65_536;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("the NSM is switched off in this runner (--nsm off)")]
    NsmOff,
    #[error(transparent)]
    Request(#[from] sworn_nsm::RequestError),
    #[error("NSM: {0}")]
    Nsm(#[from] NsmError),
    #[error("{requested} random bytes requested, over the limit of {MAX_RANDOM_BYTES}")]
    RandomTooLarge { requested: usize },
    #[error("NSM returned no random bytes")]
    RandomEmpty,
    #[error("cannot create the ephemeral account: {0}")]
    Account(#[from] sworn_eth::AccountError),
}

impl ServiceError {
    /// HTTP status for the RPC bindings.
    /// The caller broke a limit (as opposed to the NSM failing).
    fn is_over_limit(&self) -> bool {
        matches!(
            self,
            ServiceError::Request(_) | ServiceError::RandomTooLarge { .. } | ServiceError::Nsm(NsmError::Request(_))
        )
    }

    fn status(&self) -> u16 {
        match self {
            ServiceError::NsmOff => 503,
            e if e.is_over_limit() => 400,
            _ => 502,
        }
    }
}

/// Bytes of the nonce in Escrin's documents (`get-attestation`).
const ESCRIN_NONCE_LEN: usize = 32;

/// What the bindings reach: the NSM (if on) and the user_data policy.
pub struct EnclaveServices {
    nsm: Option<Arc<Nsm>>,
    policy: UserDataPolicy,
}

impl EnclaveServices {
    pub fn new(nsm: Option<Arc<Nsm>>, policy: UserDataPolicy) -> Arc<Self> {
        Arc::new(Self { nsm, policy })
    }

    /// `env.nsm`, `env.tpm` and `env.iam`.
    pub fn bindings(self: &Arc<Self>) -> Vec<Arc<dyn EnvBinding>> {
        vec![
            Arc::new(NsmBinding(self.clone())),
            Arc::new(RpcBinding { services: self.clone(), service: RpcService::Tpm }),
            Arc::new(RpcBinding { services: self.clone(), service: RpcService::Iam }),
        ]
    }

    fn nsm(&self) -> Result<&Nsm, ServiceError> {
        self.nsm.as_deref().ok_or(ServiceError::NsmOff)
    }

    /// An attestation document requested by `worker`, with the binding
    /// applied to `user_data` in `layout`.
    pub fn attest(
        &self,
        worker: &Worker,
        layout: BindingLayout,
        user_data: Option<Vec<u8>>,
        nonce: Option<Vec<u8>>,
        public_key: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, ServiceError> {
        let nsm = self.nsm()?;
        let request = AttestationRequest::new(user_data, nonce, public_key)?;
        let att = nsm.attest_for_worker_as(&worker.code_measurement, self.policy, layout, &request)?;
        Ok(att.bytes)
    }

    /// Escrin's `get-attestation`: a document a `NitroEnclavePermitter`
    /// accepts. `bytes32(user_data)` is the caller's userdata (the
    /// measurement follows it), the nonce is 32 fresh bytes from the NSM
    /// (the permitter burns each nonce once), and `public_key` is empty, as
    /// Escrin's TPM service sends them.
    pub fn attest_for_permitter(&self, worker: &Worker, user_data: Option<Vec<u8>>) -> Result<Vec<u8>, ServiceError> {
        let nonce = self.random(ESCRIN_NONCE_LEN)?;
        self.attest(worker, BindingLayout::CallerFirst, user_data, Some(nonce), Some(Vec::new()))
    }

    pub fn describe_pcr(&self, index: u16) -> Result<PcrState, ServiceError> {
        Ok(self.nsm()?.describe_pcr(index)?)
    }

    /// `n` bytes from the NSM's random source (GetRandom gives a few hundred
    /// bytes per call).
    pub fn random(&self, n: usize) -> Result<Vec<u8>, ServiceError> {
        if n > MAX_RANDOM_BYTES {
            return Err(ServiceError::RandomTooLarge { requested: n });
        }
        let nsm = self.nsm()?;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let chunk = nsm.get_random()?;
            if chunk.is_empty() {
                return Err(ServiceError::RandomEmpty);
            }
            let take = chunk.len().min(n - out.len());
            out.extend_from_slice(&chunk[..take]);
        }
        Ok(out)
    }

    /// EIP-55 address of the worker's ephemeral account, made on first use.
    pub fn address(&self, worker: &Worker) -> Result<String, ServiceError> {
        if let Some(account) = worker.account.get() {
            return Ok(account.address().to_checksum());
        }
        let made = sworn_eth::EphemeralAccount::generate()?;
        // A racing thread may have set it first; its account wins.
        let account = worker.account.get_or_init(|| made);
        Ok(account.address().to_checksum())
    }

    /// One Escrin RPC call: `POST` with a JSON body `{method, params}`;
    /// answers a status and a JSON body (`{error}` on failure).
    pub fn rpc(
        &self,
        service: RpcService,
        worker: &Worker,
        http_method: &str,
        content_type: &str,
        body: &str,
    ) -> (u16, Json) {
        match self.rpc_inner(service, worker, http_method, content_type, body) {
            Ok(v) => (200, v),
            Err((status, message)) => (status, json!({ "error": message })),
        }
    }

    fn rpc_inner(
        &self,
        service: RpcService,
        worker: &Worker,
        http_method: &str,
        content_type: &str,
        body: &str,
    ) -> Result<Json, (u16, String)> {
        let name = service.name();
        if !http_method.eq_ignore_ascii_case("POST") {
            return Err((405, format!("env.{name}: use POST with a JSON body {{method, params}}")));
        }
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/json") {
            return Err((400, "invalid content-type. application/json is required".into()));
        }
        let request: Json =
            serde_json::from_str(body).map_err(|e| (400, format!("unable to decode request body: {e}")))?;
        let method = request
            .get("method")
            .and_then(Json::as_str)
            .ok_or((400, "invalid request body: missing or invalid method".to_string()))?;
        let params = request
            .get("params")
            .filter(|p| p.is_object())
            .ok_or((400, "invalid request body: missing or invalid params".to_string()))?;
        let failed = |e: ServiceError| (e.status(), format!("{method}: {e}"));
        match (service, method) {
            (RpcService::Tpm, "get-attestation") => {
                let user_data = match params.get("userdata") {
                    None | Some(Json::Null) => None,
                    Some(Json::String(s)) => {
                        Some(decode_0x(s).ok_or((400, "invalid userdata. expected hex".to_string()))?)
                    }
                    Some(_) => return Err((400, "invalid userdata. expected hex".into())),
                };
                let document = self.attest_for_permitter(worker, user_data).map_err(failed)?;
                Ok(json!({ "document": format!("0x{}", hex::encode(document)) }))
            }
            (RpcService::Tpm, "get-random") => {
                let n = params
                    .get("numBytes")
                    .and_then(Json::as_u64)
                    .ok_or((400, "missing or invalid numBytes".to_string()))?;
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                let random = self.random(n).map_err(failed)?;
                Ok(json!({ "random": format!("0x{}", hex::encode(random)) }))
            }
            // Escrin's text and status for any other id, or none.
            (RpcService::Iam, "get-account") => match params.get("id").and_then(Json::as_str) {
                Some("ephemeral-account") => Ok(json!({ "address": self.address(worker).map_err(failed)? })),
                _ => Err((400, "invalid account id".into())),
            },
            (RpcService::Iam, "acquire-identity" | "get-key") => {
                Err((501, format!("iam method {method} is not supported yet")))
            }
            _ => Err((404, format!("unknown method: {method}"))),
        }
    }
}

/// `0x`-prefixed hex, as Escrin's bindings exchange bytes.
/// `0x`-prefixed hex as Escrin's services read it (viem's `hexToBytes`): an
/// odd number of digits reads as if a `0` led them, so `0xabc` is
/// `[0x0a, 0xbc]`.
fn decode_0x(s: &str) -> Option<Vec<u8>> {
    let digits = s.strip_prefix("0x")?;
    if digits.len() % 2 == 1 {
        return hex::decode(format!("0{digits}")).ok();
    }
    hex::decode(digits).ok()
}

/// Escrin's two RPC services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpcService {
    Tpm,
    Iam,
}

impl RpcService {
    fn name(self) -> &'static str {
        match self {
            RpcService::Tpm => "tpm",
            RpcService::Iam => "iam",
        }
    }
}

/// Copies a BufferSource (ArrayBuffer, typed array or DataView); `None` for
/// undefined or null.
fn buffer_source<'js>(ctx: &Ctx<'js>, value: &Value<'js>, what: &str) -> rquickjs::Result<Option<Vec<u8>>> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let not_bytes =
        || Exception::throw_type(ctx, &format!("{what} must be an ArrayBuffer, a typed array or a DataView"));
    let Some(obj) = value.as_object() else {
        return Err(not_bytes());
    };
    let copy = |buffer: &ArrayBuffer<'js>, offset: usize, len: usize| -> rquickjs::Result<Vec<u8>> {
        // SAFETY: the bytes are copied before any JavaScript runs.
        let bytes =
            unsafe { buffer.as_bytes() }.ok_or_else(|| Exception::throw_type(ctx, &format!("{what} is detached")))?;
        let end = offset.checked_add(len).filter(|&e| e <= bytes.len()).ok_or_else(not_bytes)?;
        Ok(bytes[offset..end].to_vec())
    };
    if let Some(buffer) = ArrayBuffer::from_object(obj.clone()) {
        let len = buffer.len();
        return copy(&buffer, 0, len).map(Some);
    }
    let buffer: Value = obj.get("buffer")?;
    let buffer = buffer.as_object().and_then(|b| ArrayBuffer::from_object(b.clone())).ok_or_else(not_bytes)?;
    let offset: f64 = obj.get("byteOffset")?;
    let len: f64 = obj.get("byteLength")?;
    copy(&buffer, offset as usize, len as usize).map(Some)
}

/// An integer argument in `0..=max`, else a TypeError naming it.
fn integer<'js>(ctx: &Ctx<'js>, v: &Value<'js>, max: f64, what: &str, name: &str) -> rquickjs::Result<f64> {
    v.as_number()
        .filter(|n| n.fract() == 0.0 && (0.0..=max).contains(n))
        .ok_or_else(|| Exception::throw_type(ctx, &format!("{what}: the {name} must be an integer from 0 to {max}")))
}

fn throw<'js>(ctx: &Ctx<'js>, what: &str, e: ServiceError) -> rquickjs::Error {
    if e.is_over_limit() {
        Exception::throw_range(ctx, &format!("{what}: {e}"))
    } else {
        Exception::throw_message(ctx, &format!("{what}: {e}"))
    }
}

/// `env.nsm`: `attestation({userData, nonce, publicKey})` -> ArrayBuffer
/// (the COSE_Sign1 document), `describePcr(index)` -> `{locked, value}`,
/// `random(n)` -> ArrayBuffer.
struct NsmBinding(Arc<EnclaveServices>);

impl EnvBinding for NsmBinding {
    fn name(&self) -> &str {
        "nsm"
    }

    fn install<'js>(&self, ctx: &Ctx<'js>, env: &Object<'js>, worker: &Arc<Worker>) -> rquickjs::Result<()> {
        let o = Object::new(ctx.clone())?;

        let (s, w) = (self.0.clone(), worker.clone());
        let attestation = Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, options: Opt<Value<'js>>| -> rquickjs::Result<ArrayBuffer<'js>> {
                const WHAT: &str = "env.nsm.attestation";
                let (mut user_data, mut nonce, mut public_key) = (None, None, None);
                if let Some(options) = options.0.filter(|v| !v.is_undefined() && !v.is_null()) {
                    let Some(opts) = options.as_object() else {
                        return Err(Exception::throw_type(&ctx, &format!("{WHAT}: the argument must be an object")));
                    };
                    user_data = buffer_source(&ctx, &opts.get("userData")?, "userData")?;
                    nonce = buffer_source(&ctx, &opts.get("nonce")?, "nonce")?;
                    public_key = buffer_source(&ctx, &opts.get("publicKey")?, "publicKey")?;
                }
                let doc = s
                    .attest(&w, BindingLayout::MeasurementFirst, user_data, nonce, public_key)
                    .map_err(|e| throw(&ctx, WHAT, e))?;
                ArrayBuffer::new_copy(ctx, &doc)
            },
        )?
        .with_name("attestation")?;
        o.set("attestation", attestation)?;

        let s = self.0.clone();
        let describe =
            Function::new(ctx.clone(), move |ctx: Ctx<'js>, index: Value<'js>| -> rquickjs::Result<Object<'js>> {
                const WHAT: &str = "env.nsm.describePcr";
                let index = integer(&ctx, &index, f64::from(u16::MAX), WHAT, "index")?;
                let pcr = s.describe_pcr(index as u16).map_err(|e| throw(&ctx, WHAT, e))?;
                let out = Object::new(ctx.clone())?;
                out.set("locked", pcr.locked)?;
                out.set("value", ArrayBuffer::new_copy(ctx, &pcr.value)?)?;
                Ok(out)
            })?
            .with_name("describePcr")?;
        o.set("describePcr", describe)?;

        let s = self.0.clone();
        let random =
            Function::new(ctx.clone(), move |ctx: Ctx<'js>, n: Value<'js>| -> rquickjs::Result<ArrayBuffer<'js>> {
                const WHAT: &str = "env.nsm.random";
                let n = integer(&ctx, &n, f64::MAX, WHAT, "length")?;
                let bytes = s.random(n.min(usize::MAX as f64) as usize).map_err(|e| throw(&ctx, WHAT, e))?;
                ArrayBuffer::new_copy(ctx, &bytes)
            })?
            .with_name("random")?;
        o.set("random", random)?;

        env.set("nsm", o)
    }
}

/// A Cloudflare-style fetcher (`env.tpm.fetch(url, {method: "POST", body})`)
/// answering Escrin's JSON RPC.
struct RpcBinding {
    services: Arc<EnclaveServices>,
    service: RpcService,
}

/// Wraps the native call in a `fetch` that takes what `fetch` takes.
const FETCHER_JS: &str = r#"(call) => Object.freeze({
  async fetch(input, init) {
    const req = new Request(input, init);
    const body = await req.text();
    const [status, text] = call(req.method, req.headers.get("content-type") || "", body);
    return new Response(text, { status, headers: { "content-type": "application/json" } });
  },
})"#;

impl EnvBinding for RpcBinding {
    fn name(&self) -> &str {
        self.service.name()
    }

    fn install<'js>(&self, ctx: &Ctx<'js>, env: &Object<'js>, worker: &Arc<Worker>) -> rquickjs::Result<()> {
        let (s, w, service) = (self.services.clone(), worker.clone(), self.service);
        let call = Function::new(
            ctx.clone(),
            move |method: String, content_type: String, body: String| -> List<(u16, String)> {
                crate::engine::instance::note_effect();
                let (status, reply) = s.rpc(service, &w, &method, &content_type, &body);
                List((status, reply.to_string()))
            },
        )?;
        let make: Function = ctx.eval(FETCHER_JS)?;
        let fetcher: Object = make.call((call,))?;
        env.set(self.service.name(), fetcher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{WorkerKind, WorkerSpec};

    fn worker(code: &str) -> Worker {
        let spec = WorkerSpec {
            name: Some("w".into()),
            code: code.into(),
            kind: WorkerKind::Module,
            schedule: None,
            config: "{}".into(),
            args: "{}".into(),
        };
        Worker::new("w".into(), spec, None, 1, 1024)
    }

    fn dev() -> Arc<EnclaveServices> {
        let nsm = Nsm::development(&sworn_nsm::Measurements::default()).expect("development NSM");
        EnclaveServices::new(Some(Arc::new(nsm)), UserDataPolicy::BindWorker)
    }

    fn call(s: &EnclaveServices, service: RpcService, w: &Worker, body: &str) -> (u16, Json) {
        s.rpc(service, w, "POST", "application/json", body)
    }

    #[test]
    fn tpm_attestation_puts_the_callers_binding_first_with_a_fresh_nonce_and_an_empty_public_key() {
        let (s, w) = (dev(), worker("export default {}"));
        let binding = format!("0x{}", "5a".repeat(32));
        let body = format!(r#"{{"method":"get-attestation","params":{{"userdata":"{binding}"}}}}"#);
        let mut nonces = Vec::new();
        for _ in 0..2 {
            let (status, reply) = call(&s, RpcService::Tpm, &w, &body);
            assert_eq!(status, 200, "{reply}");
            let doc = decode_0x(reply["document"].as_str().unwrap()).unwrap();
            let parsed = sworn_attestation::SignedDocument::from_cbor(&doc).unwrap();
            let user_data = parsed.document.user_data.clone().unwrap();
            let (first, m) = sworn_nsm::split_caller_first(&user_data).unwrap();
            assert_eq!((first, m), (&[0x5a; 32][..], w.code_measurement));
            assert_eq!(parsed.document.public_key.as_deref(), Some(&[][..]));
            let nonce = parsed.document.nonce.clone().unwrap();
            assert_eq!(nonce.len(), 32);
            nonces.push(nonce);
        }
        assert_ne!(nonces[0], nonces[1], "each document needs its own nonce: the permitter burns them");
    }

    #[test]
    fn odd_length_hex_reads_as_viem_reads_it() {
        assert_eq!(decode_0x("0xabc"), Some(vec![0x0a, 0xbc]));
        assert_eq!(decode_0x("0x1"), Some(vec![0x01]));
        assert_eq!(decode_0x("0x"), Some(vec![]));
        assert_eq!(decode_0x("0xabcz"), None);
        assert_eq!(decode_0x("abcd"), None);
        let (s, w) = (dev(), worker("export default {}"));
        let (status, reply) =
            call(&s, RpcService::Tpm, &w, r#"{"method":"get-attestation","params":{"userdata":"0xabc"}}"#);
        assert_eq!(status, 200, "{reply}");
        let doc = decode_0x(reply["document"].as_str().unwrap()).unwrap();
        let user_data = sworn_attestation::SignedDocument::from_cbor(&doc).unwrap().document.user_data.unwrap();
        assert_eq!(&user_data[..2], [0x0a, 0xbc]);
    }

    #[test]
    fn nsm_binding_keeps_the_measurement_first() {
        let (s, w) = (dev(), worker("export default {}"));
        let doc = s.attest(&w, BindingLayout::MeasurementFirst, Some(vec![0xc0, 0xff, 0xee]), None, None).unwrap();
        let parsed = sworn_attestation::SignedDocument::from_cbor(&doc).unwrap();
        let user_data = parsed.document.user_data.clone().unwrap();
        let (m, rest) = sworn_nsm::split_bound_user_data(&user_data).unwrap();
        assert_eq!((m, rest), (w.code_measurement, &[0xc0, 0xff, 0xee][..]));
    }

    #[test]
    fn tpm_random_and_iam_account() {
        let (s, w) = (dev(), worker("x"));
        let (status, reply) = call(&s, RpcService::Tpm, &w, r#"{"method":"get-random","params":{"numBytes":600}}"#);
        assert_eq!(status, 200, "{reply}");
        assert_eq!(decode_0x(reply["random"].as_str().unwrap()).unwrap().len(), 600);
        let get = r#"{"method":"get-account","params":{"id":"ephemeral-account"}}"#;
        let (status, a) = call(&s, RpcService::Iam, &w, get);
        assert_eq!(status, 200, "{a}");
        let address = a["address"].as_str().unwrap().to_string();
        assert!(address.starts_with("0x") && address.len() == 42, "{address}");
        // Stable for the worker, different for another worker.
        assert_eq!(call(&s, RpcService::Iam, &w, get).1["address"], address.as_str());
        assert_ne!(call(&s, RpcService::Iam, &worker("y"), get).1["address"], address.as_str());
        // Escrin's answer to any other id, or none.
        for params in [r#"{"id":"other-account"}"#, r#"{"id":7}"#, "{}"] {
            let body = format!(r#"{{"method":"get-account","params":{params}}}"#);
            let (status, reply) = call(&s, RpcService::Iam, &w, &body);
            assert_eq!((status, reply["error"].as_str()), (400, Some("invalid account id")), "{params}");
        }
    }

    #[test]
    fn rpc_errors_are_json_with_a_status() {
        let (s, w) = (dev(), worker("x"));
        let err = |service, method: &str, ct: &str, body: &str| {
            let (status, reply) = s.rpc(service, &w, method, ct, body);
            (status, reply["error"].as_str().unwrap_or_default().to_string())
        };
        assert_eq!(err(RpcService::Tpm, "GET", "application/json", "{}").0, 405);
        assert_eq!(err(RpcService::Tpm, "POST", "text/plain", "{}").0, 400);
        assert!(err(RpcService::Tpm, "POST", "application/json", "{").1.contains("unable to decode"));
        assert!(err(RpcService::Tpm, "POST", "application/json", r#"{"params":{}}"#).1.contains("method"));
        assert!(err(RpcService::Tpm, "POST", "application/json", r#"{"method":"x"}"#).1.contains("params"));
        let (status, message) = err(RpcService::Tpm, "POST", "application/json", r#"{"method":"nope","params":{}}"#);
        assert_eq!((status, message.as_str()), (404, "unknown method: nope"));
        let (status, message) = err(
            RpcService::Iam,
            "POST",
            "application/json; charset=utf-8",
            r#"{"method":"acquire-identity","params":{}}"#,
        );
        assert_eq!(status, 501);
        assert!(message.contains("not supported yet"), "{message}");
        let bad_hex = r#"{"method":"get-attestation","params":{"userdata":"c0ffee"}}"#;
        assert_eq!(err(RpcService::Tpm, "POST", "application/json", bad_hex).0, 400);
        let long = format!(r#"{{"method":"get-attestation","params":{{"userdata":"0x{}"}}}}"#, "00".repeat(465));
        let (status, message) = err(RpcService::Tpm, "POST", "application/json", &long);
        assert_eq!(status, 400);
        assert!(message.contains("limit of 464"), "{message}");
        let big = r#"{"method":"get-random","params":{"numBytes":1000000}}"#;
        assert_eq!(err(RpcService::Tpm, "POST", "application/json", big).0, 400);
    }

    #[test]
    fn switched_off_nsm_is_503() {
        let s = EnclaveServices::new(None, UserDataPolicy::BindWorker);
        let (status, reply) =
            call(&s, RpcService::Tpm, &worker("x"), r#"{"method":"get-random","params":{"numBytes":1}}"#);
        assert_eq!(status, 503);
        assert!(reply["error"].as_str().unwrap().contains("--nsm off"));
    }
}
