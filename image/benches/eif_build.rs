//! `eif build` against `sha384sum` over the same bytes and the AWS
//! reference builder (`aws-nitro-enclaves-image-format`'s `EifBuilder`)
//! writing the same image, side by side in one run.
//!
//! Run: `cargo bench -p sworn-image --bench eif_build` (or `make bench-eif`).
//! Inputs: a 2 MiB kernel and 20 MiB of ramdisks (4 MiB bootstrap + 16 MiB
//! application), pseudo-random, written to a temporary directory (page cache).
//! Each tool runs ITERATIONS times, interleaved; the median wall time is shown.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aws_nitro_enclaves_image_format::defs::{EifBuildInfo, EifIdentityInfo};
use aws_nitro_enclaves_image_format::utils::EifBuilder;
use sha2::Digest;

const ITERATIONS: usize = 15;
const KERNEL: usize = 2 << 20;
const RAMDISKS: [usize; 2] = [4 << 20, 16 << 20];
const CMDLINE: &str = "reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on";

fn random_file(path: &Path, len: usize, seed: u64) {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    std::fs::write(path, v).unwrap();
}

fn time(f: &mut dyn FnMut()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    random_file(&d.join("kernel"), KERNEL, 1);
    let rds: Vec<_> = RAMDISKS
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let p = d.join(format!("rd{i}.cpio"));
            random_file(&p, len, 10 + i as u64);
            p
        })
        .collect();
    let eif = env!("CARGO_BIN_EXE_eif");

    let mut sha = || {
        let s = Command::new("sha384sum").arg(d.join("kernel")).args(&rds).output().unwrap();
        assert!(s.status.success());
    };
    let mut ours = || {
        let s = Command::new(eif)
            .args(["build", "--kernel", "kernel", "--cmdline", CMDLINE, "--ramdisk", "rd0.cpio", "--ramdisk", "rd1.cpio", "--output", "ours.eif", "--name", "bench"])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    };
    let mut aws = || {
        let info = EifIdentityInfo {
            img_name: "bench".into(),
            img_version: "1.0".into(),
            build_info: EifBuildInfo {
                build_time: "1970-01-01T00:00:00Z".into(),
                build_tool: "sworn-eif".into(),
                build_tool_version: "0.1.0".into(),
                img_os: "linux".into(),
                img_kernel: "unknown".into(),
            },
            docker_info: serde_json::Value::Null,
            custom_info: serde_json::Value::Null,
        };
        let mut b = EifBuilder::new(&d.join("kernel"), CMDLINE.into(), None, sha2::Sha384::new(), 0, info);
        for r in &rds {
            b.add_ramdisk(r);
        }
        let mut f = std::fs::File::create(d.join("aws.eif")).unwrap();
        b.write_to(&mut f);
    };
    // Warm up (page cache, binaries), then interleave the three.
    sha();
    ours();
    aws();
    let (mut t_sha, mut t_ours, mut t_aws) = (vec![], vec![], vec![]);
    for _ in 0..ITERATIONS {
        t_sha.push(time(&mut sha));
        t_ours.push(time(&mut ours));
        t_aws.push(time(&mut aws));
    }
    let (s, o, a) = (median(t_sha), median(t_ours), median(t_aws));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("eif build: {} MiB kernel + {} MiB ramdisks ({} iterations, median wall time)", KERNEL >> 20, RAMDISKS.iter().sum::<usize>() >> 20, ITERATIONS);
    println!("| tool | median ms | eif build / tool |");
    println!("|---|---:|---:|");
    println!("| `sha384sum` over the same bytes | {:.1} | {:.2}x |", ms(s), ms(o) / ms(s));
    println!("| `eif build` (this crate, process) | {:.1} | 1.00x |", ms(o));
    println!("| AWS `EifBuilder::write_to` (in-process) | {:.1} | {:.2}x |", ms(a), ms(o) / ms(a));
    let same = std::fs::read(d.join("ours.eif")).unwrap() == std::fs::read(d.join("aws.eif")).unwrap();
    println!("identical output bytes (ours vs AWS): {same}");
    println!("goals: eif/sha384sum < 1.2 -> {}, eif/AWS < 0.5 -> {}", ms(o) / ms(s) < 1.2, ms(o) / ms(a) < 0.5);
}
