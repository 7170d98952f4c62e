//! The events Rust delivers to the prelude's `dispatch`, by name on both
//! sides: [`EventKind`] here, the frozen `EVENT` object in
//! `prelude/event_kinds.js`. The test below fails when the two disagree.

/// What a call of the prelude's `dispatch(kind, id, …)` is about.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// A request for the worker's fetch handler: method, url, headers, body.
    Fetch = 1,
    /// A cron trigger for the worker's scheduled handler: cron, time.
    Scheduled = 2,
    /// A timer fired.
    Timer = 3,
    /// An outbound fetch got its response head: status, text, headers, url.
    FetchDone = 4,
    /// An outbound fetch failed: message.
    FetchFailed = 5,
    /// A streamed response's queue went below the high mark.
    Drained = 6,
    /// The next chunk of a fetch response body: bytes or null, error.
    FetchChunk = 7,
}

impl EventKind {
    /// Every kind, in number order.
    pub(crate) const ALL: [EventKind; 7] = [
        EventKind::Fetch,
        EventKind::Scheduled,
        EventKind::Timer,
        EventKind::FetchDone,
        EventKind::FetchFailed,
        EventKind::Drained,
        EventKind::FetchChunk,
    ];

    /// The number `dispatch` receives.
    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    /// The key of this kind in the prelude's `EVENT` object (only the
    /// agreement test needs it: JavaScript receives the number).
    #[cfg(test)]
    pub(crate) fn js_name(self) -> &'static str {
        match self {
            EventKind::Fetch => "FETCH",
            EventKind::Scheduled => "SCHEDULED",
            EventKind::Timer => "TIMER",
            EventKind::FetchDone => "FETCH_DONE",
            EventKind::FetchFailed => "FETCH_FAILED",
            EventKind::Drained => "DRAINED",
            EventKind::FetchChunk => "FETCH_CHUNK",
        }
    }

    /// The kind numbered `code`, if any.
    pub(crate) fn from_code(code: u8) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl<'js> rquickjs::IntoJs<'js> for EventKind {
    fn into_js(self, ctx: &rquickjs::Ctx<'js>) -> rquickjs::Result<rquickjs::Value<'js>> {
        self.code().into_js(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    const TABLE: &str = include_str!("prelude/event_kinds.js");
    const DISPATCH: &str = include_str!("prelude/dispatch.js");

    /// Evaluates the prelude's own `EVENT` table in QuickJS and lists it.
    fn js_events() -> Vec<(String, u8)> {
        let rt = rquickjs::Runtime::new().expect("runtime");
        let ctx = rquickjs::Context::full(&rt).expect("context");
        ctx.with(|ctx| {
            let script =
                format!("{TABLE}\nObject.isFrozen(EVENT) ? JSON.stringify(Object.entries(EVENT)) : 'not frozen'");
            let json: String = ctx.eval(script).expect("event_kinds.js evaluates");
            serde_json::from_str(&json).expect("EVENT must be frozen and list [name, number] pairs")
        })
    }

    #[test]
    fn js_event_table_has_the_same_names_and_numbers_as_the_rust_enum() {
        let rust: Vec<(String, u8)> = EventKind::ALL.iter().map(|k| (k.js_name().to_string(), k.code())).collect();
        assert_eq!(js_events(), rust);
    }

    #[test]
    fn rust_event_list_is_complete_and_numbered_from_one() {
        for (i, kind) in EventKind::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(kind.code()), i + 1, "{kind:?}");
            assert_eq!(EventKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(EventKind::from_code(0), None);
        assert_eq!(EventKind::from_code(EventKind::ALL.len() as u8 + 1), None);
    }

    #[test]
    fn dispatch_handles_every_event_by_name_and_none_by_number() {
        for kind in EventKind::ALL {
            let case = format!("case EVENT.{}:", kind.js_name());
            assert!(DISPATCH.contains(&case), "dispatch.js lacks `{case}`");
        }
        let numbered = DISPATCH.lines().filter(|l| l.trim_start().starts_with("case ") && !l.contains("EVENT."));
        assert_eq!(numbered.count(), 0, "dispatch.js has a case that is not an EVENT name");
    }
}
