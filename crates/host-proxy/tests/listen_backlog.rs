//! Finding 7 of issue 17: listeners use the system's somaxconn as their
//! backlog, so a burst of connects is not dropped at 128.

mod common;

use std::time::Duration;

use common::*;

/// Finding 7: the ingress listener's backlog follows somaxconn, not 128.
/// The daemon is stopped (SIGSTOP) so nothing is accepted and only the
/// kernel's listen queue holds the connects: with 128 all but 129 stay in
/// SYN-SENT (the kernel drops their SYNs), with somaxconn all complete.
#[test]
fn burst_of_2000_connects_to_ingress_all_complete_the_handshake() {
    const BURST: usize = 2000;
    let somaxconn: usize = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096);
    assert!(somaxconn > BURST, "net.core.somaxconn = {somaxconn} is too small for this test (needs > {BURST})");
    raise_nofile(3 * BURST as u64 + 1000);
    let echo = tcp_echo();
    let port = free_port();
    let d = Daemon::start(
        &args(&[
            "--no-egress",
            "--max-connections",
            "10000",
            "--max-per-source",
            "10000",
            "--ingress",
            &format!("tcp:127.0.0.1:{port}=tcp:{echo}"),
        ]),
        tcp_ready(port),
    );
    d.signal(nix::sys::signal::Signal::SIGSTOP);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let done = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..BURST {
            set.spawn(tokio::net::TcpStream::connect(("127.0.0.1", port)));
        }
        let mut ok = Vec::new();
        // Bounded: handshakes on loopback are immediate; a dropped SYN is
        // only retried after a second, and never succeeds while stopped.
        let _ = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(r) = set.join_next().await {
                if let Ok(Ok(s)) = r {
                    ok.push(s);
                }
            }
        })
        .await;
        set.abort_all();
        ok.len()
    });
    d.signal(nix::sys::signal::Signal::SIGCONT);
    assert_eq!(done, BURST, "every connect of the burst must complete its handshake (somaxconn {somaxconn})");
    drop(rt);
}
