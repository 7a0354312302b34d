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
    assert!(refused.iter().all(|e| e["detail"]
        .as_str()
        .unwrap()
        .contains("locked out")));
    assert!(refused.iter().any(|e| e["detail"]
        .as_str()
        .unwrap()
        .starts_with("api:")));
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
