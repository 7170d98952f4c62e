//! The emulator setup: heartbeat, ingress and egress all over vhost-uds,
//! as the e2e test runs them next to vhost-device-vsock.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;

use common::*;

#[test]
fn heartbeat_ingress_and_egress_over_vhost_uds() {
    let dir = tempfile::tempdir().unwrap();
    let vm = dir.path().join("vm.vsock");
    fake_vhost_backend(&vm, 1057);
    let port = free_port();
    let echo = tcp_echo();
    let d = Daemon::start(
        &args(&[
            "--heartbeat",
            &format!("vhost-uds:{}:9000", vm.display()),
            "--ingress",
            &format!("tcp:127.0.0.1:{port}=vhost-uds:{}:1057", vm.display()),
            "--egress",
            &format!("vhost-uds:{}:1080", vm.display()),
            "--allow",
            &format!("127.0.0.1:{}", echo.port()),
        ]),
        {
            let p = dir.path().join("vm.vsock_1080");
            let q = dir.path().join("vm.vsock_9000");
            let t = tcp_ready(port);
            move || p.exists() && q.exists() && t()
        },
    );

    // The enclave's init: guest port 9000 on the host side is vm.vsock_9000.
    let mut hb = unix_connect(&dir.path().join("vm.vsock_9000"));
    hb.write_all(&[0xB7]).unwrap();
    let mut b = [0u8; 1];
    hb.read_exact(&mut b).unwrap();
    assert_eq!(b, [0xB7]);

    // A wrong heartbeat byte gets no echo.
    let mut hb = unix_connect(&dir.path().join("vm.vsock_9000"));
    hb.write_all(&[0x00]).unwrap();
    assert_eq!(hb.read(&mut b).unwrap(), 0, "closed without answering");

    // Ingress: a host client reaches the enclave's port 1057 through CONNECT.
    let mut c = tcp_connect(port);
    let back = exchange(&mut c, b"hello enclave", |s| s.shutdown(Shutdown::Write).unwrap());
    assert_eq!(back, b"HELLO ENCLAVE");

    // Egress: the enclave (connecting to host port 1080) uses SOCKS5.
    let mut e = unix_connect(&dir.path().join("vm.vsock_1080"));
    assert_eq!(socks_connect(&mut e, echo), 0);
    let back = exchange(&mut e, b"out we go", |s| s.shutdown(Shutdown::Write).unwrap());
    assert_eq!(back, b"OUT WE GO");

    // Loopback not named by a rule stays denied: reply 0x02.
    let other = tcp_echo();
    let mut e = unix_connect(&dir.path().join("vm.vsock_1080"));
    assert_eq!(socks_connect(&mut e, other), 0x02);
    assert!(d.log().contains("egress denied"), "{}", d.log());
}
