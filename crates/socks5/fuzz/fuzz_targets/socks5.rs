//! Fuzzes both halves of the SOCKS5 codec.
//!
//! Server half, with the invariants host-proxy relies on: no panic, consumed
//! length within the input and within the protocol maxima, prefixes of a
//! complete message are incomplete, and a parse is stable when extra bytes
//! follow. Client half, on the same bytes taken as a server's answer: the
//! same invariants for the method selection and the reply, and the reader
//! guided by `reply_bytes_needed` never reads past the reply. Round trips:
//! every destination the server accepts, the client encodes into a request
//! the server parses to the same value; every error reply the server sends
//! reaches the client as that refusal.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use sworn_socks5::{client, server, Destination, Parsed, MAX_GREETING, MAX_REPLY, MAX_REQUEST, METHOD_SELECTION_LEN};

fuzz_target!(|data: &[u8]| {
    server_half(data);
    client_half(data);
});

fn server_half(data: &[u8]) {
    let rest = match server::parse_greeting(data) {
        Ok(Parsed::Done(_, n)) => {
            assert!(n <= data.len() && n <= MAX_GREETING);
            for cut in 0..n {
                assert!(matches!(server::parse_greeting(&data[..cut]), Ok(Parsed::Incomplete)));
            }
            &data[n..]
        }
        Ok(Parsed::Incomplete) => {
            assert!(data.len() < MAX_GREETING);
            data
        }
        Err(_) => data,
    };
    match server::parse_request(rest) {
        Ok(Parsed::Done(dest, n)) => {
            assert!(n <= rest.len() && n <= MAX_REQUEST);
            assert_eq!(server::parse_request(&rest[..n]), Ok(Parsed::Done(dest.clone(), n)));
            for cut in 0..n {
                match server::parse_request(&rest[..cut]) {
                    Ok(Parsed::Incomplete) => {}
                    other => panic!("prefix {cut} of a valid request gave {other:?}"),
                }
            }
            let _ = dest.to_string();
            // What the server accepted, the client can ask for again, and the
            // server understands it the same way. One known exception: a name
            // that is an IP literal only once its trailing dot is stripped
            // ("127.0.0.1.") stays a name on the first parse but comes back as
            // an address (the connect still checks the resolved address).
            let again = client::encode_request(&dest).expect("an accepted destination encodes");
            let reparsed = server::parse_request(&again);
            match (&dest, &reparsed) {
                (Destination::Domain(name, port), Ok(Parsed::Done(Destination::Addr(a), n)))
                    if name.parse::<IpAddr>() == Ok(a.ip()) && a.port() == *port && *n == again.len() => {}
                _ => assert_eq!(reparsed, Ok(Parsed::Done(dest, again.len()))),
            }
        }
        Ok(Parsed::Incomplete) => assert!(rest.len() < MAX_REQUEST),
        Err(e) => {
            if let Some(reply) = e.reply() {
                let bytes = server::encode_reply(reply);
                assert!(matches!(client::parse_reply(&bytes), Err(sworn_socks5::Error::Refused(r)) if r == reply));
            }
            let _ = e.to_string();
        }
    }
}

fn client_half(data: &[u8]) {
    let rest = match client::parse_method_selection(data) {
        Ok(Parsed::Done((), n)) => {
            assert_eq!(n, METHOD_SELECTION_LEN);
            assert!(matches!(client::parse_method_selection(&data[..1]), Ok(Parsed::Incomplete)));
            &data[n..]
        }
        Ok(Parsed::Incomplete) => {
            assert!(data.len() < METHOD_SELECTION_LEN);
            data
        }
        Err(e) => {
            let _ = e.to_string();
            data
        }
    };
    match client::parse_reply(rest) {
        Ok(Parsed::Done(bound, n)) => {
            assert!(n <= rest.len() && n <= MAX_REPLY);
            assert_eq!(client::parse_reply(&rest[..n]), Ok(Parsed::Done(bound.clone(), n)));
            for cut in 0..n {
                assert!(matches!(client::parse_reply(&rest[..cut]), Ok(Parsed::Incomplete)), "prefix {cut}");
            }
            let _ = bound.to_string();
        }
        Ok(Parsed::Incomplete) => assert!(rest.len() < MAX_REPLY),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    // A reader that reads exactly what it is told to stops at the reply's end.
    let mut have = 0;
    while let Ok(Parsed::Incomplete) = client::parse_reply(&rest[..have]) {
        let want = client::reply_bytes_needed(&rest[..have]);
        assert!(want > have && want <= MAX_REPLY, "at {have}: {want}");
        if want > rest.len() {
            break;
        }
        have = want;
    }
    if let Ok(Parsed::Done(_, n)) = client::parse_reply(&rest[..have]) {
        assert_eq!(n, have);
    }
}
