//! SOCKS5 wire format (RFC 1928), sans-IO so it can be fuzzed: the one
//! codec of the project, with a [`server`] half (what host-proxy parses and
//! answers) and a [`client`] half (what egress sends and parses).
//!
//! Only what the enclave needs: the no-authentication method and the
//! CONNECT command, with IPv4, IPv6 and domain-name destinations. Both
//! halves share the address type ([`Destination`]), the reply codes
//! ([`Reply`]) and the error enum ([`Error`]). Parsers take the bytes
//! received so far and answer [`Parsed::Incomplete`] until a whole message
//! is there; they never read past it, so bytes that follow (optimistic
//! data) stay with the caller.

#![forbid(unsafe_code)]

pub mod client;
pub mod server;

use std::net::SocketAddr;

pub const VERSION: u8 = 5;
pub const METHOD_NO_AUTH: u8 = 0x00;
pub const METHOD_NONE_ACCEPTABLE: u8 = 0xFF;
/// CMD of a CONNECT request, the only command supported.
pub const CMD_CONNECT: u8 = 0x01;
/// ATYP values (RFC 1928 section 5).
pub const ATYP_IPV4: u8 = 0x01;
pub const ATYP_DOMAIN: u8 = 0x03;
pub const ATYP_IPV6: u8 = 0x04;

/// Longest domain name an address can carry (its length is one byte).
pub const MAX_DOMAIN: usize = 255;
/// Longest greeting: VER NMETHODS METHODS[255].
pub const MAX_GREETING: usize = 2 + 255;
/// Longest request: VER CMD RSV ATYP LEN NAME[255] PORT[2].
pub const MAX_REQUEST: usize = 4 + 1 + MAX_DOMAIN + 2;
/// Length of the method selection: VER METHOD.
pub const METHOD_SELECTION_LEN: usize = 2;
/// Longest reply: VER REP RSV ATYP LEN NAME[255] PORT[2].
pub const MAX_REPLY: usize = 4 + 1 + MAX_DOMAIN + 2;

/// A malformed or unsupported message, from either side; each message names
/// the RFC 1928 field at fault. [`Error::reply`] gives the SOCKS reply a
/// server sends for it, where the protocol has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("VER is {0}: unsupported SOCKS version (only 5)")]
    Version(u8),
    #[error("NMETHODS is 0: the greeting lists no authentication methods")]
    NoMethods,
    #[error("RSV is {0:#04x}, must be 0")]
    Reserved(u8),
    #[error("CMD is {0:#04x}: unsupported command (only CONNECT)")]
    Command(u8),
    #[error("ATYP is {0:#04x}: unsupported address type")]
    AddressType(u8),
    #[error("ADDR is an empty domain name")]
    EmptyDomain,
    #[error("ADDR is not a valid host name: {0:?}")]
    BadDomain(String),
    #[error("ADDR is a domain name of {0} bytes; at most 255 fit")]
    DomainTooLong(usize),
    #[error("METHOD is 0xff: the server accepts none of the offered authentication methods")]
    NoAcceptableMethod,
    #[error("METHOD is {0:#04x}: the server chose a method the client did not offer")]
    UnofferedMethod(u8),
    #[error("REP is {0}")]
    Refused(Reply),
}

impl Error {
    /// The reply code a server sends for this error, if the request got that far.
    pub fn reply(&self) -> Option<Reply> {
        match self {
            Error::Command(_) => Some(Reply::CommandNotSupported),
            Error::AddressType(_) => Some(Reply::AddressTypeNotSupported),
            Error::EmptyDomain | Error::BadDomain(_) | Error::Reserved(_) | Error::DomainTooLong(_) => {
                Some(Reply::GeneralFailure)
            }
            Error::Version(_)
            | Error::NoMethods
            | Error::NoAcceptableMethod
            | Error::UnofferedMethod(_)
            | Error::Refused(_) => None,
        }
    }
}

/// What a parse of a prefix of the input gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// More bytes are needed.
    Incomplete,
    /// A complete message of `len` bytes.
    Done(T, usize),
}

/// Where the client wants to go (DST.ADDR and DST.PORT), or where the
/// server says it is bound (BND.ADDR and BND.PORT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Addr(SocketAddr),
    /// A host name. The server half gives it validated, lower-cased and
    /// without trailing dot; the client half sends it as given (1..=255 bytes).
    Domain(String, u16),
}

impl Destination {
    pub fn port(&self) -> u16 {
        match self {
            Destination::Addr(a) => a.port(),
            Destination::Domain(_, p) => *p,
        }
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Addr(a) => write!(f, "{a}"),
            Destination::Domain(d, p) => write!(f, "{d}:{p}"),
        }
    }
}

/// Reply codes (REP, RFC 1928 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Succeeded,
    GeneralFailure,
    NotAllowedByRuleset,
    NetworkUnreachable,
    HostUnreachable,
    ConnectionRefused,
    TtlExpired,
    CommandNotSupported,
    AddressTypeNotSupported,
    /// A code RFC 1928 does not assign (0x09..=0xFF), as a client may receive it.
    Unassigned(u8),
}

impl Reply {
    pub const fn from_byte(b: u8) -> Reply {
        match b {
            0x00 => Reply::Succeeded,
            0x01 => Reply::GeneralFailure,
            0x02 => Reply::NotAllowedByRuleset,
            0x03 => Reply::NetworkUnreachable,
            0x04 => Reply::HostUnreachable,
            0x05 => Reply::ConnectionRefused,
            0x06 => Reply::TtlExpired,
            0x07 => Reply::CommandNotSupported,
            0x08 => Reply::AddressTypeNotSupported,
            other => Reply::Unassigned(other),
        }
    }

    pub const fn as_byte(self) -> u8 {
        match self {
            Reply::Succeeded => 0x00,
            Reply::GeneralFailure => 0x01,
            Reply::NotAllowedByRuleset => 0x02,
            Reply::NetworkUnreachable => 0x03,
            Reply::HostUnreachable => 0x04,
            Reply::ConnectionRefused => 0x05,
            Reply::TtlExpired => 0x06,
            Reply::CommandNotSupported => 0x07,
            Reply::AddressTypeNotSupported => 0x08,
            Reply::Unassigned(b) => b,
        }
    }

    /// RFC 1928's wording.
    pub const fn description(self) -> &'static str {
        match self {
            Reply::Succeeded => "succeeded",
            Reply::GeneralFailure => "general SOCKS server failure",
            Reply::NotAllowedByRuleset => "connection not allowed by the proxy's ruleset",
            Reply::NetworkUnreachable => "network unreachable",
            Reply::HostUnreachable => "host unreachable",
            Reply::ConnectionRefused => "connection refused",
            Reply::TtlExpired => "TTL expired",
            Reply::CommandNotSupported => "command not supported",
            Reply::AddressTypeNotSupported => "address type not supported",
            Reply::Unassigned(_) => "unassigned reply code",
        }
    }

    /// The reply for a failed outbound connect.
    pub fn for_io_error(e: &std::io::Error) -> Reply {
        use std::io::ErrorKind::*;
        match e.kind() {
            ConnectionRefused => Reply::ConnectionRefused,
            NetworkUnreachable => Reply::NetworkUnreachable,
            HostUnreachable | TimedOut => Reply::HostUnreachable,
            _ => Reply::GeneralFailure,
        }
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (0x{:02x})", self.description(), self.as_byte())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_bytes_round_trip_for_every_code() {
        for b in 0..=u8::MAX {
            assert_eq!(Reply::from_byte(b).as_byte(), b);
        }
        assert_eq!(Reply::from_byte(0x09), Reply::Unassigned(0x09));
        assert_eq!(Reply::from_byte(0x02), Reply::NotAllowedByRuleset);
    }

    #[test]
    fn reply_display_names_the_code() {
        assert_eq!(Reply::NotAllowedByRuleset.to_string(), "connection not allowed by the proxy's ruleset (0x02)");
        assert_eq!(Reply::Unassigned(0x42).to_string(), "unassigned reply code (0x42)");
    }

    #[test]
    fn destination_display_brackets_ipv6() {
        assert_eq!(Destination::Addr("[::1]:443".parse().unwrap()).to_string(), "[::1]:443");
        assert_eq!(Destination::Domain("a.b".into(), 443).to_string(), "a.b:443");
    }

    #[test]
    fn every_error_names_its_field() {
        let errors = [
            Error::Version(4),
            Error::NoMethods,
            Error::Reserved(1),
            Error::Command(2),
            Error::AddressType(9),
            Error::EmptyDomain,
            Error::BadDomain("a b".into()),
            Error::DomainTooLong(256),
            Error::NoAcceptableMethod,
            Error::UnofferedMethod(2),
            Error::Refused(Reply::HostUnreachable),
        ];
        for e in errors {
            let s = e.to_string();
            let field = ["VER", "NMETHODS", "RSV", "CMD", "ATYP", "ADDR", "METHOD", "REP"];
            assert!(field.iter().any(|f| s.starts_with(f)), "{s}");
        }
    }
}
