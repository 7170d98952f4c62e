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

/// CPU time (user + system) of this process and its waited-for children,
/// from /proc/self/stat, in clock ticks (10 ms).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the ")" that ends the command name: utime is field 14.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    rest.split_whitespace().skip(11).take(4).filter_map(|f| f.parse::<u64>().ok()).sum()
}

fn time(f: &mut dyn FnMut(), cpu: &mut u64) -> Duration {
    let c = cpu_ticks();
    let t = Instant::now();
    f();
    let e = t.elapsed();
    *cpu += cpu_ticks() - c;
    e
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
    let (mut c_sha, mut c_ours, mut c_aws) = (0u64, 0u64, 0u64);
    for _ in 0..ITERATIONS {
        t_sha.push(time(&mut sha, &mut c_sha));
        t_ours.push(time(&mut ours, &mut c_ours));
        t_aws.push(time(&mut aws, &mut c_aws));
    }
    let (s, o, a) = (median(t_sha), median(t_ours), median(t_aws));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    // Ticks are 10 ms; mean CPU ms per run.
    let cpu = |t: u64| t as f64 * 10.0 / ITERATIONS as f64;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "eif build: {} MiB kernel + {} MiB ramdisks ({} iterations, median wall time, mean CPU time; {} cores, loadavg {})",
        KERNEL >> 20,
        RAMDISKS.iter().sum::<usize>() >> 20,
        ITERATIONS,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!("| tool | wall ms | eif build / tool (wall) | CPU ms | eif build / tool (CPU) |");
    println!("|---|---:|---:|---:|---:|");
    println!("| `sha384sum` over the same bytes | {:.1} | {:.2}x | {:.0} | {:.2}x |", ms(s), ms(o) / ms(s), cpu(c_sha), cpu(c_ours) / cpu(c_sha).max(1.0));
    println!("| `eif build` (this crate, process) | {:.1} | 1.00x | {:.0} | 1.00x |", ms(o), cpu(c_ours));
    println!("| AWS `EifBuilder::write_to` (in-process) | {:.1} | {:.2}x | {:.0} | {:.2}x |", ms(a), ms(o) / ms(a), cpu(c_aws), cpu(c_ours) / cpu(c_aws).max(1.0));
    let same = std::fs::read(d.join("ours.eif")).unwrap() == std::fs::read(d.join("aws.eif")).unwrap();
    println!("identical output bytes (ours vs AWS): {same}");
    println!("goals: eif/sha384sum < 1.2 -> {}, eif/AWS < 0.5 -> {}", ms(o) / ms(s) < 1.2, ms(o) / ms(a) < 0.5);
}
