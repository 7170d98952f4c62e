//! `sworn attest` against in-process attested TLS servers.

mod common;

use common::{pcrs_file, sworn, text, Mode, Server, GOOD};

#[test]
fn attest_with_emulator_and_the_right_pcrs_succeeds_and_says_not_authenticated_on_stdout_and_stderr() {
    let server = Server::start(Mode::Genuine);
    let dir = tempfile::tempdir().unwrap();
    let pcrs = pcrs_file(dir.path(), GOOD);
    let out = sworn(&["attest", &server.url, "--pcrs", pcrs.to_str().unwrap(), "--emulator"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("NOT AUTHENTICATED"), "{stdout}");
    assert!(stderr.contains("NOT AUTHENTICATED"), "{stderr}");
    assert!(stdout.contains("development"), "{stdout}");
    assert!(stdout.contains(&format!("PCR0            {}", hex::encode([GOOD; 48]))), "{stdout}");
    assert!(stdout.contains("verified in"), "{stdout}");
    assert!(stdout.contains("(random, matched)"), "a random nonce by default: {stdout}");
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 1, "one GET /attestation");
}

#[test]
fn attest_json_prints_one_object_with_the_given_nonce() {
    let server = Server::start(Mode::Genuine);
    let dir = tempfile::tempdir().unwrap();
    let pcrs = pcrs_file(dir.path(), GOOD);
    let nonce = "00112233445566778899aabbccddeeff";
    let out =
        sworn(&["attest", &server.url, "--pcrs", pcrs.to_str().unwrap(), "--emulator", "--json", "--nonce", nonce]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    assert_eq!(v["nonce"], nonce);
    assert_eq!(v["fresh"]["document"]["nonce"], nonce);
    assert_eq!(v["authenticated"], false);
    assert_eq!(v["fresh"]["kind"], "development");
    assert!(v["warning"].as_str().unwrap().contains("NOT AUTHENTICATED"));
    assert!(v["timing"]["totalMs"].as_f64().is_some());
    assert!(text(&out.stderr).contains("NOT AUTHENTICATED"));
}

#[test]
fn attest_with_other_pcrs_fails_naming_the_pcr() {
    let server = Server::start(Mode::Genuine);
    let dir = tempfile::tempdir().unwrap();
    let other = pcrs_file(dir.path(), GOOD + 1);
    let out = sworn(&["attest", &server.url, "--pcrs", other.to_str().unwrap(), "--emulator"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("measurements") && stderr.contains("PCR0"), "{stderr}");
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 0, "refused in the handshake");
}

#[test]
fn attest_through_a_man_in_the_middle_with_the_genuine_document_fails_on_the_key_binding() {
    let server = Server::start(Mode::Mitm);
    let dir = tempfile::tempdir().unwrap();
    let pcrs = pcrs_file(dir.path(), GOOD);
    let out = sworn(&["attest", &server.url, "--pcrs", pcrs.to_str().unwrap(), "--emulator"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("key binding") && stderr.contains("public_key"), "{stderr}");
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn attest_refuses_a_stale_document_carrying_another_nonce() {
    let server = Server::start(Mode::StaleNonce);
    let dir = tempfile::tempdir().unwrap();
    let pcrs = pcrs_file(dir.path(), GOOD);
    let out = sworn(&["attest", &server.url, "--pcrs", pcrs.to_str().unwrap(), "--emulator"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("fresh attestation document") && stderr.contains("nonce"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing printed as verified: {}", text(&out.stdout));
}

#[test]
fn attest_without_emulator_refuses_a_development_document() {
    let server = Server::start(Mode::Genuine);
    let dir = tempfile::tempdir().unwrap();
    let pcrs = pcrs_file(dir.path(), GOOD);
    let out = sworn(&["attest", &server.url, "--pcrs", pcrs.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("development document"), "{stderr}");
}

#[test]
fn attest_with_a_missing_or_invalid_pcrs_file_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"Measurements\":{\"PCR0\":\"zz\"}}").unwrap();
    for file in [&missing, &garbage] {
        let out = sworn(&["attest", "https://127.0.0.1:1", "--pcrs", file.to_str().unwrap(), "--emulator"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    }
}

#[test]
fn attest_with_bad_nonce_hex_or_a_bad_url_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let pcrs = pcrs_file(dir.path(), GOOD);
    let p = pcrs.to_str().unwrap();
    let out = sworn(&["attest", "https://127.0.0.1:1", "--pcrs", p, "--nonce", "xyz"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--nonce"));
    let out = sworn(&["attest", "http://127.0.0.1:1", "--pcrs", p]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("only https"));
    let out = sworn(&["attest", "https://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2), "clap: --pcrs is required");
}

#[test]
fn attest_to_a_closed_port_exits_1_saying_it_cannot_connect() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let pcrs = pcrs_file(dir.path(), GOOD);
    let out = sworn(&["attest", &format!("https://127.0.0.1:{port}"), "--pcrs", pcrs.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
}
