//! Native objects handed to JavaScript as opaque handles: a Rust value the
//! prelude passes back to native functions, with no prototype, no
//! constructor and no properties a script could use, freed when QuickJS
//! collects the handle.

/// Makes `$ty` (which must hold no JS values and have no lifetime
/// parameter) a QuickJS class named `$name` with no prototype and no
/// constructor.
macro_rules! opaque_handle {
    ($ty:ty, $name:literal) => {
        impl<'js> rquickjs::class::Trace<'js> for $ty {
            // Holds no JS values.
            fn trace<'a>(&self, _tracer: rquickjs::class::Tracer<'a, 'js>) {}
        }

        // SAFETY: the type holds no JS values and has no lifetime parameter,
        // so it is the same type at every 'js.
        unsafe impl<'js> rquickjs::JsLifetime<'js> for $ty {
            type Changed<'to> = $ty;
        }

        impl<'js> rquickjs::class::JsClass<'js> for $ty {
            const NAME: &'static str = $name;
            type Mutable = rquickjs::class::Readable;

            /// No prototype: the handle has no properties a script could use.
            fn prototype(_ctx: &rquickjs::Ctx<'js>) -> rquickjs::Result<Option<rquickjs::Object<'js>>> {
                Ok(None)
            }

            /// Not constructible from JS.
            fn constructor(_ctx: &rquickjs::Ctx<'js>) -> rquickjs::Result<Option<rquickjs::Constructor<'js>>> {
                Ok(None)
            }
        }
    };
}

pub(crate) use opaque_handle;
