//! Who may do what on the management API: owned workers, operators, and
//! what plain HTTP may reach. Pure decisions (no I/O, no registry), so every
//! rule is unit-tested here; `server::route` asks them in order and turns a
//! [`Refusal`] into its response.
//!
//! * **Owners.** `POST /workers` issues a credential, `swc_` + 64 lowercase
//!   hex digits (32 bytes from the OS), shown once in the 201 body. The
//!   runner keeps only its SHA-256 (in the registry and the `--state-dir`
//!   journal), so neither a memory dump of the registry nor the journal
//!   gives it back, and compares in constant time. Inspecting, deleting,
//!   reading the logs of and replacing a worker need
//!   `Authorization: Bearer <its credential>`.
//! * **Operators** are peers whose TLS client certificate chains to
//!   `--operator-ca` ([`Peer::is_operator`]): they may do all of that to
//!   any worker, and they alone may touch workers without an owner (made
//!   by Escrin's anonymous `POST /` or by `--worker` at boot). A header can
//!   never make a peer an operator: only the transport can.
//! * **Plain HTTP with TLS enabled** reaches only `/health`, Escrin's
//!   `POST /` and worker calls; a request that carries an `Authorization`
//!   header is refused whatever it asks for, because the host (which
//!   relays every byte of a plain connection) has just read it.
//! * **TLS disabled** (`tls_enabled` false: local development, tests):
//!   credentials are issued and accepted over plain HTTP. There is no TLS
//!   to require, and no operator either, so workers without an owner can
//!   be called but not inspected or deleted through the API.
//! * **`--deploy operator`**: only operators may create workers.
//!
//! Public whatever the peer (over TLS, or anywhere when TLS is off):
//! `GET /workers` (id, name, measurement), `/health`, `/stats`,
//! `/attestation`, and worker calls.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::peer::Peer;

/// Issued credentials start with this, so they are recognisable in a
/// secret scanner and in a support request that should not contain one.
pub const CREDENTIAL_PREFIX: &str = "swc_";
/// Random bytes in a credential (shown as twice as many hex digits).
pub const CREDENTIAL_BYTES: usize = 32;
/// Longest `Authorization` header the runner reads. A credential header is
/// 75 bytes; the limit leaves room for other schemes' tokens in an error
/// message and bounds what a client can make the runner parse.
pub const MAX_AUTHORIZATION_BYTES: usize = 512;
/// The `WWW-Authenticate` challenge of every 401.
pub const CHALLENGE: &str = "Bearer realm=\"sworn\"";

/// `--deploy`: who may create workers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeployPolicy {
    /// Anyone the transport rules let through (as in Escrin).
    #[default]
    Open,
    /// Operators only.
    Operator,
}

/// The runner-wide settings the rules depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// TLS termination is configured: plain connections get only what
    /// [`transport`] lets through.
    pub tls_enabled: bool,
    pub deploy: DeployPolicy,
}

/// A credential, as issued or as presented. Its text is wiped on drop and
/// never shown by `Debug`, so logging a value that holds one cannot leak it.
pub struct Credential(Zeroizing<String>);

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(<redacted>)")
    }
}

impl Credential {
    /// A new credential from the OS random source.
    pub fn generate() -> Result<Credential, getrandom::Error> {
        let mut raw = Zeroizing::new([0u8; CREDENTIAL_BYTES]);
        getrandom::fill(&mut *raw)?;
        let mut hex = Zeroizing::new([0u8; CREDENTIAL_BYTES * 2]);
        // Cannot fail: the output is exactly twice the input.
        // A slice, not `*raw`: a copy of the array would not be wiped.
        let _ = hex::encode_to_slice(raw.as_slice(), &mut *hex);
        let mut text = Zeroizing::new(String::with_capacity(CREDENTIAL_PREFIX.len() + hex.len()));
        text.push_str(CREDENTIAL_PREFIX);
        text.extend(hex.iter().map(|&b| char::from(b)));
        Ok(Credential(text))
    }

    /// A presented token, if it has the shape of a credential. Lower-case
    /// hex only: the runner issues nothing else, and one spelling per
    /// credential keeps the hash of the text a stable identifier.
    pub fn parse(token: &str) -> Option<Credential> {
        let hex = token.strip_prefix(CREDENTIAL_PREFIX)?;
        let shaped = hex.len() == CREDENTIAL_BYTES * 2 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        shaped.then(|| Credential(Zeroizing::new(token.to_string())))
    }

    /// The text, for the one response that hands it out.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the runner stores instead of the credential.
    pub fn hash(&self) -> CredentialHash {
        CredentialHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

/// SHA-256 of a credential's text: what a worker records as its owner.
/// No `PartialEq`: the only comparison is [`CredentialHash::matches`], in
/// constant time.
#[derive(Clone, Copy)]
pub struct CredentialHash([u8; 32]);

impl fmt::Debug for CredentialHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialHash(..)")
    }
}

impl CredentialHash {
    pub fn from_bytes(bytes: [u8; 32]) -> CredentialHash {
        CredentialHash(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `presented` is the credential this is the hash of. Constant
    /// time in the hash bytes, so timing says nothing about how close a
    /// guess came.
    pub fn matches(&self, presented: &Credential) -> bool {
        self.0.ct_eq(&presented.hash().0).into()
    }
}

/// What the transport rule needs to know about a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    /// `/health`: load balancers and the host's supervisor probe it.
    Health,
    /// Escrin's anonymous `POST /`: its clients speak plain HTTP.
    EscrinCreate,
    /// `/workers/{id}/fetch…`: the workers' own traffic.
    WorkerCall,
    /// Everything else: management, stats, attestation.
    Management,
}

/// Why a request is refused. Each message says what rule applied and, where
/// there is one, what to do instead; none quotes a presented credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{route} requires TLS: over plain HTTP this runner serves only /health, POST / and worker calls (/workers/{{id}}/fetch)")]
    RequiresTls { route: String },
    #[error("credentials are accepted only over TLS: this request carried an Authorization header over plain HTTP, which the host can read")]
    CredentialsRequireTls,
    #[error("this runner was started with --deploy operator: only operators (TLS with a client certificate under --operator-ca) may create workers")]
    OperatorsDeployOnly,
    #[error("the Authorization header is {len} bytes, over the limit of {MAX_AUTHORIZATION_BYTES} bytes")]
    AuthorizationTooLarge { len: usize },
    #[error("malformed Authorization header: {reason}")]
    MalformedAuthorization { reason: &'static str },
    #[error("Authorization scheme {scheme} is not supported: send Authorization: Bearer swc_…")]
    UnsupportedScheme { scheme: String },
    #[error("worker {worker:?} has an owner: send its credential as Authorization: Bearer swc_…")]
    MissingCredential { worker: String },
    #[error("this credential does not own worker {worker:?}")]
    WrongCredential { worker: String },
    #[error("worker {worker:?} has no owner (it was created through the anonymous POST / or at boot): only an operator may inspect, replace or delete it")]
    Unowned { worker: String },
    #[error(
        "a worker named {name:?} already exists (to replace it, send its credential as Authorization: Bearer swc_…)"
    )]
    NameTaken { name: String },
}

impl Refusal {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::AuthorizationTooLarge { .. } => 400,
            Refusal::MalformedAuthorization { .. }
            | Refusal::UnsupportedScheme { .. }
            | Refusal::MissingCredential { .. } => 401,
            Refusal::NameTaken { .. } => 409,
            Refusal::RequiresTls { .. }
            | Refusal::CredentialsRequireTls
            | Refusal::OperatorsDeployOnly
            | Refusal::WrongCredential { .. }
            | Refusal::Unowned { .. } => 403,
        }
    }
}

/// The first rule, before anything of the request is read: with TLS
/// enabled, a plain connection reaches only health, Escrin's create and
/// worker calls, and never with an `Authorization` header (which would have
/// crossed the host in the clear). TLS peers, and every peer of a runner
/// without TLS, pass.
pub fn transport(
    policy: &Policy,
    peer: &Peer,
    class: RouteClass,
    has_authorization: bool,
    route: &str,
) -> Result<(), Refusal> {
    if !policy.tls_enabled || peer.is_tls() {
        return Ok(());
    }
    if has_authorization {
        return Err(Refusal::CredentialsRequireTls);
    }
    match class {
        RouteClass::Health | RouteClass::EscrinCreate | RouteClass::WorkerCall => Ok(()),
        RouteClass::Management => Err(Refusal::RequiresTls { route: route.to_string() }),
    }
}

/// Whether `peer` may create workers (`POST /workers` and `POST /`).
pub fn may_create(policy: &Policy, peer: &Peer) -> Result<(), Refusal> {
    match policy.deploy {
        DeployPolicy::Open => Ok(()),
        DeployPolicy::Operator if peer.is_operator() => Ok(()),
        DeployPolicy::Operator => Err(Refusal::OperatorsDeployOnly),
    }
}

/// The credential in a request's `Authorization` header values: `None`
/// without the header; an error for one that is too long, repeated, not
/// `Bearer`, or whose token is not shaped like a credential.
pub fn presented<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Result<Option<Credential>, Refusal> {
    let mut values = values.into_iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if value.len() > MAX_AUTHORIZATION_BYTES {
        return Err(Refusal::AuthorizationTooLarge { len: value.len() });
    }
    if values.next().is_some() {
        return Err(Refusal::MalformedAuthorization { reason: "more than one Authorization header" });
    }
    let Ok(text) = std::str::from_utf8(value) else {
        return Err(Refusal::MalformedAuthorization { reason: "not ASCII text" });
    };
    if !text.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(Refusal::MalformedAuthorization { reason: "not ASCII text" });
    }
    let text = text.trim_matches(' ');
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // The scheme word only, and only when it looks like one: never
        // echo what may be someone's secret.
        let shown = if !scheme.is_empty()
            && scheme.len() <= 20
            && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            format!("{scheme:?}")
        } else {
            "(unrecognised)".to_string()
        };
        return Err(Refusal::UnsupportedScheme { scheme: shown });
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(Refusal::MalformedAuthorization { reason: "Bearer without a credential" });
    }
    Credential::parse(token).map(Some).ok_or(Refusal::MalformedAuthorization {
        reason: "the credential is not swc_ followed by 64 lowercase hex digits",
    })
}

/// Whether `peer`, presenting `presented`, may inspect, delete or read the
/// logs of worker `name` whose owner is `owner`.
pub fn may_manage(
    peer: &Peer,
    name: &str,
    owner: Option<&CredentialHash>,
    presented: Option<&Credential>,
) -> Result<(), Refusal> {
    if peer.is_operator() {
        return Ok(());
    }
    let Some(owner) = owner else {
        return Err(Refusal::Unowned { worker: name.to_string() });
    };
    match presented {
        None => Err(Refusal::MissingCredential { worker: name.to_string() }),
        Some(c) if owner.matches(c) => Ok(()),
        Some(_) => Err(Refusal::WrongCredential { worker: name.to_string() }),
    }
}

/// Whether a `POST /workers` naming the existing worker `name` (owned by
/// `owner`) replaces it. Without a credential it is the name conflict it
/// always was (409); operators replace any worker.
pub fn may_replace(
    peer: &Peer,
    name: &str,
    owner: Option<&CredentialHash>,
    presented: Option<&Credential>,
) -> Result<(), Refusal> {
    if peer.is_operator() {
        return Ok(());
    }
    if presented.is_none() {
        return Err(Refusal::NameTaken { name: name.to_string() });
    }
    may_manage(peer, name, owner, presented)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer::Transport;

    fn plain() -> Peer {
        Peer::plain(None)
    }
    fn tls() -> Peer {
        Peer { transport: Transport::Tls { operator: false }, client_ip: None, tls_key: None }
    }
    fn operator() -> Peer {
        Peer { transport: Transport::Tls { operator: true }, client_ip: None, tls_key: None }
    }
    const TLS_ON: Policy = Policy { tls_enabled: true, deploy: DeployPolicy::Open };
    const TLS_OFF: Policy = Policy { tls_enabled: false, deploy: DeployPolicy::Open };

    fn credential() -> Credential {
        Credential::generate().expect("random source")
    }

    fn header(value: &str) -> Result<Option<Credential>, Refusal> {
        presented([value.as_bytes()])
    }

    #[test]
    fn issued_credentials_are_swc_and_64_lowercase_hex_and_differ() {
        let a = credential();
        let b = credential();
        assert_eq!(a.expose().len(), 4 + 64);
        let hex = a.expose().strip_prefix("swc_").expect("prefix");
        assert!(hex.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)), "{hex}");
        assert_ne!(a.expose(), b.expose());
        assert!(Credential::parse(a.expose()).is_some(), "an issued credential parses");
    }

    #[test]
    fn the_hash_matches_only_its_own_credential() {
        let a = credential();
        let b = credential();
        let owner = a.hash();
        assert!(owner.matches(&a));
        assert!(owner.matches(&Credential::parse(a.expose()).expect("shape")));
        assert!(!owner.matches(&b));
        assert_eq!(owner.as_bytes(), &<[u8; 32]>::from(Sha256::digest(a.expose().as_bytes())));
    }

    #[test]
    fn debug_never_shows_a_credential() {
        let a = credential();
        let shown = format!("{a:?} {:?} {:?}", a.hash(), header(&format!("Bearer {}", a.expose())));
        assert!(!shown.contains(&a.expose()[4..]), "{shown}");
        assert!(!shown.contains(&hex::encode(a.hash().as_bytes())), "{shown}");
    }

    #[test]
    fn a_bearer_header_yields_the_credential_and_no_header_yields_none() {
        let a = credential();
        for form in
            [format!("Bearer {}", a.expose()), format!("bearer  {} ", a.expose()), format!("BEARER {}", a.expose())]
        {
            let got = header(&form).expect("accepted").expect("some");
            assert_eq!(got.expose(), a.expose(), "{form}");
        }
        assert!(presented(std::iter::empty()).expect("no header").is_none());
    }

    #[test]
    fn an_authorization_header_over_512_bytes_is_a_400_naming_the_limit() {
        let long = format!("Bearer {}", "a".repeat(600));
        let e = header(&long).unwrap_err();
        assert_eq!(e, Refusal::AuthorizationTooLarge { len: long.len() });
        assert_eq!(e.status(), 400);
        assert!(e.to_string().contains("limit of 512 bytes"), "{e}");
        let at_limit = format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION_BYTES - 7));
        assert_eq!(header(&at_limit).unwrap_err().status(), 401, "512 bytes is read (and malformed)");
    }

    #[test]
    fn other_schemes_and_malformed_tokens_are_401s_that_do_not_echo_the_token() {
        let a = credential();
        let cases = [
            (format!("Basic {}", a.expose()), "scheme \"Basic\""),
            (a.expose().to_string(), "(unrecognised)"),
            ("Bearer".to_string(), "without a credential"),
            ("Bearer    ".to_string(), "without a credential"),
            ("Bearer swc_123".to_string(), "64 lowercase hex"),
            (format!("Bearer {}", a.expose().to_uppercase()), "64 lowercase hex"),
            (format!("Bearer {}", &a.expose()[4..]), "64 lowercase hex"),
            (format!("Bearer {}x", a.expose()), "64 lowercase hex"),
            (format!("Bearer {} extra", a.expose()), "64 lowercase hex"),
            ("Bearer swc_\u{7f}".to_string(), "not ASCII"),
        ];
        for (value, needle) in cases {
            let e = header(&value).unwrap_err();
            assert_eq!(e.status(), 401, "{value:?}: {e}");
            let message = e.to_string();
            assert!(message.contains(needle), "{value:?}: {message}");
            assert!(!message.contains(&a.expose()[4..]), "{message}");
        }
        let twice = format!("Bearer {}", a.expose());
        let e = presented([twice.as_bytes(), twice.as_bytes()]).unwrap_err();
        assert_eq!(e, Refusal::MalformedAuthorization { reason: "more than one Authorization header" });
        assert_eq!(presented([&b"Bearer \xff"[..]]).unwrap_err().status(), 401);
    }

    #[test]
    fn with_tls_enabled_plain_http_reaches_only_health_escrin_create_and_worker_calls() {
        for class in [RouteClass::Health, RouteClass::EscrinCreate, RouteClass::WorkerCall] {
            assert_eq!(transport(&TLS_ON, &plain(), class, false, "x"), Ok(()), "{class:?}");
        }
        let e = transport(&TLS_ON, &plain(), RouteClass::Management, false, "DELETE /workers/a").unwrap_err();
        assert_eq!(e.status(), 403);
        assert!(e.to_string().starts_with("DELETE /workers/a requires TLS"), "{e}");
    }

    #[test]
    fn with_tls_enabled_plain_http_with_an_authorization_header_is_refused_on_every_route() {
        for class in [RouteClass::Health, RouteClass::EscrinCreate, RouteClass::WorkerCall, RouteClass::Management] {
            let e = transport(&TLS_ON, &plain(), class, true, "x").unwrap_err();
            assert_eq!(e, Refusal::CredentialsRequireTls, "{class:?}");
            assert_eq!(e.status(), 403);
            assert!(e.to_string().contains("accepted only over TLS"), "{e}");
        }
    }

    #[test]
    fn tls_peers_and_runners_without_tls_pass_the_transport_rule() {
        for class in [RouteClass::Health, RouteClass::EscrinCreate, RouteClass::WorkerCall, RouteClass::Management] {
            for auth in [false, true] {
                assert_eq!(transport(&TLS_ON, &tls(), class, auth, "x"), Ok(()));
                assert_eq!(transport(&TLS_ON, &operator(), class, auth, "x"), Ok(()));
                assert_eq!(transport(&TLS_OFF, &plain(), class, auth, "x"), Ok(()), "{class:?} {auth}");
            }
        }
    }

    #[test]
    fn deploy_open_lets_anyone_create_and_deploy_operator_only_operators() {
        let op = Policy { tls_enabled: true, deploy: DeployPolicy::Operator };
        for peer in [plain(), tls(), operator()] {
            assert_eq!(may_create(&TLS_ON, &peer), Ok(()));
            assert_eq!(may_create(&TLS_OFF, &peer), Ok(()));
        }
        assert_eq!(may_create(&op, &operator()), Ok(()));
        for peer in [plain(), tls()] {
            let e = may_create(&op, &peer).unwrap_err();
            assert_eq!(e.status(), 403);
            assert!(e.to_string().contains("--deploy operator"), "{e}");
        }
        let no_tls = Policy { tls_enabled: false, deploy: DeployPolicy::Operator };
        assert_eq!(may_create(&no_tls, &plain()), Err(Refusal::OperatorsDeployOnly));
    }

    #[test]
    fn managing_an_owned_worker_needs_its_credential() {
        let mine = credential();
        let theirs = credential();
        let owner = mine.hash();
        for peer in [plain(), tls()] {
            assert_eq!(may_manage(&peer, "w", Some(&owner), Some(&mine)), Ok(()));
            let e = may_manage(&peer, "w", Some(&owner), None).unwrap_err();
            assert_eq!((e.status(), e.clone()), (401, Refusal::MissingCredential { worker: "w".into() }));
            let e = may_manage(&peer, "w", Some(&owner), Some(&theirs)).unwrap_err();
            assert_eq!((e.status(), e), (403, Refusal::WrongCredential { worker: "w".into() }));
        }
    }

    #[test]
    fn operators_manage_every_worker_with_or_without_credentials() {
        let mine = credential();
        let theirs = credential();
        let owner = mine.hash();
        for presented in [None, Some(&mine), Some(&theirs)] {
            assert_eq!(may_manage(&operator(), "w", Some(&owner), presented), Ok(()));
            assert_eq!(may_manage(&operator(), "w", None, presented), Ok(()));
            assert_eq!(may_replace(&operator(), "w", Some(&owner), presented), Ok(()));
            assert_eq!(may_replace(&operator(), "w", None, presented), Ok(()));
        }
    }

    #[test]
    fn workers_without_an_owner_are_for_operators_only() {
        let any = credential();
        for peer in [plain(), tls()] {
            for presented in [None, Some(&any)] {
                let e = may_manage(&peer, "anon", None, presented).unwrap_err();
                assert_eq!(e.status(), 403);
                assert!(e.to_string().contains("has no owner") && e.to_string().contains("only an operator"), "{e}");
            }
        }
    }

    #[test]
    fn replacing_needs_the_owners_credential_and_without_one_stays_a_409() {
        let mine = credential();
        let theirs = credential();
        let owner = mine.hash();
        for peer in [plain(), tls()] {
            assert_eq!(may_replace(&peer, "w", Some(&owner), Some(&mine)), Ok(()));
            let e = may_replace(&peer, "w", Some(&owner), None).unwrap_err();
            assert_eq!((e.status(), e), (409, Refusal::NameTaken { name: "w".into() }));
            assert_eq!(may_replace(&peer, "w", Some(&owner), Some(&theirs)).unwrap_err().status(), 403);
            assert_eq!(may_replace(&peer, "anon", None, None).unwrap_err().status(), 409);
            let e = may_replace(&peer, "anon", None, Some(&theirs)).unwrap_err();
            assert_eq!((e.status(), e), (403, Refusal::Unowned { worker: "anon".into() }));
        }
    }
}
