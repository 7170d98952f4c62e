//! A one-shot fetch with the egress client, for trying a proxy by hand:
//!
//!   cargo run -p sworn-egress --example fetch -- [--proxy ENDPOINT] [--ca PEM]... URL
//!
//! Without `--proxy` it connects directly. Prints status and headers to
//! stderr and the body to stdout.

use std::io::Write;

use sworn_egress::{EgressClient, EgressConfig, FetchRequest, Route};

fn usage() -> ! {
    eprintln!("usage: fetch [--proxy vsock:3:1057|tcp:HOST:PORT|unix:PATH] [--ca FILE.pem]... URL");
    std::process::exit(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut route = Route::Direct;
    let mut cas = Vec::new();
    let mut url = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--proxy" => {
                let text = args.next().unwrap_or_else(|| usage());
                match text.parse() {
                    Ok(proxy) => route = Route::Socks5 { proxy },
                    Err(e) => {
                        eprintln!("fetch: {e}");
                        std::process::exit(2)
                    }
                }
            }
            "--ca" => cas.push(args.next().unwrap_or_else(|| usage()).into()),
            _ if url.is_none() && !a.starts_with("--") => url = Some(a),
            _ => usage(),
        }
    }
    let url = url.unwrap_or_else(|| usage());
    let mut config = EgressConfig::new(route);
    config.extra_ca_files = cas;
    let client = match EgressClient::new(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fetch: {e}");
            std::process::exit(1)
        }
    };
    let mut response = match client.fetch(FetchRequest::get(url)).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fetch: {e}");
            std::process::exit(1)
        }
    };
    eprintln!("{:?} {} ({})", response.version, response.status, response.url);
    for (name, value) in &response.headers {
        eprintln!("{name}: {}", value.to_str().unwrap_or("<binary>"));
    }
    let mut out = std::io::stdout().lock();
    while let Some(chunk) = response.body.chunk().await {
        match chunk {
            Ok(c) => {
                if out.write_all(&c).is_err() {
                    std::process::exit(1)
                }
            }
            Err(e) => {
                eprintln!("fetch: {e}");
                std::process::exit(1)
            }
        }
    }
}
