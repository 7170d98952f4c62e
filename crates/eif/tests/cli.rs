//! The `eif` command line as users (and `make eif`) call it.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn eif(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eif")).args(args).current_dir(cwd).output().unwrap()
}

fn eif_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_eif"));
    c.args(args).current_dir(cwd);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// A kernel, a bootstrap tree and an application tree under `root`.
fn inputs(root: &Path) {
    fs::create_dir_all(root.join("boot/dev")).unwrap();
    fs::create_dir_all(root.join("app/rootfs/etc")).unwrap();
    fs::write(root.join("kernel"), vec![0x5a; 50_000]).unwrap();
    fs::write(root.join("boot/init"), b"\x7fELF fake init").unwrap();
    fs::set_permissions(root.join("boot/init"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(root.join("app/rootfs/etc/hosts"), b"127.0.0.1 localhost\n").unwrap();
    fs::set_permissions(root.join("app/rootfs/etc/hosts"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(root.join("app/rootfs/etc"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(root.join("app/rootfs"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(root.join("boot/dev"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(root.join("app/cmd"), b"/bin/runner\n").unwrap();
    fs::set_permissions(root.join("app/cmd"), fs::Permissions::from_mode(0o644)).unwrap();
    symlink("rootfs/etc/hosts", root.join("app/hosts-link")).unwrap();
}

fn build(root: &Path, out: &str, env: &[(&str, &str)]) -> Output {
    let o = eif_env(
        &[
            "build",
            "--kernel",
            "kernel",
            "--cmdline",
            "console=ttyS0",
            "--ramdisk",
            "boot",
            "--ramdisk",
            "app",
            "--output",
            out,
            "--name",
            "sworn",
        ],
        root,
        env,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

#[test]
fn build_is_reproducible_across_paths_mtimes_and_umask() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    inputs(a.path());
    // Second tree: different directory, created later, different file mtimes.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    inputs(b.path());
    let stdout = build(a.path(), "x.eif", &[]).stdout;
    // cmdline from a file with a trailing newline; output in a subdirectory.
    fs::write(b.path().join("cmdline.txt"), b"console=ttyS0\n").unwrap();
    fs::create_dir(b.path().join("out")).unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 077 && touch -d 2001-01-01 kernel boot/init && exec {} build --kernel kernel --cmdline-file cmdline.txt --ramdisk boot --ramdisk app --output out/x.eif --name sworn",
            env!("CARGO_BIN_EXE_eif")
        ))
        .current_dir(b.path())
        .env("TZ", "Asia/Tokyo")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let x = fs::read(a.path().join("x.eif")).unwrap();
    let y = fs::read(b.path().join("out/x.eif")).unwrap();
    assert_eq!(x, y, "same inputs gave different bytes");
    assert_eq!(stdout, o.stdout, "measurements differ");
    // The json next to the image is what stdout printed.
    assert_eq!(fs::read(a.path().join("x.eif.json")).unwrap(), stdout);
    // SOURCE_DATE_EPOCH is an input: cpio mtimes (measured) and BuildTime.
    build(a.path(), "later.eif", &[("SOURCE_DATE_EPOCH", "1700000000")]);
    let later = fs::read(a.path().join("later.eif")).unwrap();
    assert_ne!(later, x);
    let bad = eif_env(
        &["build", "--kernel", "kernel", "--cmdline", "c", "--ramdisk", "boot", "--output", "z.eif"],
        a.path(),
        &[("SOURCE_DATE_EPOCH", "yesterday")],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("SOURCE_DATE_EPOCH"));
}

#[test]
fn cpio_file_and_directory_ramdisks_are_equivalent() {
    let d = tempfile::tempdir().unwrap();
    inputs(d.path());
    build(d.path(), "dir.eif", &[]);
    let ex = eif(&["extract", "dir.eif", "--dir", "ex"], d.path());
    assert!(ex.status.success());
    let o = eif(
        &[
            "build",
            "--kernel",
            "ex/kernel",
            "--cmdline-file",
            "ex/cmdline",
            "--ramdisk",
            "ex/ramdisk0.cpio",
            "--ramdisk",
            "ex/ramdisk1.cpio",
            "--output",
            "cpio.eif",
            "--name",
            "sworn",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(fs::read(d.path().join("dir.eif")).unwrap(), fs::read(d.path().join("cpio.eif")).unwrap());
    assert_eq!(fs::read(d.path().join("ex/cmdline")).unwrap(), b"console=ttyS0");
    let list = eif(&["extract", "dir.eif", "--list"], d.path());
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("-rwxr-xr-x 0/0        14 init"), "{text}");
    assert!(text.contains("drwxr-xr-x 0/0         0 rootfs/etc"), "{text}");
    assert!(text.contains("hosts-link -> rootfs/etc/hosts"), "{text}");
}

#[test]
fn gzip_ramdisks_are_smaller_reproducible_listed_and_measured_as_stored() {
    let d = tempfile::tempdir().unwrap();
    inputs(d.path());
    // Something worth compressing in the application ramdisk.
    fs::write(d.path().join("app/rootfs/etc/big"), vec![b'x'; 200_000]).unwrap();
    fs::set_permissions(d.path().join("app/rootfs/etc/big"), fs::Permissions::from_mode(0o644)).unwrap();
    build(d.path(), "plain.eif", &[]);
    let gz = |out: &str| {
        let args =
            ["build", "--kernel", "kernel", "--cmdline", "console=ttyS0", "--ramdisk", "boot", "--ramdisk", "app"];
        let mut args = args.to_vec();
        args.extend(["--ramdisk-compression", "gzip", "--output", out, "--name", "sworn"]);
        let o = eif(&args, d.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let measured = gz("gz.eif");
    assert_eq!(gz("gz-again.eif"), measured, "the same PCRs");
    let (plain, packed) = (fs::read(d.path().join("plain.eif")).unwrap(), fs::read(d.path().join("gz.eif")).unwrap());
    assert_eq!(packed, fs::read(d.path().join("gz-again.eif")).unwrap(), "byte for byte");
    assert!(packed.len() < plain.len() - 150_000, "{} vs {} bytes", packed.len(), plain.len());
    // The PCRs measure the stored (compressed) bytes: they differ from the plain image's.
    assert_ne!(fs::read(d.path().join("plain.eif.json")).unwrap(), measured);
    let verify = eif(&["verify", "gz.eif", "--measurements", "gz.eif.json"], d.path());
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    // Listed through the gzip; extracted as stored.
    let list = eif(&["extract", "gz.eif", "--list", "--dir", "ex"], d.path());
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success() && text.contains(", gzip of "), "{text}");
    assert!(text.contains("-rw-r--r-- 0/0    200000 rootfs/etc/big"), "{text}");
    assert!(d.path().join("ex/ramdisk1.cpio.gz").exists());
}

#[test]
fn describe_and_verify() {
    let d = tempfile::tempdir().unwrap();
    inputs(d.path());
    build(d.path(), "x.eif", &[]);
    let o = eif(&["describe", "x.eif", "--json"], d.path());
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["header"]["crc_ok"], true);
    assert_eq!(v["sections"].as_array().unwrap().len(), 5);
    assert_eq!(v["sections"][0]["type"], "kernel");
    assert_eq!(v["sections"][0]["offset"], 548);
    assert_eq!(v["metadata"]["ImageName"], "sworn");
    let json: serde_json::Value = serde_json::from_slice(&fs::read(d.path().join("x.eif.json")).unwrap()).unwrap();
    assert_eq!(v["Measurements"], json["Measurements"]);
    assert_eq!(v["sha256"], json["EifSha256"]);
    let text = eif(&["describe", "x.eif"], d.path());
    assert!(String::from_utf8_lossy(&text.stdout).contains("crc32"));

    // verify: match -> 0
    let ok = eif(&["verify", "x.eif", "--measurements", "x.eif.json"], d.path());
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
    // mismatch -> 1 with a per-PCR diff
    let mut other = json.clone();
    other["Measurements"]["PCR2"] = serde_json::Value::String("ab".repeat(48));
    fs::write(d.path().join("other.json"), other.to_string()).unwrap();
    let bad = eif(&["verify", "x.eif", "--measurements", "other.json"], d.path());
    assert_eq!(bad.status.code(), Some(1));
    let out = String::from_utf8_lossy(&bad.stdout);
    assert!(out.contains("FAIL PCR2") && out.contains(&"ab".repeat(48)) && out.contains("ok   PCR0"), "{out}");
    // nitro-cli's plain shape works too.
    let plain = serde_json::json!({"Measurements": json["Measurements"]});
    fs::write(d.path().join("plain.json"), plain.to_string()).unwrap();
    assert_eq!(eif(&["verify", "x.eif", "--measurements", "plain.json"], d.path()).status.code(), Some(0));
    // unreadable inputs -> 2
    assert_eq!(eif(&["verify", "x.eif", "--measurements", "missing.json"], d.path()).status.code(), Some(2));
    fs::write(d.path().join("garbage.json"), b"{\"Measurements\": {\"PCR0\": \"zz\"}}").unwrap();
    let g = eif(&["verify", "x.eif", "--measurements", "garbage.json"], d.path());
    assert_eq!(g.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&g.stderr).contains("PCR0"));
    fs::write(d.path().join("trunc.eif"), &fs::read(d.path().join("x.eif")).unwrap()[..300]).unwrap();
    let t = eif(&["verify", "trunc.eif", "--measurements", "x.eif.json"], d.path());
    assert_eq!(t.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&t.stderr).contains("truncated header"));
    // Corrupted data byte: CRC mismatch and PCR mismatch -> 1.
    let mut bytes = fs::read(d.path().join("x.eif")).unwrap();
    let last = bytes.len() - 20;
    bytes[last] ^= 0xff;
    fs::write(d.path().join("flip.eif"), &bytes).unwrap();
    let f = eif(&["verify", "flip.eif", "--measurements", "x.eif.json"], d.path());
    assert_eq!(f.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&f.stdout).contains("FAIL crc32"));
}

#[test]
fn signed_build_describe_verify() {
    let d = tempfile::tempdir().unwrap();
    inputs(d.path());
    let cert = data("signing-cert.pem");
    let args = |key: &Path, out: &str| {
        vec![
            "build".to_owned(),
            "--kernel".into(),
            "kernel".into(),
            "--cmdline".into(),
            "console=ttyS0".into(),
            "--ramdisk".into(),
            "boot".into(),
            "--ramdisk".into(),
            "app".into(),
            "--output".into(),
            out.into(),
            "--signing-certificate".into(),
            cert.to_string_lossy().into_owned(),
            "--private-key".into(),
            key.to_string_lossy().into_owned(),
        ]
    };
    let a: Vec<String> = args(&data("signing-key.pem"), "s.eif");
    let o = eif(&a.iter().map(String::as_str).collect::<Vec<_>>(), d.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // PKCS#8 key, same output: signing is deterministic (RFC 6979).
    let b: Vec<String> = args(&data("signing-key-pkcs8.pem"), "s2.eif");
    let o2 = eif(&b.iter().map(String::as_str).collect::<Vec<_>>(), d.path());
    assert!(o2.status.success(), "{}", String::from_utf8_lossy(&o2.stderr));
    let (s1, s2) = (fs::read(d.path().join("s.eif")).unwrap(), fs::read(d.path().join("s2.eif")).unwrap());
    // Only ImageName differs ("s" vs "s2"); compare describes instead.
    assert!(!o.stdout.is_empty());
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let j2: serde_json::Value = serde_json::from_slice(&o2.stdout).unwrap();
    assert_eq!(j["Measurements"], j2["Measurements"]);
    assert!(j["Measurements"]["PCR8"].is_string());
    assert_ne!(s1, s2);
    let desc = eif(&["describe", "s.eif", "--json"], d.path());
    let v: serde_json::Value = serde_json::from_slice(&desc.stdout).unwrap();
    assert_eq!(v["signature"]["signature_valid"], true);
    assert_eq!(v["signature"]["payload_matches_pcr0"], true);
    assert!(v["signature"]["certificate_subject"].as_str().unwrap().contains("sworn-eif-test-signer"));
    assert_eq!(eif(&["verify", "s.eif", "--measurements", "s.eif.json"], d.path()).status.code(), Some(0));
    // A wrong key is refused before anything is written.
    let other_key = data("other-key.pem");
    let c: Vec<String> = args(&other_key, "bad.eif");
    let o3 = eif(&c.iter().map(String::as_str).collect::<Vec<_>>(), d.path());
    assert_eq!(o3.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o3.stderr).contains("does not match"), "{}", String::from_utf8_lossy(&o3.stderr));
    assert!(!d.path().join("bad.eif").exists());
    // Signature section whose signature byte is flipped: verify fails (1).
    let mut bytes = s1.clone();
    let n = bytes.len();
    bytes[n - 3] ^= 1;
    fs::write(d.path().join("tampered.eif"), &bytes).unwrap();
    let t = eif(&["verify", "tampered.eif", "--measurements", "s.eif.json"], d.path());
    assert_eq!(t.status.code(), Some(1), "{}", String::from_utf8_lossy(&t.stdout));
}
