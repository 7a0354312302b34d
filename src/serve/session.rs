//! The console's browser sessions (SPEC §10, OWASP ASVS level 1): a random session id in an
//! `HttpOnly; SameSite=Strict` cookie, a CSRF token per session that every form carries and every
//! POST checks, a new session id on sign-in (no session fixation), sign-out, idle expiry, and a
//! lock-out after repeated failed sign-ins — counted from the store's append-only audit log, so it
//! holds across restarts and every refusal is itself recorded there.
//!
//! Sessions live in memory: a restarted server asks people to sign in again (nothing of the month
//! is lost; every act is in the store). The page's language (`?lang=en|zh`, remembered in a
//! cookie; Chinese by default) is read here too, since every page needs it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::Rng;
use rusqlite::params;

use super::AppState;
use super::auth::{Role, User, hash_password, verify_password};
use super::error::ApiError;
use super::store::{self, AuditEntry};
use crate::schema::Lang;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sc_session";
/// The language cookie's name.
pub const LANG_COOKIE: &str = "sc_lang";
/// Failed sign-ins of one name within [`LOCKOUT_WINDOW_MINUTES`] that lock it.
pub const LOCKOUT_FAILURES: i64 = 5;
/// The window (and so the lock's length) in minutes.
pub const LOCKOUT_WINDOW_MINUTES: i64 = 15;
/// A session unused this long is forgotten.
pub const IDLE: Duration = Duration::from_secs(8 * 3600);

/// One browser's session: anonymous (for the sign-in form's CSRF token) or signed in.
#[derive(Debug, Clone)]
struct Session {
    user: Option<User>,
    csrf: String,
    seen: Instant,
}

/// The sessions of the running server.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    crate::table::hex(&b)
}

/// Compares two strings in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live session of `sid`, touching it.
    fn get(&self, sid: &str) -> Option<Session> {
        let mut m = self.lock();
        let now = Instant::now();
        m.retain(|_, s| now.duration_since(s.seen) < IDLE);
        let s = m.get_mut(sid)?;
        s.seen = now;
        Some(s.clone())
    }

    /// Starts a session (anonymous when `user` is None); returns (id, CSRF token).
    fn create(&self, user: Option<User>) -> (String, String) {
        let (sid, csrf) = (random_hex(32), random_hex(32));
        self.lock().insert(
            sid.clone(),
            Session {
                user,
                csrf: csrf.clone(),
                seen: Instant::now(),
            },
        );
        (sid, csrf)
    }

    /// Forgets a session.
    pub fn remove(&self, sid: &str) {
        self.lock().remove(sid);
    }
}

/// The cookies of a request, by name.
fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// What every page knows of its request: the language, the session (created when missing) and
/// the signed-in user, and the cookies the answer must set.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub sid: String,
    pub csrf: String,
    pub user: Option<User>,
    /// The request's path (for the language switch and sign-in's return).
    pub path: String,
    /// `Set-Cookie` values for the answer.
    pub set_cookies: Vec<String>,
}

impl Ctx {
    /// The text in the page's language.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// Whether the CSRF token sent with a form is this session's.
    pub fn csrf_ok(&self, sent: Option<&str>) -> bool {
        sent.is_some_and(|s| same(s, &self.csrf))
    }
}

fn session_cookie(sid: &str) -> String {
    format!("{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Strict")
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Ctx, Self::Rejection> {
        let mut set_cookies = Vec::new();
        let query_lang = parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "lang")
                .map(|(_, v)| v.to_string())
        });
        let lang = match query_lang.as_deref() {
            Some("en") => {
                set_cookies.push(format!(
                    "{LANG_COOKIE}=en; Path=/; SameSite=Strict; Max-Age=31536000"
                ));
                Lang::En
            }
            Some("zh") => {
                set_cookies.push(format!(
                    "{LANG_COOKIE}=zh; Path=/; SameSite=Strict; Max-Age=31536000"
                ));
                Lang::Zh
            }
            _ => match cookie(parts, LANG_COOKIE) {
                Some("en") => Lang::En,
                _ => Lang::Zh,
            },
        };
        let found = cookie(parts, SESSION_COOKIE)
            .and_then(|sid| state.sessions.get(sid).map(|s| (sid.to_string(), s)));
        let (sid, csrf, user) = match found {
            Some((sid, s)) => (sid, s.csrf, s.user),
            None => {
                let (sid, csrf) = state.sessions.create(None);
                set_cookies.push(session_cookie(&sid));
                (sid, csrf, None)
            }
        };
        Ok(Ctx {
            lang,
            sid,
            csrf,
            user,
            path: parts.uri.path().to_string(),
            set_cookies,
        })
    }
}

/// Why a sign-in did not sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInError {
    /// Wrong name or password (the answer does not say which).
    Wrong,
    /// Too many failures: locked until the window passes.
    Locked,
}

/// Whether `name` is locked out: [`LOCKOUT_FAILURES`] failed sign-ins in the last
/// [`LOCKOUT_WINDOW_MINUTES`] since its last successful one. The one rule for the pages' sign-in
/// and `POST /api/login`, counted from the audit log (both write their failures there as
/// `login`/`failed`, so failures through either count for both).
pub fn locked_out(c: &rusqlite::Connection, name: &str) -> Result<bool, ApiError> {
    Ok(recent_failures(c, name)? >= LOCKOUT_FAILURES)
}

/// The audit detail of a refused (locked-out) sign-in.
pub fn locked_detail(via: &str) -> String {
    format!(
        "{via}: locked out after {LOCKOUT_FAILURES} failed sign-ins in {LOCKOUT_WINDOW_MINUTES} minutes"
    )
}

/// Failed sign-ins of `name` in the window, since its last successful one.
fn recent_failures(c: &rusqlite::Connection, name: &str) -> Result<i64, ApiError> {
    let since = format!("-{LOCKOUT_WINDOW_MINUTES} minutes");
    Ok(c.query_row(
        "SELECT COUNT(*) FROM audit WHERE act = 'login' AND outcome = 'failed' AND user = ?1
         AND at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?2)
         AND id > COALESCE((SELECT MAX(id) FROM audit WHERE act = 'login' AND outcome = 'ok'
                            AND user = ?1), 0)",
        params![name, since],
        |r| r.get(0),
    )?)
}

/// Signs in through the console: checks the lock-out, then the password; records the outcome in
/// the audit log; on success replaces the browser's session with a new one (a new id and CSRF
/// token) and returns the cookie to set.
pub fn sign_in(
    state: &AppState,
    old_sid: &str,
    name: &str,
    password: &str,
) -> Result<String, SignInError> {
    let s = &state.store;
    let fail = |outcome: &str, detail: &str| {
        let _ = s.audit(&AuditEntry {
            user: Some(name),
            act: "login",
            outcome,
            detail,
            ..Default::default()
        });
    };
    let locked = s.with(|c| locked_out(c, name)).unwrap_or(true);
    if locked {
        fail("refused", &locked_detail("console"));
        return Err(SignInError::Locked);
    }
    let found = s.with(|c| store::user_by_name(c, name)).ok().flatten();
    let user = match &found {
        Some((u, hash)) if verify_password(password, hash) => {
            Role::parse(&u.role).map(|role| User {
                name: u.name.clone(),
                role,
            })
        }
        Some(_) => None,
        None => {
            // The same time as a real check, so the answer does not tell names apart.
            let _ = hash_password(password);
            None
        }
    };
    let Some(user) = user else {
        fail("failed", "console: wrong name or password");
        return Err(SignInError::Wrong);
    };
    if s.audit(&AuditEntry {
        user: Some(name),
        act: "login",
        outcome: "ok",
        detail: "console",
        ..Default::default()
    })
    .is_err()
    {
        return Err(SignInError::Wrong);
    }
    state.sessions.remove(old_sid);
    let (sid, _) = state.sessions.create(Some(user));
    Ok(session_cookie(&sid))
}

/// Signs out: forgets the session and records it; returns the cookie that clears the browser's.
pub fn sign_out(state: &AppState, ctx: &Ctx) -> String {
    if let Some(u) = &ctx.user {
        let _ = state.store.audit(&AuditEntry {
            user: Some(&u.name),
            act: "logout",
            outcome: "ok",
            detail: "console",
            ..Default::default()
        });
    }
    state.sessions.remove(&ctx.sid);
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_rotate_and_forget() {
        let s = Sessions::default();
        let (a, csrf_a) = s.create(None);
        let (b, csrf_b) = s.create(None);
        assert_ne!(a, b);
        assert_ne!(csrf_a, csrf_b);
        assert_eq!(a.len(), 64);
        assert!(s.get(&a).is_some());
        s.remove(&a);
        assert!(s.get(&a).is_none());
        assert!(s.get(&b).is_some());
    }

    #[test]
    fn csrf_compare() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
