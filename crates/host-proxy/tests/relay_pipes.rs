//! The splice relay borrows pipes only while bytes move: many idle relays
//! hold no pipe, and the per-thread pool stays bounded. Alone in its test
//! binary so the descriptor count under /proc/self/fd is not disturbed by
//! other tests.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use sworn_host_proxy::relay::{pooled_pipes, relay, PIPE_POOL_MAX};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Open pipe descriptors of this process, and all descriptors.
fn fds() -> (usize, usize) {
    let mut pipes = 0;
    let mut all = 0;
    for e in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        all += 1;
        if std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().starts_with("pipe:")) {
            pipes += 1;
        }
    }
    (pipes, all)
}

#[tokio::test(flavor = "current_thread")]
async fn idle_relays_hold_no_pipe() {
    const N: usize = 64;
    const CHUNK: usize = 1 << 20;
    let (pipes0, _) = fds();
    let mut ends = Vec::new();
    let mut relays = Vec::new();
    for _ in 0..N {
        let (client, mut a) = UnixStream::pair().unwrap();
        let (mut b, server) = UnixStream::pair().unwrap();
        relays.push(tokio::spawn(async move {
            let (c1, c2) = (AtomicU64::new(0), AtomicU64::new(0));
            relay(&mut a, &mut b, Duration::from_secs(60), &c1, &c2).await
        }));
        ends.push((client, server));
    }
    // Every relay moves data at the same time, more than the targets
    // buffer, so each holds a pipe with bytes in it...
    let data: Vec<u8> = (0..CHUNK).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut writers = Vec::new();
    let mut servers = Vec::new();
    for (mut c, s) in ends.drain(..) {
        let data = data.clone();
        writers.push(tokio::spawn(async move {
            c.write_all(&data).await.unwrap();
            c
        }));
        servers.push(s);
    }
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    let (busy, _) = fds();
    assert!(busy - pipes0 > 2 * PIPE_POOL_MAX, "relays in flight should hold pipes: {busy} pipe fds");
    // ...then the targets read everything and all go quiet.
    let readers: Vec<_> = servers
        .into_iter()
        .map(|mut s| {
            let data = data.clone();
            tokio::spawn(async move {
                let mut got = vec![0u8; CHUNK];
                s.read_exact(&mut got).await.unwrap();
                assert!(got == data);
                s
            })
        })
        .collect();
    for (w, r) in writers.into_iter().zip(readers) {
        ends.push((w.await.unwrap(), r.await.unwrap()));
    }
    // Let every relay see its socket drained and return its pipe.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let (pipes, all) = fds();
    let pooled = pooled_pipes();
    assert!(pooled <= PIPE_POOL_MAX, "{pooled} pipes pooled");
    assert_eq!(
        pipes - pipes0,
        2 * pooled,
        "pipe fds with {N} idle relays: {pipes} ({pooled} pooled); {all} fds in all"
    );
    assert!(pipes - pipes0 < N, "idle relays hold pipes: {pipes} pipe fds for {N} relays");

    for (c, s) in &mut ends {
        c.shutdown().await.unwrap();
        s.shutdown().await.unwrap();
    }
    for r in relays {
        let t = r.await.unwrap().unwrap();
        assert_eq!((t.a_to_b, t.b_to_a), (CHUNK as u64, 0));
    }
    drop(ends);
    let (pipes_end, _) = fds();
    assert_eq!(pipes_end - pipes0, 2 * pooled_pipes());
}
