//! HTTP front: management API, health, stats, and requests to workers. Runs
//! on the pool thread that owns the connection.

use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::{json, Value};

use crate::api::{parse_create, ApiError, Dialect};
use crate::auth::{self, Credential, CredentialHash, Refusal, RouteClass};
use crate::body::{OutBody, StreamOut};
use crate::engine::pool::{Answer, Connection, DispatchError, Pool, ThreadState, WorkerRequest};
use crate::engine::{RequestError, StartError, WorkerBody};
use crate::ingress::{first_byte, read_preamble, refuse, ClockedIo, ConnClock, HeldBody, PreambleError, Replay};
use crate::peer::Peer;
use crate::registry::{RegistryError, Worker, WorkerKind, WorkerSpec};
use crate::tls::PlainHttp;

/// The request header naming the client's address to workers. Set from the
/// PROXY header with `--proxy-protocol`; a client-sent one is always dropped,
/// so a worker never sees an address the client chose.
const CONNECTING_IP: HeaderName = HeaderName::from_static("cf-connecting-ip");

/// The response header by which a worker asks for a longer budget for its
/// streamed response (a duration, at most `--stream-timeout`). Stripped.
const STREAM_TIMEOUT_HEADER: &str = "sworn-stream-timeout";

/// Serves one client connection until it closes, idles out, or the runner
/// drains. The PROXY header (if any) comes first; then, with `--tls`, a
/// connection whose first byte starts a TLS handshake gets one, bounded by
/// the header timeout, and HTTP runs inside it; any other is plain HTTP
/// (refused under `--plain-http off`).
pub async fn serve_connection(state: Rc<ThreadState>, mut conn: Box<dyn Connection>) {
    let opened = tokio::time::Instant::now();
    let limits = state.shared.limits.clone();
    let mut preamble = match read_preamble(&mut conn, limits.proxy_protocol, limits.header_timeout).await {
        Ok(p) => p,
        Err(e) => {
            tracing::debug!("connection refused: {e}");
            refuse(&mut conn, &e).await;
            return;
        }
    };
    let clock = ConnClock::new(opened, limits.header_timeout, limits.keepalive_timeout);
    let Some(tls) = state.shared.tls.clone() else {
        let peer = Peer::plain(preamble.client_ip);
        return serve_http(state, ClockedIo::new(conn, preamble.rest, clock.clone()), clock, peer).await;
    };
    let deadline = opened + limits.header_timeout;
    match first_byte(&mut conn, &mut preamble, deadline, limits.header_timeout).await {
        Ok(crate::tls::HANDSHAKE_RECORD) => {}
        Ok(_) if tls.plain_http() == PlainHttp::Compat => {
            let peer = Peer::plain(preamble.client_ip);
            return serve_http(state, ClockedIo::new(conn, preamble.rest, clock.clone()), clock, peer).await;
        }
        Ok(_) => {
            tracing::debug!("connection refused: plain HTTP under --plain-http off");
            refuse(&mut conn, &PreambleError::TlsOnly).await;
            return;
        }
        Err(e) => {
            tracing::debug!("connection refused: {e}");
            refuse(&mut conn, &e).await;
            return;
        }
    }
    let handshake = tls.accept(Replay::new(conn, preamble.rest), preamble.client_ip);
    match tokio::time::timeout_at(deadline, handshake).await {
        Ok(Ok((stream, peer))) => {
            serve_http(state, ClockedIo::new(stream, Vec::new(), clock.clone()), clock, peer).await
        }
        // Dropping the stream closes this connection only.
        Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
        Err(_) => tracing::debug!(
            "TLS handshake not complete within the header timeout of {:?} (--header-timeout)",
            limits.header_timeout
        ),
    }
}

/// HTTP/1.1 on `io` (plain, or inside TLS) for `peer`, under `clock`.
async fn serve_http<T>(state: Rc<ThreadState>, io: ClockedIo<T>, clock: Rc<ConnClock>, peer: Peer)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + 'static,
{
    let limits = state.shared.limits.clone();
    let peer = Rc::new(peer);
    let client_ip = peer.client_ip.and_then(|ip| HeaderValue::from_str(&ip.to_string()).ok());
    let mut shutdown = state.shutdown_signal();
    let svc_state = state.clone();
    let svc_clock = clock.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let state = svc_state.clone();
        let peer = peer.clone();
        let in_flight = svc_clock.request_started();
        req.headers_mut().remove(&CONNECTING_IP);
        if let Some(ip) = &client_ip {
            req.headers_mut().insert(CONNECTING_IP, ip.clone());
        }
        async move {
            let resp = handle(state, req, &peer).await;
            Ok::<_, std::convert::Infallible>(
                resp.map(|(body, inflight)| HeldBody::new(body, Box::new((in_flight, inflight)))),
            )
        }
    });
    // hyper's own header-read timer is a backstop only: it starts whenever
    // hyper waits for a head, idle keep-alive included, so the clock above
    // does the real work; without a timer hyper would have none at all.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout + limits.keepalive_timeout)
        .keep_alive(true)
        .max_buf_size(64 << 10)
        .serve_connection(hyper_util::rt::TokioIo::new(io), service);
    tokio::pin!(conn);
    if *shutdown.borrow() {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let deadline = clock.deadline();
        let idle_out = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("connection: {e}");
                }
                return;
            }
            _ = shutdown.changed() => conn.as_mut().graceful_shutdown(),
            _ = clock.changed() => {}
            _ = idle_out => {
                if clock.deadline().is_some_and(|d| d <= tokio::time::Instant::now()) {
                    tracing::debug!("connection closed: idle or unfinished request head");
                    return;
                }
            }
        }
    }
}

pub(crate) fn json_response(status: StatusCode, v: Value) -> Response<OutBody> {
    let mut r = Response::new(OutBody::from(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response<OutBody> {
    json_response(status, json!({ "error": message.into() }))
}

fn empty(status: StatusCode) -> Response<OutBody> {
    let mut r = Response::new(OutBody::empty());
    *r.status_mut() = status;
    r
}

/// Counts a request as in flight (for the drain) until its response body
/// has been sent or dropped.
struct Inflight(Arc<crate::engine::pool::Shared>);

impl Drop for Inflight {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(state: Rc<ThreadState>, req: Request<Incoming>, peer: &Peer) -> Response<(OutBody, Inflight)> {
    let shared = state.shared.clone();
    shared.inflight.fetch_add(1, Ordering::SeqCst);
    let inflight = Inflight(shared);
    route(&state, req, peer).await.map(|b| (b, inflight))
}

/// First path segments of the REST API; a `POST` anywhere else is Escrin's
/// create.
const REST_ROOTS: [&str; 5] = ["workers", "health", "stats", "attestation", "gas-account"];

async fn route(state: &Rc<ThreadState>, req: Request<Incoming>, peer: &Peer) -> Response<OutBody> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let segments: Vec<&str> = path.trim_start_matches('/').splitn(4, '/').collect();
    let limits = &state.shared.limits;
    let policy = auth::Policy { tls_enabled: limits.tls_enabled, deploy: limits.deploy };
    let class = match (&method, segments.as_slice()) {
        // The gas account's address is public: the operator funds it.
        (_, ["health"]) | (&Method::GET, ["gas-account"]) => RouteClass::Health,
        (&Method::POST, [first, ..]) if !REST_ROOTS.contains(first) => RouteClass::EscrinCreate,
        (_, ["workers", _, "fetch", ..]) => RouteClass::WorkerCall,
        _ => RouteClass::Management,
    };
    let has_authorization = req.headers().contains_key(http::header::AUTHORIZATION);
    if let Err(r) = auth::transport(&policy, peer, class, has_authorization, &format!("{method} {path}")) {
        return refusal(r);
    }
    match (&method, segments.as_slice()) {
        (&Method::GET, ["health"]) => json_response(
            StatusCode::OK,
            json!({ "status": if state.shared.draining.load(Ordering::Relaxed) { "draining" } else { "ok" },
                    "workers": state.shared.registry.all().len(),
                    "gasAccount": state.shared.gas.get().map(|g| g.address().to_checksum()) }),
        ),
        (&Method::GET, ["gas-account"]) => match state.shared.gas.get() {
            Some(gas) => json_response(StatusCode::OK, gas.to_json()),
            None => error(StatusCode::SERVICE_UNAVAILABLE, "the gas account is not ready"),
        },
        (&Method::GET, ["stats"]) => json_response(StatusCode::OK, stats(state)),
        (&Method::GET, ["attestation"]) => {
            crate::attestation::get(state.shared.nsm.clone(), req.uri().query(), peer, state.shared.http.egress_allow())
                .await
        }
        // Escrin's runner takes a create at any path: deploy scripts that
        // post elsewhere than `/` keep working.
        _ if class == RouteClass::EscrinCreate => {
            if let Err(r) = auth::may_create(&policy, peer) {
                return refusal(r);
            }
            match create(state, req, peer, Creator::Anonymous).await {
                Ok(_) => empty(StatusCode::NO_CONTENT),
                Err(r) => r,
            }
        }
        (&Method::POST, ["workers"]) => {
            if let Err(r) = auth::may_create(&policy, peer) {
                return refusal(r);
            }
            let presented = match presented_credential(&req) {
                Ok(c) => c,
                Err(r) => return refusal(r),
            };
            match create(state, req, peer, Creator::Api { presented }).await {
                Ok(created) => json_response(StatusCode::CREATED, created.body()),
                Err(r) => r,
            }
        }
        (&Method::GET, ["workers"]) => {
            let list: Vec<Value> = state.shared.registry.all().iter().map(|w| w.summary()).collect();
            json_response(StatusCode::OK, json!({ "workers": list }))
        }
        (_, ["workers", key, rest @ ..]) => {
            // The credential is read (and a bad header refused) before the
            // lookup, only on the routes that take one: worker calls pass
            // Authorization through to the worker untouched.
            let managed = matches!((&method, rest), (&Method::GET | &Method::DELETE, []) | (&Method::GET, ["logs"]));
            let presented = if managed {
                match presented_credential(&req) {
                    Ok(c) => c,
                    Err(r) => return refusal(r),
                }
            } else {
                None
            };
            let Some(worker) = state.shared.registry.get(key) else {
                return error(StatusCode::NOT_FOUND, format!("no worker with id or name {key:?}"));
            };
            if managed {
                if let Err(r) = auth::may_manage(peer, &worker.name, worker.owner.as_ref(), presented.as_ref()) {
                    return refusal(r);
                }
            }
            match (&method, rest) {
                (&Method::GET, []) => json_response(StatusCode::OK, worker.details()),
                (&Method::DELETE, []) => {
                    state.shared.registry.remove(&worker.id);
                    state.pool.stop_worker(&worker.id);
                    empty(StatusCode::NO_CONTENT)
                }
                (&Method::GET, ["logs"]) => logs(&worker),
                (_, ["fetch"]) | (_, ["fetch", _]) => {
                    let sub = rest.get(1).copied().unwrap_or("");
                    worker_fetch(state, worker, sub, req).await
                }
                (_, []) | (_, ["logs"]) => {
                    error(StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not allowed on {path}"))
                }
                _ => error(StatusCode::NOT_FOUND, format!("no route for {method} {path}")),
            }
        }
        (_, [""])
        | (_, ["workers"])
        | (_, ["health"])
        | (_, ["stats"])
        | (_, ["attestation"])
        | (_, ["gas-account"]) => error(StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not allowed on {path}")),
        _ => error(StatusCode::NOT_FOUND, format!("no route for {method} {path}")),
    }
}

/// The credential of the request's `Authorization` header, if it has one.
fn presented_credential<B>(req: &Request<B>) -> Result<Option<Credential>, Refusal> {
    auth::presented(req.headers().get_all(http::header::AUTHORIZATION).iter().map(|v| v.as_bytes()))
}

/// The response of a refused request: its status, `{error}` (with `field`
/// for a name conflict, as before owners), and the Bearer challenge on 401.
fn refusal(r: Refusal) -> Response<OutBody> {
    let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::FORBIDDEN);
    let mut body = json!({ "error": r.to_string() });
    if matches!(r, Refusal::NameTaken { .. }) {
        body["field"] = json!("name");
    }
    let mut resp = json_response(status, body);
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(http::header::WWW_AUTHENTICATE, HeaderValue::from_static(auth::CHALLENGE));
    }
    resp
}

async fn read_body(
    req: Request<Incoming>,
    limit: usize,
    idle: Duration,
) -> Result<(http::request::Parts, Bytes), Response<OutBody>> {
    let (parts, body) = req.into_parts();
    if let Some(len) =
        parts.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
    {
        if len > limit as u64 {
            return Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body exceeds the limit of {limit} bytes"),
            ));
        }
    }
    collect_body(Limited::new(body, limit), limit, idle).await.map(|b| (parts, b))
}

/// Reads a whole request body, giving up when no chunk arrives for `idle`
/// (the body-progress rule: an upload stalled short of its length is dropped
/// and its buffer freed, however long it promised to be).
async fn collect_body(mut body: Limited<Incoming>, limit: usize, idle: Duration) -> Result<Bytes, Response<OutBody>> {
    let mut buf = Vec::new();
    loop {
        match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => {
                let mut r = error(
                    StatusCode::REQUEST_TIMEOUT,
                    format!("request body made no progress for {idle:?} (the body idle timeout)"),
                );
                r.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("close"));
                return Err(r);
            }
            Ok(None) => return Ok(Bytes::from(buf)),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    buf.extend_from_slice(&data);
                }
            }
            Ok(Some(Err(e))) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body exceeds the limit of {limit} bytes"),
                ))
            }
            Ok(Some(Err(e))) => return Err(error(StatusCode::BAD_REQUEST, format!("cannot read request body: {e}"))),
        }
    }
}

/// Who is creating a worker.
enum Creator {
    /// Escrin's `POST /`: no credential is issued, the worker has no owner.
    Anonymous,
    /// `POST /workers`, with the credential the request presented (used to
    /// replace an existing worker of the same name).
    Api { presented: Option<Credential> },
}

/// A worker made by `POST /workers`.
struct Created {
    worker: Arc<Worker>,
    /// The owner's credential: freshly issued, or the one presented to
    /// replace. `None` only when an operator replaced a worker without
    /// presenting its credential (the owner keeps the one they have).
    credential: Option<Credential>,
    /// The id of the worker this one replaced.
    replaced: Option<String>,
}

impl Created {
    fn body(&self) -> Value {
        let mut v = self.worker.summary();
        if let Some(c) = &self.credential {
            v["credential"] = json!(c.expose());
        }
        if let Some(id) = &self.replaced {
            v["replaced"] = json!(id);
        }
        v
    }
}

async fn create(
    state: &Rc<ThreadState>,
    req: Request<Incoming>,
    peer: &Peer,
    creator: Creator,
) -> Result<Created, Response<OutBody>> {
    if state.shared.draining.load(Ordering::Relaxed) {
        return Err(error(StatusCode::SERVICE_UNAVAILABLE, "runner is shutting down"));
    }
    let (parts, body) =
        read_body(req, state.shared.limits.request_body_bytes, state.shared.limits.body_idle_timeout).await?;
    let ct = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let dialect = match creator {
        Creator::Anonymous => Dialect::Escrin,
        Creator::Api { .. } => Dialect::Rest,
    };
    let spec = parse_create(ct, body, dialect).await.map_err(|e: ApiError| {
        let mut v = json!({ "error": e.to_string() });
        if let Some(f) = e.field() {
            v["field"] = json!(f);
        }
        json_response(StatusCode::BAD_REQUEST, v)
    })?;
    let presented = match creator {
        Creator::Anonymous => return create_anonymous(state, peer, spec).await,
        Creator::Api { presented } => presented,
    };
    let existing = spec.name.as_deref().and_then(|n| state.shared.registry.get(n));
    if let Some(old) = existing {
        auth::may_replace(peer, &old.name, old.owner.as_ref(), presented.as_ref()).map_err(refusal)?;
        let worker = deploy_with(&state.pool, spec, old.owner, Some(&old)).await.map_err(deploy_error)?;
        tracing::info!("worker {} ({}) replaced by {}", old.id, old.name, worker.id);
        return Ok(Created { worker, credential: presented, replaced: Some(old.id.clone()) });
    }
    let credential = Credential::generate()
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, format!("random source failed: {e}")))?;
    let worker = deploy_with(&state.pool, spec, Some(credential.hash()), None).await.map_err(deploy_error)?;
    Ok(Created { worker, credential: Some(credential), replaced: None })
}

/// Escrin's create. Uploading again under a name replaces that worker, as
/// Escrin's deploy scripts expect, when it has no owner (it was made this
/// way too); an owned worker keeps its name (409) unless an operator asks.
async fn create_anonymous(
    state: &Rc<ThreadState>,
    peer: &Peer,
    spec: WorkerSpec,
) -> Result<Created, Response<OutBody>> {
    let existing = spec.name.as_deref().and_then(|n| state.shared.registry.get(n));
    let Some(old) = existing else {
        let worker = deploy(&state.pool, spec).await.map_err(deploy_error)?;
        return Ok(Created { worker, credential: None, replaced: None });
    };
    if old.owner.is_some() {
        auth::may_replace(peer, &old.name, old.owner.as_ref(), None).map_err(refusal)?;
    }
    let worker = deploy_with(&state.pool, spec, old.owner, Some(&old)).await.map_err(deploy_error)?;
    tracing::info!("worker {} ({}) replaced by {} through Escrin's create", old.id, old.name, worker.id);
    Ok(Created { worker, credential: None, replaced: Some(old.id.clone()) })
}

fn deploy_error(e: DeployError) -> Response<OutBody> {
    match e {
        DeployError::Registry(e @ RegistryError::Full(_)) => error(StatusCode::TOO_MANY_REQUESTS, e.to_string()),
        DeployError::Registry(RegistryError::NameTaken(name)) => refusal(Refusal::NameTaken { name }),
        DeployError::Registry(e @ RegistryError::ReplacedMeanwhile(_)) => {
            json_response(StatusCode::CONFLICT, json!({ "error": e.to_string(), "field": "name" }))
        }
        DeployError::MemoryBudget(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        DeployError::Start(msg) => json_response(
            StatusCode::BAD_REQUEST,
            json!({ "error": format!("worker failed to start: {msg}"), "field": "code" }),
        ),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("worker failed to start: {0}")]
    Start(String),
    #[error("{0}")]
    MemoryBudget(crate::memory::BudgetExhausted),
}

/// Starts a worker on every thread, registers it, and (as Escrin does) runs
/// its scheduled handler once right away. The worker has no owner: this is
/// the deploy of boot workers and of Escrin's `POST /`.
pub async fn deploy(pool: &Pool, spec: WorkerSpec) -> Result<Arc<Worker>, DeployError> {
    deploy_with(pool, spec, None, None).await
}

/// [`deploy`] with an owner, optionally in the place of `replacing`: the
/// new worker (new id, same name) starts first, then takes the old one's
/// place in the registry in one step, and the old one is stopped. A
/// replacement that fails to start leaves the old worker running.
pub async fn deploy_with(
    pool: &Pool,
    spec: WorkerSpec,
    owner: Option<CredentialHash>,
    replacing: Option<&Arc<Worker>>,
) -> Result<Arc<Worker>, DeployError> {
    let shared = &pool.shared;
    if replacing.is_none() {
        shared.registry.check(spec.name.as_deref(), shared.limits.max_workers)?;
    }
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).map_err(|e| DeployError::Start(format!("random source failed: {e}")))?;
    let worker = Arc::new(Worker::new(hex::encode(raw), spec, owner, pool.instance_slots(), shared.limits.log_bytes));
    let handlers = pool.start_worker(worker.clone()).await.map_err(|e| match e {
        StartError::MemoryBudget(e) => DeployError::MemoryBudget(e),
        e => DeployError::Start(e.to_string()),
    })?;
    let registered = match replacing {
        Some(old) => shared.registry.replace(old, worker.clone()),
        None => shared.registry.insert(worker.clone(), shared.limits.max_workers),
    };
    if let Err(e) = registered {
        pool.stop_worker(&worker.id);
        return Err(e.into());
    }
    if let Some(old) = replacing {
        pool.stop_worker(&old.id);
    }
    if handlers.scheduled {
        let pool = pool.clone();
        let w = worker.clone();
        tokio::spawn(async move {
            let _ = pool.run_scheduled(w, String::new()).await;
        });
    }
    Ok(worker)
}

fn logs(worker: &Worker) -> Response<OutBody> {
    let ring = match worker.logs.lock() {
        Ok(r) => r,
        Err(e) => e.into_inner(),
    };
    let lines: Vec<_> = ring.lines().cloned().collect();
    json_response(StatusCode::OK, json!({ "lines": lines, "dropped": ring.dropped() }))
}

fn stats(state: &ThreadState) -> Value {
    let workers = state.shared.registry.all();
    let uptime = state.shared.started.elapsed().as_millis() as u64;
    let mut active = 0;
    let mut total = 0;
    let mut ok = 0;
    let mut failed = 0;
    let mut micros = 0;
    let mut per = serde_json::Map::new();
    for w in &workers {
        active += w.stats.active.load(Ordering::Relaxed);
        total += w.stats.total.load(Ordering::Relaxed);
        ok += w.stats.ok.load(Ordering::Relaxed);
        failed += w.stats.failed.load(Ordering::Relaxed);
        micros += w.stats.total_micros.load(Ordering::Relaxed);
        let mut s = w.stats.to_json(w.memory_usage(), w.created.elapsed().as_millis() as u64);
        s["name"] = json!(w.name);
        per.insert(w.id.clone(), s);
    }
    json!({
        "activeSessions": active,
        "totalExecutions": total,
        "successfulExecutions": ok,
        "failedExecutions": failed,
        "averageExecutionTime": if total == 0 { 0.0 } else { micros as f64 / total as f64 / 1000.0 },
        "memoryUsage": crate::memory::resident_bytes(),
        "memoryBudget": state.shared.heap.budget(),
        "heapCommitted": state.shared.heap.committed(),
        "uptime": uptime,
        "system": system_memory(),
        // `--state-dir` and the journal files skipped at start (each with
        // why), so an operator sees a lost worker without the console.
        "state": state.shared.registry.journal().map(|j| j.status()),
        "workers": per,
    })
}

/// The machine's memory as the kernel reports it (in an enclave: the
/// enclave's memory): `{memTotal, memAvailable, memUsed}` in bytes.
fn system_memory() -> Value {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let (total, available) = parse_meminfo(&text);
    json!({
        "memTotal": total,
        "memAvailable": available,
        "memUsed": total.saturating_sub(available),
    })
}

/// `MemTotal` and `MemAvailable` of /proc/meminfo, in bytes (0 when absent).
fn parse_meminfo(text: &str) -> (u64, u64) {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    };
    (field("MemTotal"), field("MemAvailable"))
}

/// Hop-by-hop headers a worker may not set on its response.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "upgrade"
            | "te"
            | "trailer"
            | "proxy-connection"
            | "content-length"
    )
}

async fn worker_fetch(
    state: &Rc<ThreadState>,
    worker: Arc<Worker>,
    sub: &str,
    req: Request<Incoming>,
) -> Response<OutBody> {
    let limits = state.shared.limits.clone();
    let active = worker.stats.active.fetch_add(1, Ordering::Relaxed);
    if active >= limits.concurrent_requests as u64 {
        worker.stats.active.fetch_sub(1, Ordering::Relaxed);
        let e = RequestError::Busy(worker.name.clone(), limits.concurrent_requests);
        return error(StatusCode::SERVICE_UNAVAILABLE, e.to_string());
    }
    let slot = ActiveSlot(worker.clone());
    let started = Instant::now();
    let resp = worker_fetch_inner(state, &worker, sub, req, slot).await;
    let micros = started.elapsed().as_micros() as u64;
    match resp {
        Ok(r) => {
            worker.stats.record(true, micros);
            r
        }
        Err((status, e)) => {
            worker.stats.record(false, micros);
            worker.set_error(e.clone());
            error(status, e)
        }
    }
}

/// One of a worker's concurrent-request slots, taken until dropped: at the
/// end of the request, or of its streamed response body.
struct ActiveSlot(Arc<Worker>);

impl Drop for ActiveSlot {
    fn drop(&mut self) {
        self.0.stats.active.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn worker_fetch_inner(
    state: &Rc<ThreadState>,
    worker: &Arc<Worker>,
    sub: &str,
    req: Request<Incoming>,
    slot: ActiveSlot,
) -> Result<Response<OutBody>, (StatusCode, String)> {
    let limits = state.shared.limits.clone();
    let (parts, body) = match read_body(req, limits.request_body_bytes, limits.body_idle_timeout).await {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| url::Host::parse(h.split(':').next().unwrap_or("")).is_ok())
        .unwrap_or("localhost");
    let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let url = format!("http://{host}/{sub}{query}");
    if worker.spec.kind == WorkerKind::Wasi {
        return wasi_fetch(state, worker, sub, url, parts, body).await;
    }
    let body = if parts.method == Method::GET || parts.method == Method::HEAD { None } else { Some(body) };
    // Made again if the request moves to the slow lane before it did
    // anything visible (a replay): cheaper than keeping a copy of each.
    let request = || {
        let mut headers = Vec::with_capacity(parts.headers.len() * 2);
        for (k, v) in parts.headers.iter() {
            headers.push(k.as_str().to_string());
            headers.push(String::from_utf8_lossy(v.as_bytes()).into_owned());
        }
        let method = parts.method.as_str().to_string();
        WorkerRequest { worker: worker.clone(), method, url: url.clone(), headers, body: body.clone() }
    };
    let invoked = tokio::time::Instant::now();
    let answer = match state.pool.on_slow_lane(request()).await {
        Ok(answer) => {
            state.retire_if_idle(&worker.id);
            answer
        }
        Err(here) => match state.run(here).await {
            Err(DispatchError::Request(RequestError::Replay)) => match state.pool.on_slow_lane(request()).await {
                Ok(answer) => answer,
                Err(_) => Err(RequestError::Reset.into()),
            },
            answer => answer,
        },
    };
    let Answer { response: wr, abandon } = answer.map_err(|e| match e {
        DispatchError::Start(StartError::MemoryBudget(e)) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        DispatchError::Start(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("worker failed to start: {e}")),
        DispatchError::Request(e) => (request_error_status(&e), e.to_string()),
    })?;
    let source =
        Source { who: "worker", blame: StatusCode::INTERNAL_SERVER_ERROR, internal: Some(STREAM_TIMEOUT_HEADER) };
    let status = source.status(wr.status)?;
    let budget = stream_budget(&wr.headers, &limits).map_err(|e| {
        (StatusCode::INTERNAL_SERVER_ERROR, format!("worker returned an invalid {STREAM_TIMEOUT_HEADER} header: {e}"))
    })?;
    let body = match wr.body {
        WorkerBody::Full(b) => OutBody::from(b),
        WorkerBody::Stream(rx, gauge, length) => {
            let on_abandon = Box::new(move || abandon.call(budget));
            let stream = StreamOut::new(rx, gauge, invoked + budget, budget, on_abandon, Box::new(slot));
            OutBody::Stream(Box::new(stream.with_length(length)))
        }
    };
    source.response(status, wr.headers, body)
}

/// Who produced a response (a JavaScript worker, a WASI program), for the
/// one place that turns it into the HTTP response: the status code to answer
/// when what it produced is not valid HTTP, and a header of its own that
/// never reaches the client.
struct Source {
    who: &'static str,
    blame: StatusCode,
    internal: Option<&'static str>,
}

impl Source {
    /// The status it answered, if HTTP has it.
    fn status(&self, status: u16) -> Result<StatusCode, (StatusCode, String)> {
        StatusCode::from_u16(status).map_err(|_| (self.blame, format!("{} returned invalid status {status}", self.who)))
    }

    /// The response with `headers`, hop-by-hop ones dropped.
    fn response(
        &self,
        status: StatusCode,
        headers: Vec<(String, String)>,
        body: OutBody,
    ) -> Result<Response<OutBody>, (StatusCode, String)> {
        let who = self.who;
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        for (k, v) in headers {
            let lower = k.to_ascii_lowercase();
            if hop_by_hop(&lower) || self.internal == Some(lower.as_str()) {
                continue;
            }
            let name = HeaderName::from_bytes(lower.as_bytes())
                .map_err(|_| (self.blame, format!("{who} returned invalid header name {k:?}")))?;
            let value = HeaderValue::from_str(&v)
                .map_err(|_| (self.blame, format!("{who} returned invalid value for header {k:?}")))?;
            resp.headers_mut().append(name, value);
        }
        Ok(resp)
    }
}

/// A `wasi` worker's request: one run of its module (see `crate::wasi`).
async fn wasi_fetch(
    state: &Rc<ThreadState>,
    worker: &Arc<Worker>,
    sub: &str,
    url: String,
    parts: http::request::Parts,
    body: Bytes,
) -> Result<Response<OutBody>, (StatusCode, String)> {
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let req = crate::wasi::WasiRequest {
        method: parts.method.as_str().to_string(),
        path: format!("/{sub}"),
        query: parts.uri.query().unwrap_or("").to_string(),
        url,
        headers,
        body,
    };
    let out = crate::wasi::fetch(&state.shared, worker, req).await?;
    let source = Source { who: "the program", blame: StatusCode::BAD_GATEWAY, internal: None };
    let status = source.status(out.status)?;
    source.response(status, out.headers, OutBody::from(Bytes::from(out.body)))
}

/// The status of a request the worker did not answer itself.
fn request_error_status(e: &RequestError) -> StatusCode {
    match e {
        RequestError::Threw(_) => StatusCode::INTERNAL_SERVER_ERROR,
        RequestError::NoHandler(_) => StatusCode::NOT_IMPLEMENTED,
        RequestError::ResponseTooLarge(_) => StatusCode::BAD_GATEWAY,
        RequestError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        RequestError::CpuLimit(_)
        | RequestError::BackgroundCpuLimit(_)
        | RequestError::SlowLane(_)
        | RequestError::Replay
        | RequestError::MemoryLimit(_)
        | RequestError::MemoryBudget(_)
        | RequestError::Reset
        | RequestError::Busy(..) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The whole-response budget of a streamed response: the request timeout,
/// or what the worker asked for in `sworn-stream-timeout`, up to the
/// `--stream-timeout` cap. Counted from when the worker got the request.
fn stream_budget(
    headers: &[(String, String)],
    limits: &crate::limits::Limits,
) -> Result<Duration, sworn_duration::DurationError> {
    match headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(STREAM_TIMEOUT_HEADER)) {
        None => Ok(limits.request_timeout),
        Some((_, v)) => Ok(sworn_duration::parse(v, sworn_duration::Unit::Millis)?.min(limits.stream_timeout)),
    }
}

#[cfg(test)]
mod meminfo_tests {
    #[test]
    fn meminfo_fields_in_bytes() {
        let text = "MemTotal:         491520 kB\nMemFree:  1 kB\nMemAvailable:     400000 kB\n";
        assert_eq!(super::parse_meminfo(text), (491_520 * 1024, 400_000 * 1024));
        assert_eq!(super::parse_meminfo("garbage"), (0, 0));
    }
}

#[cfg(test)]
mod stream_budget_tests {
    use std::time::Duration;

    use super::stream_budget;
    use crate::limits::Limits;

    fn budget(headers: &[(&str, &str)]) -> Result<Duration, sworn_duration::DurationError> {
        let limits = Limits {
            request_timeout: Duration::from_secs(30),
            stream_timeout: Duration::from_secs(300),
            ..Limits::default()
        };
        let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        stream_budget(&headers, &limits)
    }

    #[test]
    fn streams_get_the_request_timeout_unless_the_worker_asks_within_the_cap() {
        assert_eq!(budget(&[]), Ok(Duration::from_secs(30)));
        assert_eq!(budget(&[("Sworn-Stream-Timeout", "2m")]), Ok(Duration::from_secs(120)));
        assert_eq!(budget(&[("sworn-stream-timeout", "1h")]), Ok(Duration::from_secs(300)), "capped");
        assert_eq!(budget(&[("sworn-stream-timeout", "1500")]), Ok(Duration::from_millis(1500)), "bare = ms");
        assert!(budget(&[("sworn-stream-timeout", "forever")]).is_err());
    }
}
