//! Engine errors, typed where they are caught so nothing downstream has to
//! guess a failure's cause from its text.

use std::time::Duration;

use rquickjs::{Ctx, Value};

/// A failure of JavaScript (or of QuickJS running it), classified from the
/// exception object itself. Each variant keeps the text the worker's logs
/// and error responses show, with the stack when there is one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScriptError {
    /// QuickJS could not allocate within the instance's memory limit.
    #[error("{0}")]
    OutOfMemory(String),
    /// The interrupt handler stopped the script (the CPU limit), or a native
    /// function refused heavy work for the same reason.
    #[error("{0}")]
    Interrupted(String),
    /// Anything else: what the script threw, or an engine error.
    #[error("{0}")]
    Threw(String),
    /// `null` or `undefined` was thrown: a script's `throw null`, or what
    /// QuickJS leaves when the heap had no room even for its own "out of
    /// memory" error. Only the heap's state tells which
    /// ([`ScriptError::settle_nothing`]).
    #[error("{0}")]
    Nothing(String),
}

/// The messages of the `InternalError`s QuickJS throws for its own limits
/// (`JS_ThrowOutOfMemory`, `JS_ThrowInterrupted` in quickjs.c); subtle.rs
/// throws the same "interrupted" when a turn's CPU budget is spent.
const OUT_OF_MEMORY: &str = "out of memory";
const INTERRUPTED: &str = "interrupted";

impl ScriptError {
    /// Classifies `error` (what was thrown) and keeps `text` as its description.
    pub(crate) fn from_thrown(error: Option<&Value<'_>>, text: String) -> ScriptError {
        if error.is_some_and(|v| v.is_null() || v.is_undefined()) {
            return ScriptError::Nothing(text);
        }
        let Some(exc) = error.and_then(|v| v.as_exception()) else {
            return ScriptError::Threw(text);
        };
        // Reading `name` can fail when the heap is full; only a name that is
        // known and different rules QuickJS's own error out.
        let name = exc.get::<_, rquickjs::Coerced<String>>("name").map(|s| s.0);
        if name.is_ok_and(|n| n != "InternalError") {
            return ScriptError::Threw(text);
        }
        match exc.message().as_deref() {
            Some(OUT_OF_MEMORY) => ScriptError::OutOfMemory(text),
            Some(INTERRUPTED) => ScriptError::Interrupted(text),
            _ => ScriptError::Threw(text),
        }
    }

    /// The error as text, with its stack when there is one.
    pub fn text(&self) -> &str {
        match self {
            ScriptError::OutOfMemory(t)
            | ScriptError::Interrupted(t)
            | ScriptError::Threw(t)
            | ScriptError::Nothing(t) => t,
        }
    }

    /// Decides what a thrown `null` or `undefined` was: running out of
    /// memory when the heap was `nearly_full`, else what the script threw.
    pub(crate) fn settle_nothing(self, nearly_full: bool) -> ScriptError {
        match self {
            ScriptError::Nothing(text) if nearly_full => ScriptError::OutOfMemory(text),
            ScriptError::Nothing(text) => ScriptError::Threw(text),
            e => e,
        }
    }
}

impl From<String> for ScriptError {
    fn from(text: String) -> ScriptError {
        ScriptError::Threw(text)
    }
}

/// The error of an rquickjs call, with the pending exception taken from `ctx`.
pub(crate) fn describe(ctx: &Ctx<'_>, e: rquickjs::Error) -> ScriptError {
    if let rquickjs::Error::Exception = e {
        let thrown = ctx.catch();
        let text = value_to_string(&thrown);
        ScriptError::from_thrown(Some(&thrown), text)
    } else {
        ScriptError::Threw(e.to_string())
    }
}

/// Text for an error thrown in JavaScript, with its stack when there is one.
pub(crate) fn value_to_string(v: &Value<'_>) -> String {
    if let Some(exc) = v.as_exception() {
        let message = exc.message().unwrap_or_default();
        let name: String =
            exc.get::<_, rquickjs::Coerced<String>>("name").map(|s| s.0).unwrap_or_else(|_| "Error".into());
        let mut s = format!("{name}: {message}");
        if let Some(stack) = exc.stack() {
            let stack = stack.trim_end();
            if !stack.is_empty() {
                s.push('\n');
                s.push_str(stack);
            }
        }
        s
    } else {
        v.get::<rquickjs::Coerced<String>>().map(|s| s.0).unwrap_or_else(|_| {
            // A throwing toString (or Proxy trap) leaves its exception pending:
            // take it, so that it is not mistaken for the next call's.
            let _ = v.ctx().catch();
            "<unprintable value>".into()
        })
    }
}

/// Why a worker instance could not be created.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StartError {
    #[error("cannot create a QuickJS runtime: {0}")]
    Runtime(String),
    #[error("cannot create a QuickJS context: {0}")]
    Context(String),
    #[error("prelude: {0}")]
    Prelude(ScriptError),
    #[error("subtle.js: {0}")]
    Subtle(ScriptError),
    #[error("env.{0}: {1}")]
    Binding(String, ScriptError),
    /// The worker's own start-up code failed.
    #[error("{0}")]
    Script(ScriptError),
    #[error("module top-level await did not settle")]
    Unsettled,
    #[error("worker start-up exceeded the CPU time limit of {0:?}")]
    CpuLimit(Duration),
    #[error("worker start-up exceeded the memory limit of {0} bytes")]
    MemoryLimit(usize),
    /// No room in the runner-wide memory budget for this instance.
    #[error("{0}")]
    MemoryBudget(crate::memory::BudgetExhausted),
    /// A request raced a DELETE; the worker must not come back.
    #[error("the worker was deleted")]
    Deleted,
    #[error("a runner thread failed or is shutting down")]
    ThreadGone,
    #[error("runner has no threads")]
    NoThreads,
    /// A `wasi` worker's module failed the upload checks or did not compile.
    #[error("the WebAssembly module {0}")]
    Wasm(sworn_wasi::UploadError),
    #[error("{0}")]
    WasmEngine(String),
}

impl StartError {
    /// The script error inside, if the failure was one.
    fn script(&self) -> Option<&ScriptError> {
        match self {
            StartError::Prelude(e) | StartError::Subtle(e) | StartError::Binding(_, e) | StartError::Script(e) => {
                Some(e)
            }
            _ => None,
        }
    }

    /// Names the limit a failed start-up hit, if it hit one: the interrupt
    /// handler fired (`interrupted`), or QuickJS ran out of memory.
    pub(crate) fn with_limits(self, interrupted: bool, cpu: Duration, memory: usize) -> StartError {
        if interrupted {
            StartError::CpuLimit(cpu)
        } else if matches!(self.script(), Some(ScriptError::OutOfMemory(_))) {
            StartError::MemoryLimit(memory)
        } else {
            self
        }
    }
}

impl From<ScriptError> for StartError {
    fn from(e: ScriptError) -> StartError {
        StartError::Script(e)
    }
}

#[cfg(test)]
mod tests {
    use rquickjs::{Context, Runtime};

    use super::{describe, ScriptError, StartError};

    /// Runs `code` in a fresh context of `rt` and describes how it failed.
    fn failure(rt: &Runtime, code: &str) -> ScriptError {
        let ctx = Context::full(rt).expect("context");
        ctx.with(|ctx| {
            let e = ctx.eval::<(), _>(code).expect_err("the script fails");
            describe(&ctx, e)
        })
    }

    #[test]
    fn quickjs_running_out_of_memory_is_out_of_memory() {
        let rt = Runtime::new().expect("runtime");
        rt.set_memory_limit(8 << 20);
        let e = failure(&rt, "const a = []; for (;;) a.push('x'.repeat(1e5) + a.length);");
        assert!(matches!(e, ScriptError::OutOfMemory(_)), "{e:?}");
        assert!(e.text().contains("out of memory"), "{e:?}");
    }

    #[test]
    fn the_interrupt_handler_stopping_a_script_is_interrupted() {
        let rt = Runtime::new().expect("runtime");
        rt.set_interrupt_handler(Some(Box::new(|| true)));
        let e = failure(&rt, "for (;;) {}");
        assert!(matches!(e, ScriptError::Interrupted(_)), "{e:?}");
    }

    #[test]
    fn a_script_error_that_only_mentions_memory_is_a_throw() {
        let rt = Runtime::new().expect("runtime");
        let e = failure(&rt, "throw new Error('out of memory')");
        assert!(matches!(&e, ScriptError::Threw(t) if t.starts_with("Error: out of memory\n")), "{e:?}");
    }

    #[test]
    fn start_up_failures_name_the_limit_they_hit() {
        let cpu = std::time::Duration::from_millis(5);
        let oom = StartError::Script(ScriptError::OutOfMemory("InternalError: out of memory".into()));
        assert_eq!(oom.clone().with_limits(false, cpu, 64), StartError::MemoryLimit(64));
        assert_eq!(oom.with_limits(true, cpu, 64), StartError::CpuLimit(cpu));
        let threw = StartError::Binding("kv".into(), ScriptError::Threw("TypeError: x".into()));
        assert_eq!(threw.clone().with_limits(false, cpu, 64), threw);
        assert_eq!(threw.to_string(), "env.kv: TypeError: x");
    }
}
