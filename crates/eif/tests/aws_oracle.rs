//! Cross-checks with the reference implementation (aws-nitro-enclaves-image-format):
//! its reader accepts our images and our reader accepts its images, with
//! the same measurements, for 1-3 ramdisks, signed and unsigned.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_nitro_enclaves_image_format::defs::{EifBuildInfo, EifIdentityInfo};
use aws_nitro_enclaves_image_format::utils::eif_reader::EifReader;
use aws_nitro_enclaves_image_format::utils::{EifBuilder, PcrSignatureChecker, SignKeyData};
use sha2::Digest;
use sworn_eif::builder::{self, BuildConfig};
use sworn_eif::inspect;
use sworn_eif::sign::Signer;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn signer() -> Signer {
    let cert = std::fs::read(data("signing-cert.pem")).unwrap();
    let key = std::fs::read_to_string(data("signing-key.pem")).unwrap();
    Signer::from_pem(cert, &key).unwrap()
}

/// Writes a kernel and `n` ramdisk files with distinct pseudo-random contents.
fn inputs(dir: &Path, n: usize) -> (PathBuf, Vec<PathBuf>) {
    let mut x: u32 = 0x1234_5678;
    let mut bytes = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    };
    let kernel = dir.join("kernel");
    std::fs::write(&kernel, bytes(70_001)).unwrap();
    let ramdisks = (0..n)
        .map(|i| {
            let p = dir.join(format!("rd{i}.cpio"));
            std::fs::write(&p, bytes(10_000 + 3_333 * i)).unwrap();
            p
        })
        .collect();
    (kernel, ramdisks)
}

/// PCRs only: the reference's `HashAlgorithm` is the `Debug` text of its
/// sha2 hasher, which changed across sha2 releases ("Sha384 { ... }" in the
/// nitro-cli releases users see, "Sha512_48 { .. }" with sha2 0.10.9).
fn pcrs_only(mut m: BTreeMap<String, String>) -> BTreeMap<String, String> {
    m.remove("HashAlgorithm");
    m
}

fn ours_as_map(d: &inspect::Description) -> BTreeMap<String, String> {
    let m = &d.measurements.measurements;
    let mut out = BTreeMap::from([
        ("PCR0".to_owned(), m.pcr0.clone()),
        ("PCR1".to_owned(), m.pcr1.clone()),
        ("PCR2".to_owned(), m.pcr2.clone()),
    ]);
    if let Some(p8) = &m.pcr8 {
        out.insert("PCR8".to_owned(), p8.clone());
    }
    out
}

const CMDLINE: &str = "reboot=k panic=30 pci=off nomodules console=ttyS0";

#[test]
fn aws_reader_accepts_our_images() {
    for signed in [false, true] {
        for n in 1..=3 {
            let dir = tempfile::tempdir().unwrap();
            let (kernel, ramdisks) = inputs(dir.path(), n);
            let out = dir.path().join("ours.eif");
            let cfg = BuildConfig {
                kernel,
                cmdline: CMDLINE.as_bytes().to_vec(),
                ramdisks,
                image_name: "test".into(),
                image_version: "1.0".into(),
                epoch: 0,
                ramdisk_compression: sworn_eif::ramdisk::Compression::None,
                signer: signed.then(signer),
            };
            let built = builder::build(&cfg, &out).unwrap();
            let mut reader = EifReader::from_eif(out.to_string_lossy().into_owned()).unwrap();
            assert!(reader.check_crc(), "AWS reader: CRC mismatch (n={n}, signed={signed})");
            let theirs = reader.get_measurements().unwrap();
            let bytes = std::fs::read(&out).unwrap();
            let ours = inspect::describe(&bytes, 1_800_000_000).unwrap();
            assert_eq!(pcrs_only(theirs.clone()), ours_as_map(&ours), "n={n} signed={signed}");
            assert_eq!(hex::encode(built.pcrs.pcr0), theirs["PCR0"]);
            assert_eq!(reader.get_metadata().unwrap().img_name, "test");
            if signed {
                let mut checker = PcrSignatureChecker::from_eif(&out.to_string_lossy()).unwrap();
                checker.verify().expect("AWS checker rejects our signature");
                let info = reader.get_certificate_info(theirs.clone()).unwrap();
                assert!(info.algorithm.contains("ecdsa"), "{}", info.algorithm);
            }
        }
    }
}

#[test]
fn our_reader_accepts_aws_images() {
    for signed in [false, true] {
        for n in 1..=3 {
            let dir = tempfile::tempdir().unwrap();
            let (kernel, ramdisks) = inputs(dir.path(), n);
            let sign_info = signed.then(|| {
                SignKeyData::new(&data("signing-key.pem").to_string_lossy(), &data("signing-cert.pem")).unwrap()
            });
            let info = EifIdentityInfo {
                img_name: "aws".into(),
                img_version: "1.0".into(),
                build_info: EifBuildInfo {
                    build_time: "now".into(),
                    build_tool: "test".into(),
                    build_tool_version: "0".into(),
                    img_os: "linux".into(),
                    img_kernel: "6.12".into(),
                },
                docker_info: serde_json::json!({}),
                custom_info: serde_json::Value::Null,
            };
            let mut b = EifBuilder::new(&kernel, CMDLINE.into(), sign_info, sha2::Sha384::new(), 0, info);
            for r in &ramdisks {
                b.add_ramdisk(r);
            }
            let out = dir.path().join("aws.eif");
            let mut f = std::fs::File::create(&out).unwrap();
            let theirs = b.write_to(&mut f);
            drop(f);
            let bytes = std::fs::read(&out).unwrap();
            let ours = inspect::describe(&bytes, 1_800_000_000).unwrap();
            assert!(ours.header.crc_ok, "n={n} signed={signed}");
            assert_eq!(ours_as_map(&ours), pcrs_only(theirs), "n={n} signed={signed}");
            if signed {
                let s = ours.signature.as_ref().unwrap();
                assert!(s.signature_valid && s.payload_matches_pcr0, "{s:?}");
                assert!(s.certificate_subject.contains("sworn-eif-test-signer"));
            } else {
                assert!(ours.signature.is_none());
            }
        }
    }
}

#[test]
fn same_inputs_same_bytes_as_aws_for_sections() {
    // With identical metadata bytes, our unsigned layout equals the AWS
    // builder's byte for byte.
    let dir = tempfile::tempdir().unwrap();
    let (kernel, ramdisks) = inputs(dir.path(), 2);
    let info = EifIdentityInfo {
        img_name: "same".into(),
        img_version: "1.0".into(),
        build_info: EifBuildInfo {
            build_time: "1970-01-01T00:00:00Z".into(),
            build_tool: "sworn-eif".into(),
            build_tool_version: env!("CARGO_PKG_VERSION").into(),
            img_os: "linux".into(),
            img_kernel: "unknown".into(),
        },
        docker_info: serde_json::Value::Null,
        custom_info: serde_json::Value::Null,
    };
    let mut b = EifBuilder::new(&kernel, CMDLINE.into(), None, sha2::Sha384::new(), 0, info);
    for r in &ramdisks {
        b.add_ramdisk(r);
    }
    let aws = dir.path().join("aws.eif");
    let mut f = std::fs::File::create(&aws).unwrap();
    b.write_to(&mut f);
    drop(f);
    let ours = dir.path().join("ours.eif");
    let cfg = BuildConfig {
        kernel,
        cmdline: CMDLINE.as_bytes().to_vec(),
        ramdisks,
        image_name: "same".into(),
        image_version: "1.0".into(),
        epoch: 0,
        ramdisk_compression: sworn_eif::ramdisk::Compression::None,
        signer: None,
    };
    builder::build(&cfg, &ours).unwrap();
    assert_eq!(std::fs::read(&aws).unwrap(), std::fs::read(&ours).unwrap());
}
