//! Fuzzes the SOCKS5 greeting and request parsers with the invariants the
//! server relies on: no panic, consumed length within the input and within
//! the protocol maxima, prefixes of a complete message are incomplete, and
//! a parse is stable when extra bytes follow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sworn_socks5::{parse_greeting, parse_request, Parsed, MAX_GREETING, MAX_REQUEST};

fuzz_target!(|data: &[u8]| {
    let rest = match parse_greeting(data) {
        Ok(Parsed::Done(_, n)) => {
            assert!(n <= data.len() && n <= MAX_GREETING);
            for cut in 0..n {
                assert!(matches!(parse_greeting(&data[..cut]), Ok(Parsed::Incomplete)));
            }
            &data[n..]
        }
        Ok(Parsed::Incomplete) => {
            assert!(data.len() < MAX_GREETING);
            data
        }
        Err(_) => data,
    };
    match parse_request(rest) {
        Ok(Parsed::Done(dest, n)) => {
            assert!(n <= rest.len() && n <= MAX_REQUEST);
            assert_eq!(parse_request(&rest[..n]), Ok(Parsed::Done(dest.clone(), n)));
            for cut in 0..n {
                match parse_request(&rest[..cut]) {
                    Ok(Parsed::Incomplete) => {}
                    other => panic!("prefix {cut} of a valid request gave {other:?}"),
                }
            }
            let _ = dest.to_string();
        }
        Ok(Parsed::Incomplete) => assert!(rest.len() < MAX_REQUEST),
        Err(e) => {
            let _ = e.reply();
            let _ = e.to_string();
        }
    }
});
