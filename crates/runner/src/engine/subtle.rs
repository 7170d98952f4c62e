//! Native half of `crypto.subtle`: synchronous functions over
//! `sworn_webcrypto::dynamic`, and the `CryptoKey` handle class. `subtle.js`
//! (evaluated right after the prelude) captures them from `__subtle`, hides
//! them, and builds the W3C `SubtleCrypto` API on top: its methods are
//! `async`, so every result and every failure is a promise.
//!
//! The calls run on the worker's JS thread, so their CPU time counts
//! against the request's CPU limit. Arguments arrive as plain data that
//! `subtle.js` built: strings, numbers, `null`, fresh `Uint8Array` copies of
//! BufferSources, key handles and nested plain objects. A `sworn_webcrypto`
//! error is thrown as an `Error` with a `domName` property, which `subtle.js`
//! turns into a `TypeError` or a `DOMException`; QuickJS's own errors (out of
//! memory, interrupted) pass through untouched.
//!
//! Key material lives in Rust, outside the QuickJS heap and its limit, so
//! each instance keeps a ledger of the bytes its live keys hold and refuses
//! (as out of memory) keys beyond the worker's memory limit: without it a
//! loop importing one large HMAC/HKDF/PBKDF2 secret many times would grow
//! the process without bound while the heap stayed small.

use std::cell::Cell;
use std::rc::Rc;

use rquickjs::{Array, ArrayBuffer, Class, Ctx, Exception, Function, Module, Object, TypedArray, Value};
use sworn_webcrypto::{
    dynamic, AlgorithmIdentifier, AlgorithmInput, CryptoKey, ExportedKey, GeneratedKey, JsonWebKey, KeyAlgorithm,
    KeyData, Member,
};

use super::error::{describe, ScriptError};
use super::instance::Host;

const SUBTLE_JS: &str = include_str!("subtle.js");

/// Nesting `subtle.js` never exceeds (`{hash: {name}}` is 2); deeper input
/// is refused rather than walked.
const MAX_DEPTH: usize = 4;

/// Bytes charged per key on top of its secret: the Rust `CryptoKey`, its
/// `Arc`'d material (EC/OKP keys are at most a few hundred bytes) and the
/// allocations around them.
const KEY_OVERHEAD: usize = 512;

/// Bytes held by one instance's live keys, and the most it may hold.
struct KeyLedger {
    used: Cell<usize>,
    limit: usize,
}

/// The native object behind a JS `CryptoKey`: the Rust key (whose material
/// zeroizes on drop) and its charge on the instance's ledger. Freed when
/// QuickJS collects the object.
pub struct KeyHandle {
    key: CryptoKey,
    charge: usize,
    ledger: Rc<KeyLedger>,
}

impl Drop for KeyHandle {
    fn drop(&mut self) {
        let used = self.ledger.used.get();
        self.ledger.used.set(used.saturating_sub(self.charge));
    }
}

super::opaque::opaque_handle!(KeyHandle, "CryptoKeyHandle");

/// Secret bytes a key holds, as charged on the ledger. `hint` bounds the
/// secret of keys whose algorithm does not record its length (HKDF and
/// PBKDF2 keys are as long as the imported bytes).
fn secret_len(key: &CryptoKey, hint: usize) -> usize {
    match key.algorithm() {
        KeyAlgorithm::Hmac { length, .. } => (*length as usize).div_ceil(8),
        KeyAlgorithm::Hkdf | KeyAlgorithm::Pbkdf2 => hint,
        _ => 0,
    }
}

fn wrap_key<'js>(ctx: &Ctx<'js>, ledger: &Rc<KeyLedger>, key: CryptoKey, hint: usize) -> rquickjs::Result<Value<'js>> {
    let charge = KEY_OVERHEAD.saturating_add(secret_len(&key, hint));
    let fits = |ledger: &KeyLedger| ledger.used.get().saturating_add(charge) <= ledger.limit;
    if !fits(ledger) {
        // Unreachable keys in reference cycles wait for the cycle collector.
        ctx.run_gc();
        if !fits(ledger) {
            return Err(rquickjs::Error::Allocation);
        }
    }
    ledger.used.set(ledger.used.get() + charge);
    let handle = KeyHandle { key, charge, ledger: ledger.clone() };
    Ok(Class::instance(ctx.clone(), handle)?.into_value())
}

/// The Rust key behind a handle.
fn key_of(handle: &Class<'_, KeyHandle>) -> rquickjs::Result<CryptoKey> {
    Ok(handle.try_borrow()?.key.clone())
}

/// Throws `e` for `subtle.js` to convert: an `Error` with `domName`.
fn throw(ctx: &Ctx<'_>, e: sworn_webcrypto::Error) -> rquickjs::Error {
    let marked = || -> rquickjs::Result<rquickjs::Error> {
        let exc = Exception::from_message(ctx.clone(), e.message())?;
        exc.set("domName", e.dom_name())?;
        Ok(ctx.throw(exc.into_value()))
    };
    marked().unwrap_or_else(|err| err)
}

fn type_error(ctx: &Ctx<'_>, message: &str) -> rquickjs::Error {
    throw(ctx, sworn_webcrypto::Error::Type(message.to_owned()))
}

/// Refuses new work once the request has used its CPU time. QuickJS polls
/// the interrupt handler only every few thousand operations, and a loop of
/// native calls could otherwise run far past the limit between two polls.
pub(crate) fn check_cpu(ctx: &Ctx<'_>, host: &Host) -> rquickjs::Result<()> {
    if host.cpu_exhausted() {
        return Err(Exception::throw_internal(ctx, "interrupted"));
    }
    Ok(())
}

fn copy_bytes(array: &TypedArray<'_, u8>) -> Vec<u8> {
    // SAFETY: the slice is copied at once, before any JavaScript can run and
    // detach or resize the buffer. A detached buffer reads as empty.
    unsafe { array.as_bytes() }.map(|b| b.to_vec()).unwrap_or_default()
}

fn bytes_out<'js>(ctx: &Ctx<'js>, bytes: &[u8]) -> rquickjs::Result<ArrayBuffer<'js>> {
    // A copy into the QuickJS heap, so results count against its limit.
    ArrayBuffer::new_copy(ctx.clone(), bytes)
}

/// `AlgorithmIdentifier`: a string, or a plain object from `subtle.js`.
fn algorithm<'js>(ctx: &Ctx<'js>, v: &Value<'js>) -> rquickjs::Result<AlgorithmIdentifier> {
    if let Some(s) = v.as_string() {
        return Ok(AlgorithmIdentifier::Name(s.to_string()?));
    }
    match v.as_object() {
        Some(o) => Ok(AlgorithmIdentifier::Object(dictionary(ctx, o, 1)?)),
        None => Err(type_error(ctx, "algorithm must be a string or an object")),
    }
}

fn dictionary<'js>(ctx: &Ctx<'js>, o: &Object<'js>, depth: usize) -> rquickjs::Result<AlgorithmInput> {
    if depth > MAX_DEPTH {
        return Err(type_error(ctx, &format!("algorithm: dictionaries nest deeper than {MAX_DEPTH} levels")));
    }
    let mut input = AlgorithmInput::default();
    for prop in o.props::<String, Value>() {
        let (name, value) = prop?;
        if name == "name" {
            match value.as_string() {
                Some(s) => input.name = Some(s.to_string()?),
                None => return Err(type_error(ctx, "algorithm: 'name' must be a string")),
            }
        } else if let Some(m) = member(ctx, &name, &value, depth)? {
            input.members.insert(name, m);
        }
    }
    Ok(input)
}

fn member<'js>(ctx: &Ctx<'js>, name: &str, v: &Value<'js>, depth: usize) -> rquickjs::Result<Option<Member>> {
    if v.is_undefined() {
        return Ok(None);
    }
    if v.is_null() {
        return Ok(Some(Member::Null));
    }
    if let Some(s) = v.as_string() {
        return Ok(Some(Member::String(s.to_string()?)));
    }
    if let Some(n) = v.as_number() {
        return Ok(Some(Member::Number(n)));
    }
    if let Some(o) = v.as_object() {
        if let Some(handle) = Class::<KeyHandle>::from_object(o) {
            return Ok(Some(Member::Key(key_of(&handle)?)));
        }
        if let Some(array) = o.as_typed_array::<u8>() {
            return Ok(Some(Member::Bytes(copy_bytes(array))));
        }
        return Ok(Some(Member::Object(dictionary(ctx, o, depth + 1)?)));
    }
    Err(type_error(ctx, &format!("algorithm: member '{name}' has an unsupported type")))
}

/// `deriveBits`' `length`: `null` or an integer `subtle.js` already
/// converted to an `unsigned long`.
fn length(ctx: &Ctx<'_>, v: &Value<'_>) -> rquickjs::Result<Option<u32>> {
    if v.is_null() || v.is_undefined() {
        return Ok(None);
    }
    match v.as_number() {
        Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => Ok(Some(n as u32)),
        _ => Err(type_error(ctx, "deriveBits: length must be null or an unsigned long")),
    }
}

/// A native for `sign`, `encrypt` and `decrypt`: (algorithm, key, data) -> bytes.
fn key_bytes_op<'js>(
    host: Rc<Host>,
    op: fn(&AlgorithmIdentifier, &CryptoKey, &[u8]) -> sworn_webcrypto::Result<Vec<u8>>,
) -> impl Fn(Ctx<'js>, Value<'js>, Class<'js, KeyHandle>, TypedArray<'js, u8>) -> rquickjs::Result<ArrayBuffer<'js>> {
    move |ctx, alg, handle, data| {
        check_cpu(&ctx, &host)?;
        let alg = algorithm(&ctx, &alg)?;
        let out = op(&alg, &key_of(&handle)?, &copy_bytes(&data)).map_err(|e| throw(&ctx, e))?;
        bytes_out(&ctx, &out)
    }
}

macro_rules! set {
    ($obj:expr, $name:literal, $ctx:expr, $f:expr) => {
        $obj.set($name, Function::new($ctx.clone(), $f)?.with_name($name)?)?
    };
}

/// Builds the `__subtle` object of native functions.
fn natives<'js>(ctx: &Ctx<'js>, host: &Rc<Host>) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;
    let ledger = Rc::new(KeyLedger { used: Cell::new(0), limit: host.limits.memory_bytes });

    // keyInfo(handle) -> [type, extractable, algorithm JSON, usages]
    set!(o, "keyInfo", ctx, move |ctx: Ctx<'js>, handle: Class<'js, KeyHandle>| -> rquickjs::Result<Array<'js>> {
        let key = key_of(&handle)?;
        let info = Array::new(ctx.clone())?;
        info.set(0, key.key_type().name())?;
        info.set(1, key.extractable())?;
        info.set(2, key.algorithm().to_json().to_string())?;
        info.set(3, key.usages().names())?;
        Ok(info)
    });

    let h = host.clone();
    set!(o, "digest", ctx, move |ctx: Ctx<'js>,
                                 alg: Value<'js>,
                                 data: TypedArray<'js, u8>|
          -> rquickjs::Result<ArrayBuffer<'js>> {
        check_cpu(&ctx, &h)?;
        let alg = algorithm(&ctx, &alg)?;
        let out = dynamic::digest(&alg, &copy_bytes(&data)).map_err(|e| throw(&ctx, e))?;
        bytes_out(&ctx, &out)
    });

    let (h, l) = (host.clone(), ledger.clone());
    set!(o, "generateKey", ctx, move |ctx: Ctx<'js>,
                                      alg: Value<'js>,
                                      extractable: bool,
                                      usages: Vec<String>|
          -> rquickjs::Result<Value<'js>> {
        check_cpu(&ctx, &h)?;
        let alg = algorithm(&ctx, &alg)?;
        match dynamic::generate_key(&alg, extractable, &usages).map_err(|e| throw(&ctx, e))? {
            GeneratedKey::Key(key) => wrap_key(&ctx, &l, key, 0),
            GeneratedKey::Pair(pair) => {
                let out = Array::new(ctx.clone())?;
                out.set(0, wrap_key(&ctx, &l, pair.public_key, 0)?)?;
                out.set(1, wrap_key(&ctx, &l, pair.private_key, 0)?)?;
                Ok(out.into_value())
            }
        }
    });

    // importKey(format, bytes or JWK JSON text, alg, extractable, usages)
    let (h, l) = (host.clone(), ledger.clone());
    set!(o, "importKey", ctx, move |ctx: Ctx<'js>,
                                    format: String,
                                    data: Value<'js>,
                                    alg: Value<'js>,
                                    extractable: bool,
                                    usages: Vec<String>|
          -> rquickjs::Result<Value<'js>> {
        check_cpu(&ctx, &h)?;
        let (data, hint) = if let Some(text) = data.as_string() {
            let text = text.to_string()?;
            let jwk = JsonWebKey::from_json(&text).map_err(|e| throw(&ctx, e))?;
            (KeyData::Jwk(jwk), text.len())
        } else {
            let array = TypedArray::<u8>::from_value(data)?;
            let bytes = copy_bytes(&array);
            let hint = bytes.len();
            (KeyData::bytes(bytes), hint)
        };
        let alg = algorithm(&ctx, &alg)?;
        let key = dynamic::import_key(&format, &data, &alg, extractable, &usages).map_err(|e| throw(&ctx, e))?;
        wrap_key(&ctx, &l, key, hint)
    });

    // exportKey(format, handle) -> ArrayBuffer, or JWK JSON text
    let h = host.clone();
    set!(o, "exportKey", ctx, move |ctx: Ctx<'js>,
                                    format: String,
                                    handle: Class<'js, KeyHandle>|
          -> rquickjs::Result<Value<'js>> {
        check_cpu(&ctx, &h)?;
        let key = key_of(&handle)?;
        match dynamic::export_key(&format, &key).map_err(|e| throw(&ctx, e))? {
            ExportedKey::Bytes(b) => Ok(bytes_out(&ctx, &b)?.into_value()),
            ExportedKey::Jwk(j) => Ok(rquickjs::String::from_str(ctx.clone(), &j.to_json())?.into_value()),
        }
    });

    set!(o, "sign", ctx, key_bytes_op(host.clone(), dynamic::sign));

    let h = host.clone();
    set!(o, "verify", ctx, move |ctx: Ctx<'js>,
                                 alg: Value<'js>,
                                 handle: Class<'js, KeyHandle>,
                                 signature: TypedArray<'js, u8>,
                                 data: TypedArray<'js, u8>|
          -> rquickjs::Result<bool> {
        check_cpu(&ctx, &h)?;
        let alg = algorithm(&ctx, &alg)?;
        dynamic::verify(&alg, &key_of(&handle)?, &copy_bytes(&signature), &copy_bytes(&data))
            .map_err(|e| throw(&ctx, e))
    });

    set!(o, "encrypt", ctx, key_bytes_op(host.clone(), dynamic::encrypt));

    set!(o, "decrypt", ctx, key_bytes_op(host.clone(), dynamic::decrypt));

    let h = host.clone();
    set!(o, "deriveBits", ctx, move |ctx: Ctx<'js>,
                                     alg: Value<'js>,
                                     handle: Class<'js, KeyHandle>,
                                     len: Value<'js>|
          -> rquickjs::Result<ArrayBuffer<'js>> {
        check_cpu(&ctx, &h)?;
        let alg = algorithm(&ctx, &alg)?;
        let len = length(&ctx, &len)?;
        let out = dynamic::derive_bits(&alg, &key_of(&handle)?, len).map_err(|e| throw(&ctx, e))?;
        bytes_out(&ctx, &out)
    });

    let (h, l) = (host.clone(), ledger.clone());
    set!(o, "deriveKey", ctx, move |ctx: Ctx<'js>,
                                    alg: Value<'js>,
                                    handle: Class<'js, KeyHandle>,
                                    derived: Value<'js>,
                                    extractable: bool,
                                    usages: Vec<String>|
          -> rquickjs::Result<Value<'js>> {
        check_cpu(&ctx, &h)?;
        let alg = algorithm(&ctx, &alg)?;
        let derived = algorithm(&ctx, &derived)?;
        let key =
            dynamic::derive_key(&alg, &key_of(&handle)?, &derived, extractable, &usages).map_err(|e| throw(&ctx, e))?;
        // Derived HKDF/PBKDF2 secrets are at most an ECDH shared secret long.
        wrap_key(&ctx, &l, key, 64)
    });

    let h = host.clone();
    set!(o, "wrapKey", ctx, move |ctx: Ctx<'js>,
                                  format: String,
                                  handle: Class<'js, KeyHandle>,
                                  wrapping: Class<'js, KeyHandle>,
                                  alg: Value<'js>|
          -> rquickjs::Result<ArrayBuffer<'js>> {
        check_cpu(&ctx, &h)?;
        let alg = algorithm(&ctx, &alg)?;
        let out =
            dynamic::wrap_key(&format, &key_of(&handle)?, &key_of(&wrapping)?, &alg).map_err(|e| throw(&ctx, e))?;
        bytes_out(&ctx, &out)
    });

    let (h, l) = (host.clone(), ledger.clone());
    // Seven arguments, the most a native function takes: the context comes
    // from one of them.
    set!(o, "unwrapKey", ctx, move |format: String,
                                    wrapped: TypedArray<'js, u8>,
                                    handle: Class<'js, KeyHandle>,
                                    unwrap_alg: Value<'js>,
                                    key_alg: Value<'js>,
                                    extractable: bool,
                                    usages: Vec<String>|
          -> rquickjs::Result<Value<'js>> {
        let ctx = wrapped.ctx().clone();
        check_cpu(&ctx, &h)?;
        let wrapped = copy_bytes(&wrapped);
        let unwrap_alg = algorithm(&ctx, &unwrap_alg)?;
        let key_alg = algorithm(&ctx, &key_alg)?;
        let key =
            dynamic::unwrap_key(&format, &wrapped, &key_of(&handle)?, &unwrap_alg, &key_alg, extractable, &usages)
                .map_err(|e| throw(&ctx, e))?;
        wrap_key(&ctx, &l, key, wrapped.len())
    });

    Ok(o)
}

/// `subtle.js` compiled once per process, like the prelude.
fn bytecode() -> Result<&'static [u8], ScriptError> {
    static BYTECODE: std::sync::OnceLock<Result<Vec<u8>, ScriptError>> = std::sync::OnceLock::new();
    BYTECODE
        .get_or_init(|| {
            let rt = rquickjs::Runtime::new().map_err(|e| ScriptError::Threw(e.to_string()))?;
            let ctx = rquickjs::Context::full(&rt).map_err(|e| ScriptError::Threw(e.to_string()))?;
            ctx.with(|ctx| {
                Module::declare(ctx.clone(), "sworn:subtle", SUBTLE_JS)
                    .and_then(|m| m.write(rquickjs::WriteOptions::default()))
                    .map_err(|e| describe(&ctx, e))
            })
        })
        .as_ref()
        .map(|v| v.as_slice())
        .map_err(|e| e.clone())
}

/// Installs `crypto.subtle`, `SubtleCrypto` and `CryptoKey` in `ctx`; runs
/// after the prelude (it needs `crypto` and `DOMException`) and before any
/// worker code.
pub(crate) fn install(ctx: &Ctx<'_>, host: &Rc<Host>) -> Result<(), ScriptError> {
    let bytes = bytecode()?;
    let run = || -> rquickjs::Result<()> {
        ctx.globals().set("__subtle", natives(ctx, host)?)?;
        // SAFETY: the bytes were produced by `Module::write` of this same
        // QuickJS build in this process.
        let module = unsafe { Module::load(ctx.clone(), bytes) }?;
        let (_module, promise) = module.eval()?;
        while ctx.execute_pending_job() {}
        promise.finish::<()>()
    };
    run().map_err(|e| describe(ctx, e))
}
