//! Native functions behind the JavaScript web platform APIs. They take and
//! return plain values (strings, numbers, byte arrays) and never call back
//! into JavaScript: asynchronous results come back as queued events.

use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use rquickjs::function::Opt;
use rquickjs::{Ctx, Exception, Function, Object, TypedArray, Value};

use super::error::ScriptError;
use super::events::EventKind;
use super::instance::{Event, Host, Pending, RequestError, StreamGauge, WorkerBody, WorkerResponse};
use crate::http_client::OutboundRequest;

/// Timers one instance may have pending; each is a task outside the JS heap.
const MAX_TIMERS: usize = 10_000;
/// Outbound fetches one instance may have in flight.
const MAX_FETCHES: usize = 256;
/// Bytes one `crypto.getRandomValues` call may fill (the Web Crypto quota).
pub const MAX_RANDOM_BYTES: usize = 65_536;
/// Longest log line or error text kept; the rest is cut with a marker.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Longest URL (input, base or new part) the URL functions take: the longest
/// a browser navigates to. Parsing copies it a few times outside the JS heap.
pub const MAX_URL_BYTES: usize = 2 << 20;
/// Longest `application/x-www-form-urlencoded` text `URLSearchParams`
/// serializes: twice the largest response body. Percent-encoding triples
/// text, and the result is built outside the JS heap, so it is bounded.
pub const MAX_FORM_BYTES: usize = 64 << 20;
/// Header fields one request or response may carry, and their total size
/// (names and values), as hyper accepts on the way in.
pub const MAX_HEADERS: usize = 100;
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// What a host function refuses. Every check is made here, in Rust, on the
/// values the native side actually sees: a worker may replace any JS-side
/// check (a getter that answers differently each time, a Proxy), so none of
/// them is trusted.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HostArgError {
    #[error("{what}: {len} bytes requested, the limit is {limit}")]
    TooLarge { what: &'static str, len: usize, limit: usize },
    #[error("{what}: {count} header fields, the limit is {MAX_HEADERS}")]
    TooManyHeaders { what: &'static str, count: usize },
    #[error("{what}: headers of {len} bytes, the limit is {MAX_HEADER_BYTES}")]
    HeadersTooLarge { what: &'static str, len: usize },
    #[error("{what}: the buffer is detached")]
    Detached { what: &'static str },
    #[error("{what}: status {status} is not in the range 200 to 599")]
    Status { what: &'static str, status: f64 },
}

/// The bytes of `array`'s view, if it is no longer than `limit`: the length
/// is read once, from the view itself, before anything is copied.
pub(crate) fn bytes_within(
    array: &TypedArray<'_, u8>,
    what: &'static str,
    limit: usize,
) -> Result<Vec<u8>, HostArgError> {
    let len = array.len();
    if len > limit {
        return Err(HostArgError::TooLarge { what, len, limit });
    }
    // SAFETY: the slice is copied at once, before any JavaScript can run and
    // detach or resize the buffer.
    match unsafe { array.as_bytes() } {
        Some(b) => Ok(b.to_vec()),
        None if len == 0 => Ok(Vec::new()),
        None => Err(HostArgError::Detached { what }),
    }
}

/// Fills `array`'s view with random bytes in place, if it is at most
/// [`MAX_RANDOM_BYTES`] long. Nothing is allocated: the view is the worker's.
fn fill_random(array: &TypedArray<'_, u8>) -> Result<(), HostArgError> {
    const WHAT: &str = "getRandomValues";
    let len = array.len();
    if len > MAX_RANDOM_BYTES {
        return Err(HostArgError::TooLarge { what: WHAT, len, limit: MAX_RANDOM_BYTES });
    }
    let Some(raw) = array.as_raw() else {
        return if len == 0 { Ok(()) } else { Err(HostArgError::Detached { what: WHAT }) };
    };
    // SAFETY: `raw` is the live view of a buffer owned by this context's heap;
    // no JavaScript runs between taking it and the write below (getrandom
    // does not call back), so the buffer cannot be detached or resized, and
    // nothing else holds a reference into it during the call.
    let view = unsafe { &mut *raw.as_ptr() };
    getrandom::fill(view).map_err(|_| HostArgError::Detached { what: WHAT })
}

/// `message` cut to [`MAX_MESSAGE_BYTES`] on a character boundary.
pub fn bounded_message(mut message: String) -> String {
    crate::logs::cut_to(&mut message, MAX_MESSAGE_BYTES);
    message
}

/// Header fields as name/value pairs, within [`MAX_HEADERS`] and
/// [`MAX_HEADER_BYTES`].
fn headers_within(flat: Vec<String>, what: &'static str) -> Result<Vec<(String, String)>, HostArgError> {
    let count = flat.len() / 2;
    if count > MAX_HEADERS {
        return Err(HostArgError::TooManyHeaders { what, count });
    }
    let len: usize = flat.iter().map(String::len).sum();
    if len > MAX_HEADER_BYTES {
        return Err(HostArgError::HeadersTooLarge { what, len });
    }
    Ok(pairs(flat))
}

/// An HTTP status a worker may answer with (the `Response` constructor's
/// range), checked again here since the JS side can be bypassed.
fn status_within(status: f64, what: &'static str) -> Result<u16, HostArgError> {
    if status.fract() == 0.0 && (200.0..=599.0).contains(&status) {
        Ok(status as u16)
    } else {
        Err(HostArgError::Status { what, status })
    }
}

fn pairs(flat: Vec<String>) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
}

/// A URL function's argument over [`MAX_URL_BYTES`] is a TypeError, as an
/// invalid URL is.
fn url_len(ctx: &Ctx<'_>, what: &'static str, text: &str) -> rquickjs::Result<()> {
    if text.len() > MAX_URL_BYTES {
        let e = HostArgError::TooLarge { what, len: text.len(), limit: MAX_URL_BYTES };
        return Err(Exception::throw_type(ctx, &e.to_string()));
    }
    Ok(())
}

/// `href` with `part` set to `value` by the URL Standard's setter rules
/// (`None`: `href` or the new `href` does not parse, or no such part).
fn set_url_part(href: &str, part: &str, value: &str) -> Option<Vec<String>> {
    let mut u = url::Url::parse(href).ok()?;
    // A setter that refuses the value leaves the URL as it was (Err(())).
    let _refused: Result<(), ()> = match part {
        "href" => {
            u = url::Url::parse(value).ok()?;
            Ok(())
        }
        "protocol" => url::quirks::set_protocol(&mut u, value),
        "username" => url::quirks::set_username(&mut u, value),
        "password" => url::quirks::set_password(&mut u, value),
        "host" => url::quirks::set_host(&mut u, value),
        "hostname" => url::quirks::set_hostname(&mut u, value),
        "port" => url::quirks::set_port(&mut u, value),
        "pathname" => {
            url::quirks::set_pathname(&mut u, value);
            Ok(())
        }
        "search" => {
            url::quirks::set_search(&mut u, value);
            Ok(())
        }
        "hash" => {
            url::quirks::set_hash(&mut u, value);
            Ok(())
        }
        _ => return None,
    };
    Some(url_parts(&u))
}

fn url_parts(u: &url::Url) -> Vec<String> {
    vec![
        u.as_str().to_string(),
        u.origin().ascii_serialization(),
        format!("{}:", u.scheme()),
        u.username().to_string(),
        u.password().unwrap_or("").to_string(),
        url::quirks::host(u).to_string(),
        url::quirks::hostname(u).to_string(),
        url::quirks::port(u).to_string(),
        url::quirks::pathname(u).to_string(),
        url::quirks::search(u).to_string(),
        url::quirks::hash(u).to_string(),
    ]
}

macro_rules! set {
    ($obj:expr, $name:literal, $ctx:expr, $f:expr) => {
        $obj.set($name, Function::new($ctx.clone(), $f)?.with_name($name)?)?
    };
}

/// Builds the `__host` object the prelude captures and then hides.
pub fn install<'js>(ctx: &Ctx<'js>, host: &Rc<Host>) -> rquickjs::Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;

    let h = host.clone();
    set!(o, "log", ctx, move |level: i32, message: String| {
        let message = bounded_message(message);
        let level = match level {
            0 => "debug",
            1 => "info",
            2 => "log",
            3 => "warn",
            _ => "error",
        };
        h.worker.log(level, message);
    });

    let h = host.clone();
    set!(o, "reportError", ctx, move |message: String| h.worker.set_error(bounded_message(message)));

    let h = host.clone();
    set!(o, "now", ctx, move || h.started.elapsed().as_secs_f64() * 1000.0);

    // Fills the given Uint8Array view in place; its length is the view's own.
    set!(o, "fillRandom", ctx, move |ctx: Ctx<'js>, view: TypedArray<'js, u8>| -> rquickjs::Result<()> {
        fill_random(&view).map_err(|e| Exception::throw_range(&ctx, &e.to_string()))
    });

    set!(o, "utf8Decode", ctx, move |ctx: Ctx<'js>,
                                     bytes: TypedArray<'js, u8>,
                                     fatal: bool|
          -> rquickjs::Result<String> {
        let raw = bytes_within(&bytes, "TextDecoder.decode", usize::MAX)
            .map_err(|e| Exception::throw_type(&ctx, &e.to_string()))?;
        if fatal {
            String::from_utf8(raw).map_err(|_| Exception::throw_type(&ctx, "The encoded data was not valid utf-8"))
        } else {
            Ok(String::from_utf8_lossy(&raw).into_owned())
        }
    });

    // Every byte array made for JavaScript is a copy in its heap
    // (`new_copy`): one made from a Rust `Vec` keeps the `Vec` as external
    // memory, which the worker's memory limit never sees.
    set!(o, "utf8Encode", ctx, move |ctx: Ctx<'js>, s: String| { TypedArray::<u8>::new_copy(ctx, s.as_bytes()) });

    set!(o, "urlParse", ctx, move |ctx: Ctx<'js>, input: String, base: Opt<String>| {
        url_len(&ctx, "URL", &input)?;
        if let Some(base) = &base.0 {
            url_len(&ctx, "base URL", base)?;
        }
        let parsed = match base.0 {
            Some(base) => url::Url::parse(&base).ok().and_then(|b| b.join(&input).ok()),
            None => url::Url::parse(&input).ok(),
        };
        Ok::<_, rquickjs::Error>(parsed.map(|u| url_parts(&u)))
    });

    set!(o, "urlSet", ctx, move |ctx: Ctx<'js>, href: String, part: String, value: String| {
        url_len(&ctx, "URL", &href)?;
        url_len(&ctx, "URL part", &value)?;
        Ok::<_, rquickjs::Error>(set_url_part(&href, &part, &value))
    });

    set!(o, "formParse", ctx, move |ctx: Ctx<'js>, s: String| -> rquickjs::Result<rquickjs::Array<'js>> {
        // Straight into the JS heap, pair by pair: a text of a million `&`s
        // makes two million strings, which its memory limit must see.
        let flat = rquickjs::Array::new(ctx.clone())?;
        for (i, (k, v)) in url::form_urlencoded::parse(s.as_bytes()).enumerate() {
            flat.set(2 * i, k.as_ref())?;
            flat.set(2 * i + 1, v.as_ref())?;
        }
        Ok(flat)
    });

    set!(o, "formSerialize", ctx, move |ctx: Ctx<'js>, flat: rquickjs::Array<'js>| -> rquickjs::Result<String> {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        let mut out_len = 0;
        // Element by element (each a string, checked by the conversion),
        // stopping at the limit before the text grows past it.
        let mut i = 0;
        while i + 1 < flat.len() {
            let (k, v): (String, String) = (flat.get(i)?, flat.get(i + 1)?);
            out_len += 3 * (k.len() + v.len()) + 2;
            if out_len > MAX_FORM_BYTES {
                let e = HostArgError::TooLarge { what: "URLSearchParams", len: out_len, limit: MAX_FORM_BYTES };
                return Err(Exception::throw_range(&ctx, &e.to_string()));
            }
            ser.append_pair(&k, &v);
            i += 2;
        }
        Ok(ser.finish())
    });

    let h = host.clone();
    set!(o, "timerStart", ctx, move |ctx: Ctx<'js>, id: f64, ms: f64| -> rquickjs::Result<()> {
        if h.timers.borrow().len() >= MAX_TIMERS {
            return Err(Exception::throw_range(&ctx, &format!("too many pending timers (limit {MAX_TIMERS})")));
        }
        let delay = Duration::from_secs_f64((if ms.is_finite() { ms } else { 0.0 }).clamp(0.0, 1e9) / 1000.0);
        let tag = h.tag.get();
        let host = h.clone();
        let task = tokio::task::spawn_local(async move {
            tokio::time::sleep(delay).await;
            host.push(Event::Timer { tag, id });
        });
        h.timers.borrow_mut().insert(id as u64, task.abort_handle());
        Ok(())
    });

    let h = host.clone();
    set!(o, "timerClear", ctx, move |id: f64| {
        if let Some(t) = h.timers.borrow_mut().remove(&(id as u64)) {
            t.abort();
        }
    });

    let h = host.clone();
    set!(o, "fetch", ctx, move |ctx: Ctx<'js>,
                                id: f64,
                                method: String,
                                url: String,
                                headers: Vec<String>,
                                body: Opt<TypedArray<'js, u8>>|
          -> rquickjs::Result<()> {
        if h.fetches.get() + h.bodies.borrow().len() >= MAX_FETCHES {
            return Err(Exception::throw_range(&ctx, "too many outbound requests in flight"));
        }
        let range = |e: HostArgError| Exception::throw_range(&ctx, &e.to_string());
        let body = match body.0 {
            Some(b) => Bytes::from(bytes_within(&b, "fetch body", h.limits.request_body_bytes).map_err(range)?),
            None => Bytes::new(),
        };
        let headers = headers_within(headers, "fetch headers").map_err(range)?;
        let req = OutboundRequest { method, url: url.clone(), headers, body };
        super::instance::note_effect();
        let fut = h.http.send(req, h.limits.request_timeout);
        let tag = h.tag.get();
        let host = h.clone();
        h.fetches.set(h.fetches.get() + 1);
        tokio::task::spawn_local(async move {
            let result = fut.await.map_err(|e| e.to_string());
            host.fetches.set(host.fetches.get() - 1);
            host.push(Event::FetchDone { tag, id, result, url });
        });
        Ok(())
    });

    // Reads the next chunk of fetch response body `body` for operation `op`.
    let h = host.clone();
    set!(o, "fetchRead", ctx, move |op: f64, body: f64| {
        let key = body as u64;
        let taken = h.bodies.borrow_mut().remove(&key);
        let tag = h.tag.get();
        let host = h.clone();
        tokio::task::spawn_local(async move {
            let Some((mut stream, mut read)) = taken else {
                host.push(Event::FetchChunk { tag, id: op, result: Ok(None) });
                return;
            };
            let limit = host.limits.response_body_bytes;
            let timeout = host.limits.request_timeout;
            let result = loop {
                match tokio::time::timeout(timeout, stream.frame()).await {
                    Err(_) => break Err(format!("no body data within {timeout:?}")),
                    Ok(None) => break Ok(None),
                    Ok(Some(Err(e))) => break Err(e.to_string()),
                    Ok(Some(Ok(frame))) => match frame.into_data() {
                        Ok(data) if data.is_empty() => continue,
                        Ok(data) => break Ok(Some(data)),
                        Err(_trailers) => continue,
                    },
                }
            };
            let result = match result {
                Ok(Some(data)) => {
                    read += data.len();
                    if read > limit {
                        Err(format!("response body exceeds the limit of {limit} bytes"))
                    } else {
                        if !host.cancelled_bodies.borrow_mut().remove(&key) && !host.closed.get() {
                            host.bodies.borrow_mut().insert(key, (stream, read));
                        }
                        Ok(Some(data))
                    }
                }
                other => other,
            };
            host.push(Event::FetchChunk { tag, id: op, result });
        });
    });

    // Drops a fetch response body the worker will not read.
    let h = host.clone();
    set!(o, "fetchCancel", ctx, move |body: f64| {
        let key = body as u64;
        if h.bodies.borrow_mut().remove(&key).is_none() {
            h.cancelled_bodies.borrow_mut().insert(key);
        }
    });

    let h = host.clone();
    set!(o, "respond", ctx, move |id: f64,
                                  status: f64,
                                  headers: Vec<String>,
                                  body: Opt<TypedArray<'js, u8>>|
          -> bool {
        let id = id as u64;
        let Some(Pending::Http(tx)) = h.pending.borrow_mut().remove(&id) else {
            return false;
        };
        h.finished(id);
        let limit = h.limits.response_body_bytes;
        let parts = (|| {
            let status = status_within(status, "Response")?;
            let headers = headers_within(headers, "Response headers")?;
            let body = match body.0 {
                Some(b) => bytes_within(&b, "Response body", limit)?,
                None => Vec::new(),
            };
            Ok::<_, HostArgError>((status, headers, body))
        })();
        let result = match parts {
            Ok((status, headers, body)) => Ok(WorkerResponse { status, headers, body: WorkerBody::Full(body.into()) }),
            Err(HostArgError::TooLarge { .. }) => Err(RequestError::ResponseTooLarge(limit)),
            Err(e) => Err(RequestError::Threw(e.to_string())),
        };
        tx.send(result).is_ok()
    });

    let h = host.clone();
    // `length`: the body's length when its stream knows it, else -1.
    set!(o, "respondStart", ctx, move |id: f64, status: f64, headers: Vec<String>, length: f64| -> bool {
        let id = id as u64;
        let mut pending = h.pending.borrow_mut();
        let Some(Pending::Http(tx)) = pending.remove(&id) else {
            return false;
        };
        let checked =
            status_within(status, "Response").and_then(|s| Ok((s, headers_within(headers, "Response headers")?)));
        let (status, headers) = match checked {
            Ok(c) => c,
            Err(e) => {
                drop(pending);
                h.finished(id);
                let _ = tx.send(Err(RequestError::Threw(e.to_string())));
                return false;
            }
        };
        let (chunk_tx, chunk_rx) = tokio::sync::mpsc::unbounded_channel();
        let gauge = std::sync::Arc::new(StreamGauge::default());
        let length = (length.fract() == 0.0 && (0.0..=h.limits.response_body_bytes as f64).contains(&length))
            .then_some(length as u64);
        let response = WorkerResponse { status, headers, body: WorkerBody::Stream(chunk_rx, gauge.clone(), length) };
        if tx.send(Ok(response)).is_err() {
            return false;
        }
        pending.insert(id, Pending::Streaming { tx: chunk_tx, sent: 0, gauge });
        true
    });

    let h = host.clone();
    // Queues a chunk; answers the bytes now queued, or -1 when the response
    // is over its limit or its client is gone.
    set!(o, "chunk", ctx, move |id: f64, bytes: TypedArray<'js, u8>| -> f64 {
        let id = id as u64;
        let limit = h.limits.response_body_bytes;
        let mut pending = h.pending.borrow_mut();
        let Some(Pending::Streaming { tx, sent, gauge }) = pending.get_mut(&id) else {
            return -1.0;
        };
        let Ok(data) = bytes_within(&bytes, "response chunk", limit.saturating_sub(*sent)) else {
            let _ = tx.send(Err(RequestError::ResponseTooLarge(limit).to_string()));
            pending.remove(&id);
            return -1.0;
        };
        *sent += data.len();
        if *sent > limit {
            let _ = tx.send(Err(RequestError::ResponseTooLarge(limit).to_string()));
            pending.remove(&id);
            return -1.0;
        }
        let queued = gauge.put(data.len());
        if tx.send(Ok(data.into())).is_err() {
            pending.remove(&id);
            return -1.0;
        }
        queued as f64
    });

    // Resolves operation `op` once response `id` has less than the high mark
    // queued, or its client has gone away.
    let h = host.clone();
    set!(o, "drain", ctx, move |op: f64, id: f64| {
        let target = match h.pending.borrow().get(&(id as u64)) {
            Some(Pending::Streaming { tx, gauge, .. }) => Some((tx.clone(), gauge.clone())),
            _ => None,
        };
        let tag = h.tag.get();
        let host = h.clone();
        tokio::task::spawn_local(async move {
            if let Some((tx, gauge)) = target {
                while gauge.queued() >= StreamGauge::HIGH && !tx.is_closed() {
                    let _ = tokio::time::timeout(Duration::from_millis(100), gauge.wait_taken()).await;
                }
            }
            host.push(Event::Drained { tag, id: op });
        });
    });

    let h = host.clone();
    set!(o, "end", ctx, move |id: f64, error: Opt<String>| {
        let id = id as u64;
        h.finished(id);
        if let Some(Pending::Streaming { tx, .. }) = h.pending.borrow_mut().remove(&id) {
            if let Some(e) = error.0 {
                let _ = tx.send(Err(e));
            }
        }
    });

    let h = host.clone();
    // `message` is the error's text; `error`, when given, is what was thrown,
    // from which the failure is classified (out of memory, interrupted).
    set!(o, "fail", ctx, move |id: f64, message: String, error: Opt<Value<'js>>| {
        let e = h.classify(ScriptError::from_thrown(error.0.as_ref(), bounded_message(message)));
        h.fail(id as u64, e);
    });

    let h = host.clone();
    // The worker has no handler for this event (an `EVENT` number).
    set!(o, "noHandler", ctx, move |id: f64, kind: u8| {
        let e = match EventKind::from_code(kind) {
            Some(EventKind::Fetch) => RequestError::NoHandler("fetch"),
            Some(EventKind::Scheduled) => RequestError::NoHandler("scheduled"),
            other => RequestError::Threw(format!("no handler for event {other:?} ({kind})")),
        };
        h.fail(id as u64, e);
    });

    let h = host.clone();
    // `noRetry()` of a scheduled run's controller: honoured while that run
    // is still going (a controller kept and called later does nothing).
    set!(o, "noRetry", ctx, move |id: f64| {
        if matches!(h.pending.borrow().get(&(id as u64)), Some(Pending::Scheduled(_))) {
            h.worker.stop_schedule();
        }
    });

    let h = host.clone();
    set!(o, "done", ctx, move |id: f64| {
        let id = id as u64;
        h.finished(id);
        if let Some(Pending::Scheduled(tx)) = h.pending.borrow_mut().remove(&id) {
            let _ = tx.send(Ok(()));
        }
    });

    super::compression::install(ctx, &o, host)?;
    Ok(o)
}
