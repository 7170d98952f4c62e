//! Everything `eif describe`, `verify` and `extract --list` do with an
//! untrusted file: parse, CRC, metadata JSON, PCRs, signature section
//! (CBOR, PEM, X.509, COSE, ES384) and the cpio ramdisks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sworn_eif::{container, cpio, inspect};

fuzz_target!(|data: &[u8]| {
    let _ = inspect::describe(data, 1_700_000_000);
    if let Ok(image) = container::Eif::parse(data) {
        for r in image.ramdisks() {
            let _ = cpio::parse(r);
        }
        if let Some(sig) = image.signature() {
            let _ = sworn_eif::sign::decode_section(sig);
        }
    }
});
