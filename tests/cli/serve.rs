//! `spotcheck serve` and `spotcheck users add` end to end (SPEC §10): the real binary on a free
//! port against a fresh data folder per test, spoken to over plain HTTP/1.1 from std sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Work, repo, text};

const MONTH: &str = "2026-12";
const SEED: &str = "2026年12月 第1期 双色球 2026139";

/// A running server; killed with SIGKILL (kill -9) when dropped or by [`Server::kill`].
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(data: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("spotcheck"))
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spotcheck serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let mut err = String::new();
                let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("no address in {line:?}; stderr: {err}")
            });
        Server { child, addr }
    }

    /// kill -9.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTP answer.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the status and, for errors, the JSON shape {error, message}.
    fn expect(self, status: u16) -> Answer {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        if status >= 400 {
            let v = self.json();
            assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
        }
        self
    }
}

/// One request over a fresh connection (`Connection: close`).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Answer {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(c) = content_type {
        head.push_str(&format!("Content-Type: {c}\r\n"));
    }
    head.push_str("\r\n");
    // A server refusing a large body may close before it is all sent: read the answer anyway.
    let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(body));
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Answer {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(nl) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..nl]).trim(), 16)
                .expect("chunk size");
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + size]);
            rest = &rest[nl + 2 + size + 2..];
        }
        body = out;
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Answer {
    http(addr, "GET", path, token, None, b"")
}

fn post_json(addr: SocketAddr, path: &str, token: Option<&str>, v: &Value) -> Answer {
    http(
        addr,
        "POST",
        path,
        token,
        Some("application/json"),
        v.to_string().as_bytes(),
    )
}

/// `users add`: (password, token).
fn add_user(w: &Work, data: &Path, name: &str, role: &str) -> (String, String) {
    let o = w.run(&[
        "users",
        "add",
        name,
        "--role",
        role,
        "--data",
        data.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let password = lines[0].strip_prefix("password: ").expect("password line");
    let token = lines[1].strip_prefix("token: ").expect("token line");
    assert!(password.len() >= 16 && token.len() == 64, "{out}");
    (password.to_string(), token.to_string())
}

fn sample_file(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("data/sample").join(name)).expect("sample data")
}

fn upload(addr: SocketAddr, token: &str, kind: &str, body: &[u8]) -> Value {
    http(
        addr,
        "POST",
        &format!("/api/months/{MONTH}/inputs/{kind}"),
        Some(token),
        Some("text/csv"),
        body,
    )
    .expect(200)
    .json()
}

/// Uploads the four sample tables and scores; returns nothing, asserts on the counts.
fn upload_and_score(addr: SocketAddr, token: &str) {
    for kind in ["enterprises", "emissions", "history", "inspectors"] {
        let v = upload(addr, token, kind, &sample_file(&format!("{kind}.csv")));
        let (r, a, j) = (
            v["read"].as_u64().unwrap(),
            v["accepted"].as_u64().unwrap(),
            v["rejected"].as_u64().unwrap(),
        );
        assert!(r > 0 && r == a + j, "{kind}: {v}");
        assert_eq!(v["rejects"].as_array().unwrap().len() as u64, j.min(1000));
    }
    let job = post_json(
        addr,
        &format!("/api/months/{MONTH}/score"),
        Some(token),
        &json!({}),
    )
    .expect(202)
    .json()["job"]
        .as_i64()
        .unwrap();
    let started = Instant::now();
    loop {
        let v = get(addr, &format!("/api/jobs/{job}"), Some(token))
            .expect(200)
            .json();
        let p = v["progress"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{v}");
        match v["state"].as_str().unwrap() {
            "done" => {
                assert_eq!(p, 1.0);
                break;
            }
            "queued" | "running" => {}
            other => panic!("job {other}: {v}"),
        }
        assert!(started.elapsed() < Duration::from_secs(120), "job too slow");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The CLI's own draw of the sample data with the same seed: (sample.csv bytes, work dir).
fn cli_draw(w: &Work, department: &str) -> Vec<u8> {
    let d = repo().join("data/sample");
    let o = w.run(&[
        "score",
        d.join("enterprises.csv").to_str().unwrap(),
        "--emissions",
        d.join("emissions.csv").to_str().unwrap(),
        "-o",
        "scored.csv",
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let o = w.run(&[
        "sample",
        "scored.csv",
        "--month",
        MONTH,
        "--department",
        department,
        "--seed",
        SEED,
        "--history",
        d.join("history.csv").to_str().unwrap(),
        "--inspectors",
        d.join("inspectors.csv").to_str().unwrap(),
        "-o",
        "cli-sample.csv",
        "-q",
    ]);
    assert!(o.status.code() == Some(0) || o.status.code() == Some(1));
    std::fs::read(w.path("cli-sample.csv")).unwrap()
}

#[test]
fn the_month_end_to_end_with_races_roles_and_a_kill() {
    let w = Work::new();
    let data = w.path("console");
    let (_, admin) = add_user(&w, &data, "alice", "admin");
    let (analyst_pw, analyst) = add_user(&w, &data, "bob", "analyst");
    let (_, inspector) = add_user(&w, &data, "ivy", "inspector");
    // A second user of the same name is refused.
    let o = w.run(&[
        "users",
        "add",
        "bob",
        "--role",
        "admin",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("already exists"), "{}", text(&o).1);

    let mut server = Server::start(&data, &[]);
    let addr = server.addr;
    assert!(addr.ip().is_loopback());

    // Roles: no token 401, wrong token 401, inspector 403.
    let path = format!("/api/months/{MONTH}/inputs/enterprises");
    http(addr, "POST", &path, None, Some("text/csv"), b"x").expect(401);
    http(addr, "POST", &path, Some("nope"), Some("text/csv"), b"x").expect(401);
    http(
        addr,
        "POST",
        &path,
        Some(&inspector),
        Some("text/csv"),
        b"x",
    )
    .expect(403);

    // Sign-in: wrong password 401, right password a new token that works.
    post_json(
        addr,
        "/api/login",
        None,
        &json!({"name": "bob", "password": "wrong"}),
    )
    .expect(401);
    let t = post_json(
        addr,
        "/api/login",
        None,
        &json!({"name": "bob", "password": analyst_pw}),
    )
    .expect(200)
    .json();
    assert_eq!(t["role"], "analyst");
    let analyst2 = t["token"].as_str().unwrap().to_string();
    assert_ne!(analyst2, analyst);

    // Nothing to draw yet: no seed → 409.
    post_json(
        addr,
        &format!("/api/months/{MONTH}/draws"),
        Some(&analyst),
        &json!({"department": "market"}),
    )
    .expect(409);

    upload_and_score(addr, &analyst2);
    let scored = get(
        addr,
        &format!("/api/months/{MONTH}/scored?format=csv"),
        Some(&analyst),
    )
    .expect(200);
    let cli_sample = cli_draw(&w, "market");
    // The scored table equals `spotcheck score`'s, byte for byte.
    assert_eq!(scored.body, std::fs::read(w.path("scored.csv")).unwrap());

    // Seed, then racing draws: exactly one draws, the others get 409.
    let seed = post_json(
        addr,
        &format!("/api/months/{MONTH}/seeds"),
        Some(&analyst),
        &json!({"department": "market", "seed": SEED}),
    )
    .expect(200)
    .json();
    assert_eq!(seed["announced_by"], "bob");
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let token = analyst.clone();
            std::thread::spawn(move || {
                post_json(
                    addr,
                    &format!("/api/months/{MONTH}/draws"),
                    Some(&token),
                    &json!({"department": "market"}),
                )
            })
        })
        .collect();
    let answers: Vec<Answer> = racers.into_iter().map(|h| h.join().unwrap()).collect();
    let ok: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(ok.len(), 1, "exactly one draw succeeds");
    assert_eq!(
        answers.iter().filter(|a| a.status == 409).count(),
        5,
        "the others are refused"
    );
    let drawn = ok[0].json();
    assert!(drawn["visits"].as_u64().unwrap() > 0);
    // A joint draw of the same month would draw market again: refused too.
    post_json(
        addr,
        &format!("/api/months/{MONTH}/draws"),
        Some(&analyst),
        &json!({"department": "joint"}),
    )
    .expect(409);
    // The seed is fixed once used.
    post_json(
        addr,
        &format!("/api/months/{MONTH}/seeds"),
        Some(&analyst),
        &json!({"department": "market", "seed": "another"}),
    )
    .expect(409);

    // The draw equals `spotcheck sample` with the same inputs and seed.
    let sample = get(
        addr,
        &format!("/api/months/{MONTH}/draws/market"),
        Some(&analyst),
    )
    .expect(200);
    assert_eq!(
        String::from_utf8_lossy(&sample.body),
        String::from_utf8_lossy(&cli_sample)
    );
    assert_eq!(
        sample.header("x-content-sha256").unwrap(),
        drawn["sample_file"]
            .as_str()
            .unwrap()
            .split('.')
            .next()
            .unwrap()
    );

    // Published data needs no login; the full sample does.
    let public = get(
        addr,
        &format!("/api/months/{MONTH}/draws/market/public"),
        None,
    )
    .expect(200);
    let public_text = String::from_utf8(public.body).unwrap();
    assert_eq!(
        public_text.lines().count() as u64,
        drawn["visits"].as_u64().unwrap() + 1
    );
    assert!(!public_text.contains("risk_score"), "{public_text}");
    get(addr, &format!("/api/months/{MONTH}/draws/market"), None).expect(401);
    get(
        addr,
        &format!("/api/months/{MONTH}/draws/market"),
        Some(&inspector),
    )
    .expect(403);
    let manifest = get(
        addr,
        &format!("/api/months/{MONTH}/draws/market/manifest"),
        None,
    )
    .expect(200)
    .body;
    let v = get(
        addr,
        &format!("/public/verify?month={MONTH}&department=market"),
        None,
    )
    .expect(200)
    .json();
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["visits"], drawn["visits"]);

    // The manifest verifies with the CLI once the files it names are downloaded beside it.
    let m: Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(m["seed"], SEED);
    let dir = w.path("download");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("manifest.json"), &manifest).unwrap();
    let mut names: Vec<String> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap().to_string())
        .collect();
    names.push(m["output"]["path"].as_str().unwrap().to_string());
    assert_eq!(names.len(), 4, "scored, history, inspectors, sample");
    for n in &names {
        let f = get(addr, &format!("/api/files/{n}"), Some(&analyst)).expect(200);
        std::fs::write(dir.join(n), f.body).unwrap();
    }
    let o = w.run(&["verify", dir.join("manifest.json").to_str().unwrap(), "-q"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("verified"), "{out}");

    // Results: checked against the draw, estimated as `spotcheck results` estimates them.
    get(
        addr,
        &format!("/api/months/{MONTH}/estimates"),
        Some(&analyst),
    )
    .expect(404);
    let mut results = String::from("uscc,month,department,inspected_on,result\n");
    for (i, line) in cli_sample.split(|b| *b == b'\n').skip(1).enumerate() {
        let line = String::from_utf8_lossy(line);
        let Some(uscc) = line.split(',').nth(1) else {
            continue;
        };
        let result = if i.is_multiple_of(3) {
            "problem_pending"
        } else {
            "no_problem"
        };
        results.push_str(&format!("{uscc},{MONTH},market,2026-12-15,{result}\n"));
    }
    results.push_str(&format!(
        "91110108MAPJTUNJ16,{MONTH},ecology,2026-12-15,no_problem\n"
    ));
    std::fs::write(dir.join("results.csv"), &results).unwrap();
    let r = http(
        addr,
        "POST",
        &format!("/api/months/{MONTH}/results"),
        Some(&analyst),
        Some("text/csv"),
        results.as_bytes(),
    )
    .expect(200)
    .json();
    let visits = drawn["visits"].as_u64().unwrap();
    assert_eq!(r["read"].as_u64(), Some(visits + 1), "{r}");
    assert_eq!(r["accepted"].as_u64(), Some(visits), "{r}");
    assert_eq!(r["rejects"][0]["reason"], "RESULT_NOT_DRAWN", "{r}");
    let estimates = get(
        addr,
        &format!("/api/months/{MONTH}/estimates"),
        Some(&analyst),
    )
    .expect(200)
    .body;
    get(addr, &format!("/api/months/{MONTH}/estimates"), None).expect(401);
    let o = w.run(&[
        "results",
        dir.join("manifest.json").to_str().unwrap(),
        dir.join("results.csv").to_str().unwrap(),
        "-o",
        w.path("cli-estimates.csv").to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(
        String::from_utf8_lossy(&estimates),
        String::from_utf8_lossy(&std::fs::read(w.path("cli-estimates.csv")).unwrap())
    );

    // The positive list: built by an analyst, published without login.
    let list = post_json(
        addr,
        "/api/whitelist",
        Some(&analyst),
        &json!({"as_of": "2026-12-01"}),
    )
    .expect(200)
    .json();
    assert!(list["listed"].as_u64().unwrap() > 0, "{list}");
    let csv = get(addr, "/api/whitelist?format=csv", None).expect(200);
    let listed_rows = String::from_utf8(csv.body)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| l.contains(",new,"))
        .count() as u64;
    assert_eq!(listed_rows, list["new"].as_u64().unwrap());
    let xlsx = get(addr, "/api/whitelist", None).expect(200);
    assert!(xlsx.body.starts_with(b"PK"));

    // The audit log: admins only; it records the acts and the failed logins; no route changes it.
    get(addr, "/api/audit", Some(&analyst)).expect(403);
    let log = get(addr, "/api/audit?limit=1000", Some(&admin))
        .expect(200)
        .json();
    let acts: Vec<(String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["act"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for want in [
        ("login", "failed"),
        ("login", "ok"),
        ("upload enterprises", "ok"),
        ("score", "ok"),
        ("seed", "ok"),
        ("seed", "refused"),
        ("draw", "ok"),
        ("draw", "refused"),
        ("whitelist", "ok"),
        ("results", "ok"),
        ("users add", "ok"),
    ] {
        assert!(
            acts.iter().any(|(a, o)| a == want.0 && o == want.1),
            "{want:?} not in {acts:?}"
        );
    }
    assert_eq!(
        acts.iter()
            .filter(|(a, o)| a == "draw" && o == "ok")
            .count(),
        1
    );
    for method in ["PUT", "DELETE", "PATCH"] {
        let a = http(addr, method, "/api/audit", Some(&admin), None, b"");
        assert_eq!(a.status, 405, "{method}");
    }
    let after = get(addr, "/api/audit?limit=1000", Some(&admin))
        .expect(200)
        .json();
    assert_eq!(
        after.as_array().unwrap().len(),
        log.as_array().unwrap().len()
    );

    // kill -9, restart: every committed act is there, the manifest byte-identical.
    server.kill();
    // A second server on the same folder is refused while the first runs.
    let first = Server::start(&data, &[]);
    let second = Command::new(assert_cmd::cargo::cargo_bin("spotcheck"))
        .args(["serve", "--data"])
        .arg(&data)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("another spotcheck server"), "{err}");
    let again = get(
        first.addr,
        &format!("/api/months/{MONTH}/draws/market/manifest"),
        None,
    )
    .expect(200)
    .body;
    assert_eq!(again, manifest);
    post_json(
        first.addr,
        &format!("/api/months/{MONTH}/draws"),
        Some(&analyst),
        &json!({"department": "market"}),
    )
    .expect(409);
}

#[test]
fn bad_input_gets_4xx_json_never_500() {
    let w = Work::new();
    let data = w.path("console");
    let (_, token) = add_user(&w, &data, "bob", "analyst");
    let server = Server::start(&data, &["--max-upload-mib", "1"]);
    let a = server.addr;
    let t = Some(token.as_str());
    let up = |path: &str, ct: Option<&str>, body: &[u8]| http(a, "POST", path, t, ct, body);
    // Bad month, unknown table, unknown format, empty body, garbage, a missing column.
    up(
        "/api/months/2026-13/inputs/enterprises",
        Some("text/csv"),
        b"a",
    )
    .expect(400);
    up(
        "/api/months/202612/inputs/enterprises",
        Some("text/csv"),
        b"a",
    )
    .expect(400);
    up("/api/months/2026-12/inputs/people", Some("text/csv"), b"a").expect(404);
    up(
        "/api/months/2026-12/inputs/enterprises",
        None,
        b"a,b\n1,2\n",
    )
    .expect(400);
    up(
        "/api/months/2026-12/inputs/enterprises?format=docx",
        None,
        b"a",
    )
    .expect(400);
    up(
        "/api/months/2026-12/inputs/enterprises",
        Some("text/csv"),
        b"",
    )
    .expect(400);
    up(
        "/api/months/2026-12/inputs/enterprises?format=parquet",
        None,
        b"not parquet at all",
    )
    .expect(400);
    let v = up(
        "/api/months/2026-12/inputs/enterprises",
        Some("text/csv"),
        b"name,district\nA,110101\n",
    )
    .expect(400)
    .json();
    assert!(v["message"].as_str().unwrap().contains("uscc"), "{v}");
    // The message names the upload, never the server's own storage path.
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("the upload") && !m.contains("files/"), "{v}");
    up(
        "/api/months/2026-12/inputs/enterprises?format=xlsx",
        None,
        b"PK\x03\x04 broken zip",
    )
    .expect(400);
    // Over the upload limit: 413.
    let big = vec![b'a'; 2 << 20];
    up(
        "/api/months/2026-12/inputs/enterprises",
        Some("text/csv"),
        &big,
    )
    .expect(413);
    // Rows with bad values are rejects, not errors.
    let v = up(
        "/api/months/2026-12/inputs/enterprises",
        Some("text/csv"),
        b"uscc,name,district,tier\nBAD,A,110101,innovative\n",
    )
    .expect(200)
    .json();
    assert_eq!(
        (v["read"].as_u64(), v["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["rejects"][0]["reason"], "USCC_MALFORMED");
    assert!(v["rejects_file"].is_string());
    // JSON bodies: not JSON, wrong fields, bad values.
    let j = |path: &str, body: &[u8]| http(a, "POST", path, t, Some("application/json"), body);
    j("/api/months/2026-12/seeds", b"{").expect(400);
    j("/api/months/2026-12/seeds", b"{\"seed\": 1}").expect(400);
    j(
        "/api/months/2026-12/seeds",
        b"{\"department\": \"police\", \"seed\": \"x\"}",
    )
    .expect(400);
    j(
        "/api/months/2026-12/seeds",
        b"{\"department\": \"market\", \"seed\": \"  \"}",
    )
    .expect(400);
    j(
        "/api/months/2026-12/draws",
        b"{\"department\": \"market\", \"strata\": \"planet\"}",
    )
    .expect(400);
    j(
        "/api/months/2026-12/draws",
        b"{\"department\": \"market\", \"capacity\": -3}",
    )
    .expect(400);
    j("/api/whitelist", b"{\"as_of\": \"yesterday\"}").expect(400);
    // Not scored: score and draws are conflicts, not failures.
    j("/api/months/2026-11/score", b"{}").expect(409);
    j(
        "/api/months/2026-12/seeds",
        b"{\"department\": \"market\", \"seed\": \"s\"}",
    )
    .expect(200);
    j("/api/months/2026-12/draws", b"{\"department\": \"market\"}").expect(409);
    j("/api/whitelist", b"{\"as_of\": \"2026-12-01\"}").expect(409);
    // Lookups of what is not there.
    get(a, "/api/jobs/999", t).expect(404);
    get(a, "/api/jobs/abc", t).expect(400);
    get(a, "/api/months/2026-12/scored", t).expect(404);
    get(a, "/api/months/2026-12/scored?format=pdf", t).expect(400);
    get(a, "/api/months/2026-12/draws/market/manifest", None).expect(404);
    get(a, "/api/months/2026-12/draws/police/public", None).expect(400);
    get(a, "/api/files/..%2Fspotcheck.db", t).expect(400);
    get(a, &format!("/api/files/{}.csv", "0".repeat(64)), t).expect(404);
    get(a, "/public/verify?month=2026-12", None).expect(400);
    get(a, "/api/whitelist", None).expect(404);
    get(a, "/nowhere", None).expect(404);
    // A table whose every row is rejected scores to an empty table: a done job, not a crash.
    let job = j("/api/months/2026-12/score", b"{}").expect(202).json()["job"]
        .as_i64()
        .unwrap();
    let started = Instant::now();
    loop {
        let v = get(a, &format!("/api/jobs/{job}"), t).expect(200).json();
        if v["state"] == "done" || v["state"] == "failed" {
            assert_eq!(v["state"], "done", "{v}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every route the OpenAPI document lists answers with a status it documents, with and without
/// credentials, on a store that has a drawn month.
#[test]
fn every_documented_route_answers_as_documented() {
    let w = Work::new();
    let data = w.path("console");
    let (_, admin) = add_user(&w, &data, "alice", "admin");
    let server = Server::start(&data, &[]);
    let a = server.addr;
    upload_and_score(a, &admin);
    post_json(
        a,
        &format!("/api/months/{MONTH}/seeds"),
        Some(&admin),
        &json!({"department": "market", "seed": SEED}),
    )
    .expect(200);
    let drawn = post_json(
        a,
        &format!("/api/months/{MONTH}/draws"),
        Some(&admin),
        &json!({"department": "market"}),
    )
    .expect(200)
    .json();
    let doc = get(a, "/api/openapi.json", None).expect(200).json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    // Every route of SPEC §10 that this part builds is documented.
    for p in [
        "/api/months/{month}/inputs/{kind}",
        "/api/months/{month}/score",
        "/api/jobs/{job}",
        "/api/months/{month}/scored",
        "/api/months/{month}/seeds",
        "/api/months/{month}/draws",
        "/api/months/{month}/draws/{department}",
        "/api/months/{month}/draws/{department}/manifest",
        "/api/months/{month}/draws/{department}/public",
        "/api/months/{month}/results",
        "/api/months/{month}/estimates",
        "/api/whitelist",
        "/api/audit",
        "/public/verify",
    ] {
        assert!(paths.contains_key(p), "{p} is not documented");
    }
    let file = drawn["manifest_file"].as_str().unwrap();
    let mut calls = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let documented: Vec<u16> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.parse().unwrap())
                .collect();
            let secured = op.get("security").is_some();
            let concrete = path
                .replace("{month}", MONTH)
                .replace("{kind}", "history")
                .replace("{job}", "1")
                .replace("{department}", "market")
                .replace("{name}", file);
            let concrete = if concrete == "/public/verify" {
                format!("{concrete}?month={MONTH}&department=market")
            } else {
                concrete
            };
            let m = method.to_ascii_uppercase();
            let body: &[u8] = if m == "POST" { b"{}" } else { b"" };
            for token in [None, Some(admin.as_str())] {
                let ans = http(a, &m, &concrete, token, Some("application/json"), body);
                assert!(
                    documented.contains(&ans.status),
                    "{m} {concrete} (token: {}) answered {} not among {documented:?}: {}",
                    token.is_some(),
                    ans.status,
                    String::from_utf8_lossy(&ans.body)
                );
                if token.is_none() && secured {
                    assert_eq!(ans.status, 401, "{m} {concrete} without a token");
                }
                if token.is_some() || !secured {
                    assert_ne!(ans.status, 401, "{m} {concrete}");
                }
                calls += 1;
            }
        }
    }
    assert!(calls >= 30, "{calls}");
}

/// kill -9 in the middle of a score job and of a draw: after a restart the job is failed (never
/// left running), and the draw either is there complete (it verifies) or is not there at all
/// (and can be made).
#[test]
fn a_kill_mid_act_leaves_no_half_finished_work() {
    let w = Work::new();
    let data = w.path("console");
    let (_, token) = add_user(&w, &data, "bob", "analyst");
    let t = Some(token.as_str());
    let mut server = Server::start(&data, &[]);
    upload_and_score(server.addr, &token);
    post_json(
        server.addr,
        &format!("/api/months/{MONTH}/seeds"),
        t,
        &json!({"department": "ecology", "seed": SEED}),
    )
    .expect(200);
    // A second score job and a draw, both cut off by kill -9.
    let job = post_json(
        server.addr,
        &format!("/api/months/{MONTH}/score"),
        t,
        &json!({}),
    )
    .expect(202)
    .json()["job"]
        .as_i64()
        .unwrap();
    let addr = server.addr;
    let tok = token.clone();
    let racer = std::thread::spawn(move || {
        let _ = std::panic::catch_unwind(|| {
            post_json(
                addr,
                &format!("/api/months/{MONTH}/draws"),
                Some(&tok),
                &json!({"department": "ecology"}),
            )
        });
    });
    std::thread::sleep(Duration::from_millis(30));
    server.kill();
    let _ = racer.join();
    let server = Server::start(&data, &[]);
    let a = server.addr;
    let v = get(a, &format!("/api/jobs/{job}"), t).expect(200).json();
    assert!(v["state"] == "failed" || v["state"] == "done", "{v}");
    let verify = get(
        a,
        &format!("/public/verify?month={MONTH}&department=ecology"),
        None,
    );
    match verify.status {
        200 => assert_eq!(verify.json()["verified"], true),
        404 => {
            post_json(
                a,
                &format!("/api/months/{MONTH}/draws"),
                t,
                &json!({"department": "ecology"}),
            )
            .expect(200);
            let v = get(
                a,
                &format!("/public/verify?month={MONTH}&department=ecology"),
                None,
            )
            .expect(200)
            .json();
            assert_eq!(v["verified"], true);
        }
        s => panic!("verify answered {s}"),
    }
    // No temporary file of the killed run is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(data.join("files"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
