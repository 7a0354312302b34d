//! The console's pages (issue 15) against the real `spotcheck serve`: what a browser test cannot
//! easily show — a form posted without or with a wrong CSRF token does nothing, pages without a
//! session send to sign-in, the session id changes on sign-in and dies on sign-out, the cookie is
//! HttpOnly and SameSite=Strict, and repeated failed sign-ins lock the account, each recorded in
//! the audit log. Plain HTTP/1.1 over std sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::Work;

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("spotcheck"))
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
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
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server { child, addr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The session cookie this answer sets, if any.
    fn session(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .find_map(|(_, v)| v.strip_prefix("sc_session="))
            .map(|v| v.split(';').next().unwrap_or("").to_string())
    }

    /// The CSRF token of the page's forms.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no CSRF field in {}", self.body));
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    session: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(c) = session {
        head.push_str(&format!("Cookie: sc_session={c}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect::<Vec<_>>();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// `users add`: (password, token).
fn add_user(data: &Path, name: &str, role: &str) -> (String, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin("spotcheck"))
        .args(["users", "add", name, "--role", role, "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let get = |p: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(p))
            .unwrap()
            .to_string()
    };
    (get("password: "), get("token: "))
}

/// Opens the sign-in page and signs in: the new session id.
fn sign_in(addr: SocketAddr, name: &str, password: &str) -> String {
    let page = http(addr, "GET", "/signin", None, &[], "");
    let anon = page.session().expect("an anonymous session for the form");
    let body = format!(
        "csrf={}&name={name}&password={password}&next=/months",
        page.csrf()
    );
    let r = http(addr, "POST", "/signin", Some(&anon), &[FORM], &body);
    assert_eq!(r.status, 303, "{}", r.body);
    let sid = r.session().expect("a new session on sign-in");
    assert_ne!(sid, anon, "the session id changes on sign-in");
    sid
}

#[test]
fn pages_need_a_session_and_a_csrf_token() {
    let w = Work::new();
    let data = w.path("console");
    let (pw, _) = add_user(&data, "ana", "analyst");
    let srv = Server::start(&data);
    let a = srv.addr;

    // Without a session: GET and POST send to sign-in, and nothing is done.
    let r = http(a, "GET", "/months/2026-12", None, &[], "");
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/signin?next=/months/2026-12"));
    let r = http(
        a,
        "POST",
        "/months/2026-12/seeds",
        None,
        &[FORM],
        "department=market&seed=1",
    );
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/signin"));

    // The cookie: HttpOnly and SameSite=Strict.
    let page = http(a, "GET", "/signin", None, &[], "");
    let cookie = page
        .headers
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with("sc_session="))
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    // Sign-in without or with another session's CSRF token: refused, not signed in.
    let anon = page.session().unwrap();
    let body = format!("name=ana&password={pw}");
    let r = http(a, "POST", "/signin", Some(&anon), &[FORM], &body);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.session().is_none());
    let other = http(a, "GET", "/signin", None, &[], "").csrf();
    let r = http(
        a,
        "POST",
        "/signin",
        Some(&anon),
        &[FORM],
        &format!("csrf={other}&{body}"),
    );
    assert_eq!(r.status, 403);

    let sid = sign_in(a, "ana", &pw);
    let month = http(a, "GET", "/months/2026-12", Some(&sid), &[], "");
    assert_eq!(month.status, 200);
    assert!(month.body.contains("<html lang=\"zh-CN\">"));
    let csrf = month.csrf();

    // A POST without the token, or with a wrong one, does nothing.
    let r = http(
        a,
        "POST",
        "/months/2026-12/seeds",
        Some(&sid),
        &[FORM],
        "department=market&seed=SEED-A",
    );
    assert_eq!(r.status, 403);
    let r = http(
        a,
        "POST",
        "/months/2026-12/seeds",
        Some(&sid),
        &[FORM],
        &format!(
            "csrf={}&department=market&seed=SEED-A",
            "0".repeat(csrf.len())
        ),
    );
    assert_eq!(r.status, 403);
    let month = http(a, "GET", "/months/2026-12", Some(&sid), &[], "");
    assert!(
        !month.body.contains("SEED-A"),
        "a refused form changed nothing"
    );

    // With the token: done.
    let r = http(
        a,
        "POST",
        "/months/2026-12/seeds",
        Some(&sid),
        &[FORM],
        &format!("csrf={csrf}&department=market&seed=SEED-B"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let month = http(a, "GET", "/months/2026-12", Some(&sid), &[], "");
    assert!(month.body.contains("SEED-B"));

    // An empty seed: the error beside the field and in the summary, in the page's language.
    let r = http(
        a,
        "POST",
        "/months/2026-12/seeds?lang=en",
        Some(&sid),
        &[FORM],
        &format!("csrf={csrf}&department=market&seed="),
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("class=\"error-summary\""));
    assert!(
        r.body
            .contains("id=\"seed-error\">Enter the announced seed")
    );

    // Sign out (with the token): the old session id is dead.
    let r = http(
        a,
        "POST",
        "/signout",
        Some(&sid),
        &[FORM],
        &format!("csrf={csrf}"),
    );
    assert_eq!(r.status, 303);
    let r = http(a, "GET", "/months/2026-12", Some(&sid), &[], "");
    assert_eq!(r.status, 303);
}

#[test]
fn repeated_failed_sign_ins_lock_the_account_in_the_audit_log() {
    let w = Work::new();
    let data = w.path("console");
    let (pw, _) = add_user(&data, "ana", "analyst");
    let (admin_pw, admin_token) = add_user(&data, "root", "admin");
    let (bob_pw, _) = add_user(&data, "bob", "analyst");
    let srv = Server::start(&data);
    let a = srv.addr;

    let page = http(a, "GET", "/signin", None, &[], "");
    let (anon, csrf) = (page.session().unwrap(), page.csrf());
    for _ in 0..5 {
        let r = http(
            a,
            "POST",
            "/signin",
            Some(&anon),
            &[FORM],
            &format!("csrf={csrf}&name=ana&password=wrong"),
        );
        assert_eq!(r.status, 401);
        assert!(r.body.contains("id=\"password-error\""));
    }
    // Locked: even the right password is refused now.
    let r = http(
        a,
        "POST",
        "/signin",
        Some(&anon),
        &[FORM],
        &format!("csrf={csrf}&name=ana&password={pw}"),
    );
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.session().is_none());
    assert!(r.body.contains("锁定"));

    // The API's sign-in shares the rule: ana, locked through the pages, is locked there too.
    let api_login = |name: &str, password: &str| {
        http(
            a,
            "POST",
            "/api/login",
            None,
            &[("Content-Type", "application/json")],
            &serde_json::json!({"name": name, "password": password}).to_string(),
        )
    };
    let r = api_login("ana", &pw);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("too_many_requests"), "{}", r.body);

    // And failures through the API lock both doors: bob fails 5 times at /api/login …
    for _ in 0..5 {
        assert_eq!(api_login("bob", "wrong").status, 401);
    }
    // … then the right password is refused at the API and at the pages' sign-in.
    let r = api_login("bob", &bob_pw);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(!r.body.contains("token"), "{}", r.body);
    let r = http(
        a,
        "POST",
        "/signin",
        Some(&anon),
        &[FORM],
        &format!("csrf={csrf}&name=bob&password={bob_pw}"),
    );
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.session().is_none());

    // Another account is not locked.
    sign_in(a, "root", &admin_pw);
    let audit = http(
        a,
        "GET",
        "/api/audit?limit=100",
        None,
        &[("Authorization", &format!("Bearer {admin_token}"))],
        "",
    );
    assert_eq!(audit.status, 200);
    let v: serde_json::Value = serde_json::from_str(&audit.body).unwrap();
    let entries = v.as_array().unwrap();
    let failed = entries
        .iter()
        .filter(|e| e["act"] == "login" && e["user"] == "ana" && e["outcome"] == "failed")
        .count();
    assert_eq!(failed, 5);
    let refused: Vec<_> = entries
        .iter()
        .filter(|e| e["act"] == "login" && e["user"] == "ana" && e["outcome"] == "refused")
        .collect();
    // One refusal through the pages, one through the API, each saying so.
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|e| e["detail"].as_str().unwrap().contains("locked out"))
    );
    assert!(
        refused
            .iter()
            .any(|e| e["detail"].as_str().unwrap().starts_with("api:"))
    );
    let bob = |outcome: &str| {
        entries
            .iter()
            .filter(|e| e["act"] == "login" && e["user"] == "bob" && e["outcome"] == outcome)
            .count()
    };
    assert_eq!((bob("failed"), bob("refused"), bob("ok")), (5, 2, 0));
    assert!(
        !entries
            .iter()
            .any(|e| e["act"] == "login" && e["user"] == "ana" && e["outcome"] == "ok")
    );
}

/// An API call with a bearer token: (status, JSON body or Null).
fn api(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let auth = format!("Bearer {token}");
    let r = http(
        addr,
        method,
        path,
        None,
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        body,
    );
    let v = serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null);
    (r.status, v)
}

/// Uploads the sample enterprises and inspectors, scores, announces a seed and draws the market
/// sample through the API; returns the sample CSV and the stored manifest's name.
fn drawn_month(addr: SocketAddr, token: &str) -> (String, String) {
    let sample =
        |f: &str| std::fs::read_to_string(super::repo().join("data/sample").join(f)).unwrap();
    for kind in ["enterprises", "emissions", "inspectors"] {
        let (s, v) = api(
            addr,
            "POST",
            &format!("/api/months/2026-12/inputs/{kind}"),
            token,
            &sample(&format!("{kind}.csv")),
        );
        assert_eq!(s, 200, "{v}");
    }
    let (s, v) = api(addr, "POST", "/api/months/2026-12/score", token, "");
    assert_eq!(s, 202, "{v}");
    let job = v["job"].as_i64().unwrap();
    let started = std::time::Instant::now();
    loop {
        let (_, v) = api(addr, "GET", &format!("/api/jobs/{job}"), token, "");
        match v["state"].as_str().unwrap() {
            "done" => break,
            "queued" | "running" => {}
            other => panic!("job {other}: {v}"),
        }
        assert!(started.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(50));
    }
    let json = |v: serde_json::Value| v.to_string();
    let auth = format!("Bearer {token}");
    let mut manifest = String::new();
    for (path, body) in [
        (
            "/api/months/2026-12/seeds",
            json(serde_json::json!({"department": "market", "seed": "S"})),
        ),
        (
            "/api/months/2026-12/draws",
            json(serde_json::json!({"department": "market"})),
        ),
    ] {
        let r = http(
            addr,
            "POST",
            path,
            None,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            &body,
        );
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        if let Some(m) = v["manifest_file"].as_str() {
            manifest = m.to_string();
        }
    }
    let sample = http(
        addr,
        "GET",
        "/api/months/2026-12/draws/market?format=csv",
        None,
        &[("Authorization", &auth)],
        "",
    )
    .body;
    (sample, manifest)
}

#[test]
fn inspectors_enter_their_own_teams_results_with_a_csrf_token() {
    let w = Work::new();
    let data = w.path("console");
    let (ana_pw, ana) = add_user(&data, "ana", "analyst");
    let (_, root) = add_user(&data, "root", "admin");
    let srv = Server::start(&data);
    let a = srv.addr;
    let (sample, manifest) = drawn_month(a, &ana);

    // The sample's tasks: (code, team ids).
    let mut lines = sample.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (cu, ci) = (col("uscc"), col("inspectors"));
    let tasks: Vec<(String, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[cu].to_string(), f[ci].to_string())
        })
        .collect();
    assert!(tasks.len() > 2, "{sample}");
    let me = tasks[0].1.split(';').next().unwrap().to_string();
    let mine = tasks[0].0.clone();
    let (other, _) = tasks
        .iter()
        .find(|(_, team)| !team.split(';').any(|t| t == me))
        .expect("a task of another team")
        .clone();
    let (pw, token) = add_user(&data, &me, "inspector");
    let sid = sign_in(a, &me, &pw);

    // The tasks page lists the inspector's own team's enterprises only.
    let page = http(a, "GET", "/tasks", Some(&sid), &[], "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&mine), "{}", page.body);
    assert!(!page.body.contains(&other));
    let csrf = page.csrf();
    let own = format!("/months/2026-12/entries/market/{mine}");
    let theirs = format!("/months/2026-12/entries/market/{other}");
    let good = "result=no_problem&inspected_on=2026-12-15&note=ok";
    let estimates = || api(a, "GET", "/api/months/2026-12/estimates", &ana, "").0;

    // Another team's enterprise: refused to the inspector, form and POST, even with the token.
    assert_eq!(http(a, "GET", &theirs, Some(&sid), &[], "").status, 403);
    let r = http(
        a,
        "POST",
        &theirs,
        Some(&sid),
        &[FORM],
        &format!("csrf={csrf}&{good}"),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // Another department of the own enterprise: not theirs either (no ecology draw: 404).
    let r = http(
        a,
        "POST",
        &format!("/months/2026-12/entries/ecology/{mine}"),
        Some(&sid),
        &[FORM],
        &format!("csrf={csrf}&{good}"),
    );
    assert_eq!(r.status, 404, "{}", r.body);
    // The month's pages and the API's results upload are not for inspectors.
    assert_eq!(
        http(a, "GET", "/months/2026-12", Some(&sid), &[], "").status,
        403
    );
    let (s, _) = api(
        a,
        "POST",
        "/api/months/2026-12/results",
        &token,
        "uscc,month,department,inspected_on,result\n",
    );
    assert_eq!(s, 403);

    // The own enterprise without the CSRF token, or with a wrong one: nothing recorded.
    assert_eq!(http(a, "GET", &own, Some(&sid), &[], "").status, 200);
    let r = http(a, "POST", &own, Some(&sid), &[FORM], good);
    assert_eq!(r.status, 403);
    let wrong = "0".repeat(csrf.len());
    let r = http(
        a,
        "POST",
        &own,
        Some(&sid),
        &[FORM],
        &format!("csrf={wrong}&{good}"),
    );
    assert_eq!(r.status, 403);
    // Without a session at all: to the sign-in page.
    let r = http(a, "POST", &own, None, &[FORM], good);
    assert_eq!(r.status, 303);
    assert_eq!(estimates(), 404, "nothing was recorded");

    // A date before the draw month, or no result: the errors beside their fields, in the page's
    // language; nothing recorded.
    let r = http(
        a,
        "POST",
        &format!("{own}?lang=en"),
        Some(&sid),
        &[FORM],
        &format!("csrf={csrf}&result=&inspected_on=2026-11-30"),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body
            .contains("id=\"result-error\">Choose the result of the inspection"),
        "{}",
        r.body
    );
    let r = http(
        a,
        "POST",
        &own,
        Some(&sid),
        &[FORM],
        &format!("csrf={csrf}&result=no_problem&inspected_on=2026-11-30&violations=-1"),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body
            .contains("id=\"inspected_on-error\">检查日期不能早于抽查月份 2026-12"),
        "{}",
        r.body
    );
    // The library reads a row up to its first bad cell: the next error shows once this is mended.
    let r = http(
        a,
        "POST",
        &own,
        Some(&sid),
        &[FORM],
        &format!("csrf={csrf}&result=no_problem&inspected_on=2026-12-15&violations=-1"),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body
            .contains("id=\"violations-error\">问题数应为不小于 0 的整数"),
        "{}",
        r.body
    );
    assert_eq!(estimates(), 404, "nothing was recorded");

    // With the token and good values: recorded, counted, estimated.
    let r = http(
        a,
        "POST",
        &own,
        Some(&sid),
        &[FORM],
        &format!("csrf={csrf}&{good}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = http(a, "GET", "/tasks", Some(&sid), &[], "");
    assert!(page.body.contains("id=\"tasks-done\">1<"), "{}", page.body);
    assert_eq!(estimates(), 200);

    // An analyst may enter any drawn enterprise's result, not an undrawn one.
    let asid = sign_in(a, "ana", &ana_pw);
    let acsrf = http(a, "GET", "/tasks", Some(&asid), &[], "").csrf();
    let r = http(
        a,
        "POST",
        &theirs,
        Some(&asid),
        &[FORM],
        &format!("csrf={acsrf}&result=problem_pending&inspected_on=2026-12-16"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let r = http(
        a,
        "POST",
        "/months/2026-12/entries/market/91110000000000000X",
        Some(&asid),
        &[FORM],
        &format!("csrf={acsrf}&{good}"),
    );
    assert_eq!(r.status, 404, "{}", r.body);

    // The draw page's GET form sends to the entry form; without a code it says so (no 404).
    let r = http(
        a,
        "GET",
        &format!(
            "/months/2026-12/entries?department=market&uscc={}",
            other.to_lowercase()
        ),
        Some(&asid),
        &[],
        "",
    );
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some(&*theirs));
    let r = http(
        a,
        "GET",
        "/months/2026-12/entries?department=market&uscc=",
        Some(&asid),
        &[],
        "",
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("统一社会信用代码"), "{}", r.body);

    // An upload merges with the entries: its row for the inspector's enterprise replaces the
    // entry, the analyst's entry stays.
    let (s, v) = api(
        a,
        "POST",
        "/api/months/2026-12/results",
        &ana,
        &format!(
            "uscc,month,department,inspected_on,result\n{mine},2026-12,market,2026-12-20,closed\n"
        ),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["accepted"].as_u64(), v["replaced"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["results_rows"].as_u64(), Some(2), "{v}");
    let (_, est) = {
        let auth = format!("Bearer {ana}");
        let r = http(
            a,
            "GET",
            "/api/months/2026-12/estimates",
            None,
            &[("Authorization", &auth)],
            "",
        );
        (r.status, r.body)
    };
    // market, all: drawn, inspected 1 (the analyst's violation), the rest pending, out of scope 1
    // (the upload's "closed" replaced the inspector's "no problem"), violations 1.
    let all = est
        .lines()
        .find(|l| l.starts_with("2026-12,market,all,"))
        .unwrap_or_else(|| panic!("{est}"));
    let f: Vec<&str> = all.split(',').collect();
    let (drawn, pending) = (tasks.len().to_string(), (tasks.len() - 2).to_string());
    assert_eq!(
        (f[5], f[6], f[7], f[8], f[9]),
        (&*drawn, "1", &*pending, "1", "1"),
        "{all}"
    );

    // One path for estimates: the console's are what `spotcheck results` computes from the
    // month's consolidated results table and the stored draw.
    let files = data.join("files");
    let consolidated = v["results_file"].as_str().unwrap();
    let o = w.run(&[
        "results",
        files.join(&manifest).to_str().unwrap(),
        files.join(consolidated).to_str().unwrap(),
        "-o",
        w.path("cli-estimates.csv").to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        est,
        std::fs::read_to_string(w.path("cli-estimates.csv")).unwrap()
    );

    // Every entry is in the audit log: the refused ones and the recorded ones, by whom.
    let (_, log) = api(a, "GET", "/api/audit?limit=1000", &root, "");
    let entries: Vec<&serde_json::Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["act"] == "result entry")
        .collect();
    let by = |user: &str, outcome: &str| {
        entries
            .iter()
            .filter(|e| e["user"] == user && e["outcome"] == outcome)
            .count()
    };
    assert_eq!(
        (by(&me, "refused"), by(&me, "ok"), by("ana", "ok")),
        (3, 1, 1),
        "{entries:?}"
    );
    assert!(entries.iter().all(|e| e["month"] == "2026-12"));
    assert!(entries.iter().any(|e| {
        e["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{mine} market: read 1 = accepted 1"))
    }));
}
