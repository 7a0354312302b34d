//! A bounded load test of the console (SPEC §8, §10): against a running `spotcheck serve`, it
//! uploads an enterprise table (and optional emissions, history), scores it, announces a seed
//! and times one draw through the API; then 50 clients on loopback each make a fixed number of
//! read requests (the public list, the manifest, a job's progress, the sample, /public/verify is
//! left out: it recomputes) and it prints the latency percentiles. Plain HTTP/1.1 over std
//! sockets, one connection per request (the worst case for the server).
//!
//! Usage: [CAPACITY=N] cargo run --release --example console_load -- ADDR TOKEN MONTH ENTERPRISES
//! [EMISSIONS [HISTORY]] (the token of an analyst or admin; see benches/README.md).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const CLIENTS: usize = 50;
const REQUESTS_PER_CLIENT: usize = 200;

fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    ct: &str,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(300))).ok();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write");
    s.write_all(body).expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let status = raw
        .get(9..12)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| raw[p + 4..].to_vec())
        .unwrap_or_default();
    (status, body)
}

fn field(body: &[u8], key: &str) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).expect("JSON answer");
    v[key].to_string().trim_matches('"').to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: console_load ADDR TOKEN MONTH ENTERPRISES [EMISSIONS [HISTORY]]");
        std::process::exit(2);
    }
    let (addr, token, month) = (&args[0], &args[1], &args[2]);
    let kinds = ["enterprises", "emissions", "history"];
    for (kind, file) in kinds.iter().zip(&args[3..]) {
        let bytes = std::fs::read(file).expect("input file");
        let ext = file.rsplit('.').next().unwrap_or("csv");
        let t = Instant::now();
        let (st, body) = request(
            addr,
            "POST",
            &format!("/api/months/{month}/inputs/{kind}?format={ext}"),
            token,
            "application/octet-stream",
            &bytes,
        );
        assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
        println!(
            "upload {kind}: {:?} ({} rows read)",
            t.elapsed(),
            field(&body, "read")
        );
    }
    let t = Instant::now();
    let (st, body) = request(
        addr,
        "POST",
        &format!("/api/months/{month}/score"),
        token,
        "application/json",
        b"{}",
    );
    assert_eq!(st, 202, "{}", String::from_utf8_lossy(&body));
    let job = field(&body, "job");
    loop {
        let (_, b) = request(
            addr,
            "GET",
            &format!("/api/jobs/{job}"),
            token,
            "application/json",
            b"",
        );
        match field(&b, "state").as_str() {
            "done" => break,
            "failed" => panic!("score failed: {}", String::from_utf8_lossy(&b)),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    println!("score job: {:?}", t.elapsed());
    let (st, body) = request(
        addr,
        "POST",
        &format!("/api/months/{month}/seeds"),
        token,
        "application/json",
        br#"{"department": "market", "seed": "load test"}"#,
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    // CAPACITY=N draws N visits (π scaled to capacity; N ≥ the frame draws every unit).
    let draw_body = match std::env::var("CAPACITY") {
        Ok(c) => format!(r#"{{"department": "market", "capacity": {c}}}"#),
        Err(_) => r#"{"department": "market"}"#.to_string(),
    };
    let t = Instant::now();
    let (st, body) = request(
        addr,
        "POST",
        &format!("/api/months/{month}/draws"),
        token,
        "application/json",
        draw_body.as_bytes(),
    );
    let draw = t.elapsed();
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    println!(
        "draw through the API: {draw:?} ({} visits)",
        field(&body, "visits")
    );

    let paths = [
        format!("/api/months/{month}/draws/market/public"),
        format!("/api/months/{month}/draws/market/manifest"),
        format!("/api/jobs/{job}"),
        format!("/api/months/{month}/draws/market"),
    ];
    let t = Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (addr, token, paths) = (addr.clone(), token.clone(), paths.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(REQUESTS_PER_CLIENT);
                for i in 0..REQUESTS_PER_CLIENT {
                    let p = &paths[(c + i) % paths.len()];
                    let s = Instant::now();
                    let (st, _) = request(&addr, "GET", p, &token, "application/json", b"");
                    lat.push(s.elapsed());
                    assert_eq!(st, 200, "{p}");
                }
                lat
            })
        })
        .collect();
    let mut all: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("client"))
        .collect();
    let wall = t.elapsed();
    all.sort();
    println!(
        "{CLIENTS} clients × {REQUESTS_PER_CLIENT} reads: {} requests in {wall:?} ({:.0}/s); p50 {:?}, p95 {:?}, p99 {:?}, max {:?}",
        all.len(),
        all.len() as f64 / wall.as_secs_f64(),
        percentile(&all, 0.50),
        percentile(&all, 0.95),
        percentile(&all, 0.99),
        all[all.len() - 1]
    );
}
