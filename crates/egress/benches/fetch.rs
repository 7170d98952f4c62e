//! Egress benchmark: sworn-egress against curl (what scripts would use) on
//! the same loopback HTTPS server and the same SOCKS5 relay, side by side.
//!
//!   cargo bench -p sworn-egress --bench fetch
//!
//! Bounded: a few hundred requests per scenario, about 20 s in all.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use sworn_egress::*;

const REQUESTS: usize = 300;
const DOWNLOAD: usize = 8 * 1024 * 1024;

struct Row {
    name: String,
    per_request: Duration,
}

async fn run_client(client: &EgressClient, url: &str, n: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let resp = client.fetch(FetchRequest::get(url)).await.expect("fetch");
        resp.body.bytes().await.expect("body");
    }
    start.elapsed() / n as u32
}

fn curl(args: &[String], n_urls: usize) -> Option<Duration> {
    let start = Instant::now();
    let out = Command::new("curl").args(args).output().ok()?;
    if !out.status.success() {
        eprintln!("curl failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(start.elapsed() / n_urls as u32)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let ca = TestCa::new();
    let ca_file = ca.ca_file();
    let server = start_server(Some(&ca), &[b"h2", b"http/1.1"]).await;
    let proxy = start_socks(&[], SocksBehaviour::Relay, None).await;
    let Endpoint::Tcp { port: proxy_port, .. } = proxy.endpoint.clone() else { unreachable!() };
    let url = format!("https://localhost:{}/hello", server.addr.port());
    let big = format!("https://localhost:{}/big-cl/{DOWNLOAD}", server.addr.port());

    let mk = |route: Route, pooled: bool| {
        let mut cfg = EgressConfig::new(route);
        cfg.webpki_roots = false;
        cfg.extra_ca_files = vec![ca_file.clone()];
        if !pooled {
            cfg.pool_max_idle_per_host = 0;
        }
        EgressClient::new(cfg).expect("client")
    };
    let socks = Route::Socks5 { proxy: proxy.endpoint.clone() };
    let curl_base = vec![
        "-s".to_string(),
        "-o".into(),
        "/dev/null".into(),
        "--cacert".into(),
        ca_file.display().to_string(),
        "--socks5-hostname".into(),
        format!("127.0.0.1:{proxy_port}"),
    ];

    let mut rows = Vec::new();
    // Warm up server and proxy.
    run_client(&mk(socks.clone(), true), &url, 20).await;

    let direct = mk(Route::Direct, true);
    rows.push(Row {
        name: "sworn-egress direct, pooled (h2)".into(),
        per_request: run_client(&direct, &url, REQUESTS).await,
    });
    let pooled = mk(socks.clone(), true);
    let sworn_pooled = run_client(&pooled, &url, REQUESTS).await;
    rows.push(Row { name: "sworn-egress SOCKS5, pooled (h2)".into(), per_request: sworn_pooled });
    let fresh = mk(socks.clone(), false);
    let sworn_fresh = run_client(&fresh, &url, REQUESTS / 3).await;
    rows.push(Row { name: "sworn-egress SOCKS5, new TLS conn each".into(), per_request: sworn_fresh });

    // curl: many URLs in one process reuses one connection.
    let mut many = curl_base.clone();
    for _ in 0..REQUESTS {
        many.push(url.clone());
        many.push("-o".into());
        many.push("/dev/null".into());
    }
    let curl_pooled = curl(&many, REQUESTS);
    // curl: one process per request (a new connection each).
    let mut curl_fresh_total = Duration::ZERO;
    let mut curl_ok = true;
    for _ in 0..REQUESTS / 3 {
        let mut one = curl_base.clone();
        one.push(url.clone());
        match curl(&one, 1) {
            Some(d) => curl_fresh_total += d,
            None => curl_ok = false,
        }
    }
    let curl_fresh = curl_ok.then(|| curl_fresh_total / (REQUESTS / 3) as u32);

    // Throughput: one 8 MiB download through the proxy.
    let start = Instant::now();
    for _ in 0..3 {
        let resp = pooled.fetch(FetchRequest::get(&big)).await.expect("big");
        assert_eq!(resp.body.bytes().await.expect("big body").len(), DOWNLOAD);
    }
    let sworn_dl = start.elapsed() / 3;
    let mut dl_args = curl_base.clone();
    dl_args.push(big.clone());
    let curl_dl = curl(&dl_args, 1);

    println!("\negress benchmark ({REQUESTS} GETs of 5 bytes over loopback HTTPS; SOCKS5 relay in-process)");
    println!("{:<42} {:>12} {:>10}", "scenario", "per request", "req/s");
    for r in &rows {
        println!(
            "{:<42} {:>10.1}us {:>10.0}",
            r.name,
            r.per_request.as_secs_f64() * 1e6,
            1.0 / r.per_request.as_secs_f64()
        );
    }
    for (name, d) in
        [("curl SOCKS5, one process, reused conn", curl_pooled), ("curl SOCKS5, one process per request", curl_fresh)]
    {
        match d {
            Some(d) => println!("{:<42} {:>10.1}us {:>10.0}", name, d.as_secs_f64() * 1e6, 1.0 / d.as_secs_f64()),
            None => println!("{name:<42} (curl unavailable)"),
        }
    }
    let mib = DOWNLOAD as f64 / (1024.0 * 1024.0);
    println!(
        "{:<42} {:>10.1}ms {:>8.0} MiB/s",
        "sworn-egress SOCKS5 8 MiB download",
        sworn_dl.as_secs_f64() * 1e3,
        mib / sworn_dl.as_secs_f64()
    );
    if let Some(d) = curl_dl {
        println!(
            "{:<42} {:>10.1}ms {:>8.0} MiB/s",
            "curl SOCKS5 8 MiB download",
            d.as_secs_f64() * 1e3,
            mib / d.as_secs_f64()
        );
    }
    println!("\nratios (curl time / sworn-egress time; > 1 means sworn-egress is faster)");
    if let Some(c) = curl_pooled {
        println!("  reused connection:  {:.2}x", c.as_secs_f64() / sworn_pooled.as_secs_f64());
    }
    if let Some(c) = curl_fresh {
        println!(
            "  new connection:     {:.2}x (curl includes process start)",
            c.as_secs_f64() / sworn_fresh.as_secs_f64()
        );
    }
    if let Some(c) = curl_dl {
        println!("  8 MiB download:     {:.2}x", c.as_secs_f64() / sworn_dl.as_secs_f64());
    }
}
