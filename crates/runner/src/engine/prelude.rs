//! The prelude: the web platform APIs of Cloudflare Workers written in
//! JavaScript over the native `__host` functions, evaluated in every new
//! context before the worker's code.
//!
//! Its source is one file per Web API under `prelude/`, but they are pieces
//! of a single function body, not modules: they share that function's scope
//! (the `host` object, `define`, internal symbols such as the body and
//! headers slots), which is what keeps the hot paths free of property
//! look-ups across module boundaries. So they are joined here, in this order
//! and nowhere else, into the one text that is compiled to bytecode once per
//! process. A piece may use what an earlier piece declared.

use rquickjs::{Context, Ctx, Function, Module, Runtime};

use super::error::{describe, ScriptError};

/// The pieces in evaluation order (later pieces build on earlier ones).
pub(crate) const SOURCE: &str = concat!(
    include_str!("prelude/scope_open.js"),
    include_str!("prelude/errors.js"),
    include_str!("prelude/console.js"),
    include_str!("prelude/events.js"),
    include_str!("prelude/timers.js"),
    include_str!("prelude/abort.js"),
    include_str!("prelude/encoding.js"),
    include_str!("prelude/structured_clone.js"),
    include_str!("prelude/crypto.js"),
    include_str!("prelude/url.js"),
    include_str!("prelude/blob.js"),
    include_str!("prelude/form_data.js"),
    include_str!("prelude/streams.js"),
    include_str!("prelude/compression.js"),
    include_str!("prelude/headers.js"),
    include_str!("prelude/body.js"),
    include_str!("prelude/request.js"),
    include_str!("prelude/response.js"),
    include_str!("prelude/fetch.js"),
    include_str!("prelude/event_kinds.js"),
    include_str!("prelude/handlers.js"),
    include_str!("prelude/dispatch.js"),
    include_str!("prelude/startup.js"),
    include_str!("prelude/scope_close.js"),
);

/// The prelude compiled once per process: parsing it is most of the cost of
/// a new instance. Only bytes are shared between threads.
fn bytecode() -> Result<&'static [u8], ScriptError> {
    static BYTECODE: std::sync::OnceLock<Result<Vec<u8>, ScriptError>> = std::sync::OnceLock::new();
    BYTECODE
        .get_or_init(|| {
            let rt = Runtime::new().map_err(|e| ScriptError::Threw(e.to_string()))?;
            let ctx = Context::full(&rt).map_err(|e| ScriptError::Threw(e.to_string()))?;
            ctx.with(|ctx| {
                Module::declare(ctx.clone(), "sworn:prelude", SOURCE)
                    .and_then(|m| m.write(rquickjs::WriteOptions::default()))
                    .map_err(|e| describe(&ctx, e))
            })
        })
        .as_ref()
        .map(|v| v.as_slice())
        .map_err(|e| e.clone())
}

/// Evaluates the prelude in `ctx` and returns its `dispatch` function.
pub(crate) fn load<'js>(ctx: &Ctx<'js>) -> Result<Function<'js>, ScriptError> {
    let bytes = bytecode()?;
    let run = || -> rquickjs::Result<Function<'js>> {
        // SAFETY: the bytes were produced by `Module::write` of this same
        // QuickJS build in this process.
        let module = unsafe { Module::load(ctx.clone(), bytes) }?;
        let (module, promise) = module.eval()?;
        while ctx.execute_pending_job() {}
        promise.finish::<()>()?;
        module.get("dispatch")
    };
    run().map_err(|e| describe(ctx, e))
}
