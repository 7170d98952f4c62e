//! Load generator for bench/proxy/run: a counting server and clients that
//! measure throughput, connection rate and latency through an ingress
//! forwarder (socat, host-proxy) or a SOCKS5 proxy (microsocks, host-proxy),
//! and the memory of a proxy process tree holding N connections.
//!
//! Server protocol: the client sends a u64 length then that many bytes; the
//! server answers the count as 8 bytes and closes. No half-close is needed,
//! which microsocks does not support.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use sworn_net::{connect, Endpoint, Listener, Stream};
use sworn_socks5::{client, Destination, Parsed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn usage() -> ! {
    eprintln!(
        "usage:\n  proxy-loadgen server ENDPOINT\n  proxy-loadgen throughput VIA STREAMS MIB_PER_STREAM [PID]\n  \
         proxy-loadgen connrate VIA CONCURRENCY SECONDS\n  proxy-loadgen hold VIA COUNT PID\n\
         VIA = direct:ENDPOINT | socks:ENDPOINT:TARGET_IP:TARGET_PORT"
    );
    std::process::exit(2)
}

#[derive(Clone)]
enum Via {
    Direct(Endpoint),
    Socks(Endpoint, SocketAddr),
}

fn parse_via(s: &str) -> Result<Via> {
    if let Some(e) = s.strip_prefix("direct:") {
        return Ok(Via::Direct(e.parse()?));
    }
    if let Some(rest) = s.strip_prefix("socks:") {
        // ENDPOINT:IP:PORT, the target being the last two parts.
        let (ep, port) = rest.rsplit_once(':').context("socks target port")?;
        let (ep, ip) = ep.rsplit_once(':').context("socks target ip")?;
        return Ok(Via::Socks(ep.parse()?, format!("{ip}:{port}").parse()?));
    }
    bail!("bad VIA {s:?}")
}

async fn open(via: &Via) -> Result<Stream> {
    match via {
        Via::Direct(e) => Ok(connect(e).await?),
        Via::Socks(e, target) => {
            let mut s = connect(e).await?;
            if !target.is_ipv4() {
                bail!("IPv4 targets only");
            }
            // One message at a time: microsocks drops pipelined bytes.
            s.write_all(&client::encode_greeting()).await?;
            let mut m = [0u8; sworn_socks5::METHOD_SELECTION_LEN];
            s.read_exact(&mut m).await?;
            if let Err(e) = client::parse_method_selection(&m) {
                bail!("SOCKS5 method refused: {m:?}: {e}");
            }
            s.write_all(&client::encode_request(&Destination::Addr(*target))?).await?;
            let mut r = [0u8; sworn_socks5::MAX_REPLY];
            let mut have = 0;
            loop {
                match client::parse_reply(&r[..have]) {
                    Ok(Parsed::Done(..)) => return Ok(s),
                    Ok(Parsed::Incomplete) => {
                        let want = client::reply_bytes_needed(&r[..have]);
                        s.read_exact(&mut r[have..want]).await?;
                        have = want;
                    }
                    Err(e) => bail!("SOCKS5 refused: {e}"),
                }
            }
        }
    }
}

async fn server(ep: Endpoint) -> Result<()> {
    let l = Listener::bind(&ep).await?;
    println!("listening");
    loop {
        let (mut s, _) = match l.accept().await {
            Ok(c) => c,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        tokio::spawn(async move {
            let mut buf = vec![0u8; 256 * 1024];
            let mut len = [0u8; 8];
            if s.read_exact(&mut len).await.is_err() {
                return;
            }
            let want = u64::from_be_bytes(len);
            let mut n: u64 = 0;
            while n < want {
                match s.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(k) => n += k as u64,
                    Err(_) => return,
                }
            }
            let _ = s.write_all(&n.to_be_bytes()).await;
            let _ = s.shutdown().await;
        });
    }
}

/// Sends `bytes` and waits for the server's count.
async fn transfer(via: &Via, bytes: u64) -> Result<()> {
    let mut s = open(via).await?;
    s.write_all(&bytes.to_be_bytes()).await?;
    let chunk = vec![0x5Au8; 256 * 1024];
    let mut left = bytes;
    while left > 0 {
        let k = left.min(chunk.len() as u64) as usize;
        s.write_all(&chunk[..k]).await?;
        left -= k as u64;
    }
    let mut c = [0u8; 8];
    s.read_exact(&mut c).await?;
    if u64::from_be_bytes(c) != bytes {
        bail!("server counted {} of {bytes} bytes", u64::from_be_bytes(c));
    }
    Ok(())
}

/// CPU seconds used by `pid` and its reaped children (utime, stime,
/// cutime, cstime), so fork-per-connection proxies are charged in full.
fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    let Some(after) = stat.rsplit_once(')').map(|x| x.1) else { return 0.0 };
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3, utime..cstime are fields 14..=17.
    let ticks: u64 = (11..=14).filter_map(|i| f.get(i).and_then(|v| v.parse::<u64>().ok())).sum();
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100) as f64;
    ticks as f64 / hz
}

async fn throughput(via: Via, streams: usize, mib: u64, pid: Option<u32>) -> Result<()> {
    let cpu0 = pid.map(cpu_secs);
    let t = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..streams {
        let via = via.clone();
        set.spawn(async move { transfer(&via, mib << 20).await });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    let secs = t.elapsed().as_secs_f64();
    print!("throughput_mib_s {:.0}", (streams as u64 * mib) as f64 / secs);
    if let (Some(pid), Some(c0)) = (pid, cpu0) {
        // Let a forking proxy reap its children so their time is counted.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let gib = (streams as u64 * mib) as f64 / 1024.0;
        print!(" cpu_s_per_gib {:.2}", (cpu_secs(pid) - c0) / gib);
    }
    println!();
    Ok(())
}

async fn connrate(via: Via, concurrency: usize, seconds: f64) -> Result<()> {
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let via = via.clone();
        set.spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < end {
                let t = Instant::now();
                match transfer(&via, 1).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(_) => errors += 1,
                }
            }
            (lat, errors)
        });
    }
    let t0 = Instant::now();
    let mut all = Vec::new();
    let mut errors = 0;
    while let Some(r) = set.join_next().await {
        let (l, e) = r?;
        all.extend(l);
        errors += e;
    }
    let secs = t0.elapsed().as_secs_f64();
    all.sort();
    let p99 = all.get(all.len() * 99 / 100).copied().unwrap_or_default();
    println!("conns_per_s {:.0} p99_ms {:.2} errors {errors}", all.len() as f64 / secs, p99.as_secs_f64() * 1e3);
    Ok(())
}

/// Proportional set size (KiB) of `pid` and all its descendants.
fn tree_pss_kib(root: u32) -> u64 {
    let mut parent = std::collections::HashMap::<u32, u32>::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // Field 4 (ppid) follows the parenthesised command name.
            let Some(after) = stat.rsplit_once(')').map(|x| x.1) else { continue };
            if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
                parent.insert(pid, ppid);
            }
        }
    }
    let in_tree = |mut p: u32| loop {
        if p == root {
            return true;
        }
        match parent.get(&p) {
            Some(&pp) if pp != 0 && pp != p => p = pp,
            _ => return false,
        }
    };
    let mut total = 0;
    for &pid in parent.keys() {
        if !in_tree(pid) {
            continue;
        }
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
            total += s
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

async fn hold(via: Via, count: usize, pid: u32) -> Result<()> {
    let before = tree_pss_kib(pid);
    let mut held = Vec::with_capacity(count);
    for i in 0..count {
        held.push(open(&via).await.with_context(|| format!("connection {i}"))?);
    }
    // Let forks and accepts settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = tree_pss_kib(pid);
    println!("pss_idle_kib {before} pss_held_kib {after} connections {}", held.len());
    Ok(())
}

fn raise_nofile() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    raise_nofile();
    let a: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| a.get(i).map(String::as_str).unwrap_or_else(|| usage());
    match arg(0) {
        "server" => server(arg(1).parse()?).await,
        "throughput" => {
            let pid = a.get(4).map(|p| p.parse()).transpose()?;
            throughput(parse_via(arg(1))?, arg(2).parse()?, arg(3).parse()?, pid).await
        }
        "connrate" => connrate(parse_via(arg(1))?, arg(2).parse()?, arg(3).parse()?).await,
        "hold" => hold(parse_via(arg(1))?, arg(2).parse()?, arg(3).parse()?).await,
        _ => usage(),
    }
}
