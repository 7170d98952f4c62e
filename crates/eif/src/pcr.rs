//! PCR arithmetic of Nitro Enclaves: SHA-384 "extend" from the all-zero
//! register, the EIF's PCR0/1/2/8, and the on-chain `PcrSelector` hash.

pub use sworn_attestation::measurements::{selector_hash, Pcr, DEFAULT_SELECTOR_MASK, PCR_LEN, SELECTOR_MASK_ALLOWED};

use crate::sha384::Sha384;

/// Below this many application bytes, hashing PCR2 on a second thread costs
/// more than it saves.
const PARALLEL_THRESHOLD: usize = 1 << 20;

/// `SHA384(0^48 || digest)`: extends the all-zero register with `digest`.
pub fn extend_digest(digest: &[u8]) -> Pcr {
    let mut h = Sha384::new();
    h.update(&[0u8; PCR_LEN]);
    h.update(digest);
    h.finalize()
}

/// `extend(SHA384(data))`.
pub fn extend(data: &[u8]) -> Pcr {
    extend_digest(&Sha384::digest(data))
}

/// The PCRs an EIF's sections determine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pcrs {
    /// Kernel, cmdline and every ramdisk.
    pub pcr0: Pcr,
    /// Kernel, cmdline and the first ramdisk.
    pub pcr1: Pcr,
    /// Ramdisks after the first.
    pub pcr2: Pcr,
    /// DER of the signing certificate, for signed images.
    pub pcr8: Option<Pcr>,
}

impl Pcrs {
    /// Computes PCR0/1/2 (and PCR8 when `cert_der` is given).
    ///
    /// PCR0 and PCR1 share their prefix, so it is hashed once and the hasher
    /// state cloned. PCR2 covers bytes PCR0 also covers but needs its own
    /// SHA-384 pass: where the CPU can, both passes run side by side in the
    /// vector unit ([`one_pass`]); elsewhere PCR2, when large, is hashed on a
    /// second thread.
    pub fn compute(kernel: &[u8], cmdline: &[u8], ramdisks: &[&[u8]], cert_der: Option<&[u8]>) -> Self {
        let app_len: usize = ramdisks.iter().skip(1).map(|r| r.len()).sum();
        let (pcr0, pcr1, pcr2) = if crate::sha384::pair_is_fast() {
            one_pass(kernel, cmdline, ramdisks)
        } else if app_len >= PARALLEL_THRESHOLD {
            std::thread::scope(|s| {
                let app_thread = s.spawn(|| app_pcr(ramdisks));
                let (pcr0, pcr1) = image_pcrs(kernel, cmdline, ramdisks);
                let pcr2 = app_thread.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                (pcr0, pcr1, pcr2)
            })
        } else {
            let (pcr0, pcr1) = image_pcrs(kernel, cmdline, ramdisks);
            (pcr0, pcr1, app_pcr(ramdisks))
        };
        Pcrs { pcr0, pcr1, pcr2, pcr8: cert_der.map(extend) }
    }
}

/// (PCR0, PCR1, PCR2) in one pass on this thread, the PCR0 and PCR2 streams
/// side by side ([`crate::sha384::digest_pair`]); the fastest way when
/// [`crate::sha384::pair_is_fast`], and correct (but slower) everywhere.
pub fn one_pass(kernel: &[u8], cmdline: &[u8], ramdisks: &[&[u8]]) -> (Pcr, Pcr, Pcr) {
    let mut image: Vec<&[u8]> = vec![kernel, cmdline];
    image.extend_from_slice(ramdisks);
    let bootstrap = kernel.len() + cmdline.len() + ramdisks.first().map_or(0, |r| r.len());
    let app = ramdisks.get(1..).unwrap_or(&[]);
    let (d0, d1, d2) = crate::sha384::digest_pair(&image, bootstrap, app);
    (extend_digest(&d0), extend_digest(&d1), extend_digest(&d2))
}

/// (PCR0, PCR1): one SHA-384 pass over kernel‖cmdline‖ramdisks, the hasher
/// state cloned at the end of the first ramdisk.
pub fn image_pcrs(kernel: &[u8], cmdline: &[u8], ramdisks: &[&[u8]]) -> (Pcr, Pcr) {
    let mut h = Sha384::new();
    h.update(kernel);
    h.update(cmdline);
    if let Some(first) = ramdisks.first() {
        h.update(first);
    }
    let pcr1 = extend_digest(&h.clone().finalize());
    for r in ramdisks.iter().skip(1) {
        h.update(r);
    }
    (extend_digest(&h.finalize()), pcr1)
}

/// PCR2: SHA-384 over the ramdisks after the first.
pub fn app_pcr(ramdisks: &[&[u8]]) -> Pcr {
    let mut h = Sha384::new();
    for r in ramdisks.iter().skip(1) {
        h.update(r);
    }
    extend_digest(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known answers computed independently with Python (hashlib, pycryptodome):
    // extend(d) = sha384(b"\0"*48 + sha384(d).digest()).
    const PCR0: &str =
        "a278d4f06db82f2cdd91d0117ce5cad04453ce7ccbc85f5f33283f9129e0988bde538a7bfd7db815ab396f0ee6651253";
    const PCR1: &str =
        "97c63462ddb99f3aeaeb5fabd26d482972ee8f35a84afe29e9b17cffd1cc8d6ef6563ed0be12618f473df853cfd7495a";
    const PCR2: &str =
        "abb106cc8bb0687829c044b7632808c83d34a94fd0ccaf92217e16bea998687050e9a7a529c1b9af68040b2a3fa70025";
    const PCR8_OF_CERT: &str =
        "2b6d4fea70a5df3c7aa74fbff980746942c060062dadf5744e07210d9455a7e0739d62d4b314ff5a10611ef95a70ad77";

    #[test]
    fn extend_known_answers() {
        assert_eq!(
            hex::encode(extend(b"")),
            "21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a"
        );
        assert_eq!(
            hex::encode(extend(b"abc")),
            "93732e3733514a841c982cfa75ea76ab55fe011acb9cd980ef4523913c65be1b0998e04d77f8c174f81a82151619ca40"
        );
    }

    fn three_ramdisk_pcrs() -> Pcrs {
        Pcrs::compute(
            b"kernel-bytes",
            b"console=ttyS0",
            &[b"ramdisk-zero", b"ramdisk-one", b"ramdisk-two"],
            Some(b"cert"),
        )
    }

    #[test]
    fn image_pcrs_known_answers() {
        let p = three_ramdisk_pcrs();
        assert_eq!(hex::encode(p.pcr0), PCR0);
        assert_eq!(hex::encode(p.pcr1), PCR1);
        assert_eq!(hex::encode(p.pcr2), PCR2);
        assert_eq!(p.pcr8.map(hex::encode).as_deref(), Some(PCR8_OF_CERT));
    }

    #[test]
    fn parallel_and_serial_paths_agree() {
        let kernel = vec![7u8; 1000];
        let big = vec![9u8; PARALLEL_THRESHOLD + 5];
        let p = Pcrs::compute(&kernel, b"c", &[b"r0", &big], None);
        let mut all = kernel.clone();
        all.extend_from_slice(b"cr0");
        all.extend_from_slice(&big);
        assert_eq!(p.pcr0, extend(&all));
        assert_eq!(p.pcr1, extend(&[&kernel[..], b"cr0"].concat()));
        assert_eq!(p.pcr2, extend(&big));
        assert_eq!(p.pcr8, None);
    }

    #[test]
    fn one_pass_agrees_with_the_two_passes() {
        let kernel = vec![7u8; 1000];
        let big = vec![9u8; 3 << 16];
        for ramdisks in [vec![&b"r0"[..]], vec![b"r0", &big], vec![&big[..5], b"", &big[7..]]] {
            let (pcr0, pcr1) = image_pcrs(&kernel, b"cmd", &ramdisks);
            assert_eq!(one_pass(&kernel, b"cmd", &ramdisks), (pcr0, pcr1, app_pcr(&ramdisks)));
        }
    }

    #[test]
    fn one_ramdisk_pcr2_is_extend_of_nothing() {
        let p = Pcrs::compute(b"k", b"c", &[b"r"], None);
        assert_eq!(p.pcr2, extend(b""));
    }

    #[test]
    fn selector_known_answers() {
        let p = three_ramdisk_pcrs();
        let get = |i: u8| match i {
            0 => Some(p.pcr0),
            1 => Some(p.pcr1),
            2 => Some(p.pcr2),
            8 => p.pcr8,
            _ => None,
        };
        assert_eq!(
            hex::encode(selector_hash(DEFAULT_SELECTOR_MASK, get).unwrap()),
            "55c66f7b8907960524eacf102776f6fd43a7d4be9244034fdba57a472c2ec81d"
        );
        assert_eq!(
            hex::encode(selector_hash(0x0107, get).unwrap()),
            "ed372efd8fe32e5f6ce6e3ce69d3b969a2be2f3d541cd837fcc925a8cdb40731"
        );
        // Bits outside 0x011f are ignored; a selected but unknown PCR is reported.
        assert_eq!(selector_hash(0x8007, get), selector_hash(0x0007, get));
        assert_eq!(selector_hash(0x0008, get), Err(3));
    }
}
