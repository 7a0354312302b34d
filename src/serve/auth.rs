//! Users, roles and credentials (SPEC §10). Passwords are stored as argon2id PHC strings; API
//! tokens are 256 random bits shown once and stored only as their SHA-256 (a token is a random
//! key, not a guessable password, so a fast hash is the right one and keeps each request cheap).
//!
//! Authentication is an extractor: a handler that takes [`Analyst`] or [`Admin`] cannot run
//! without a valid `Authorization: Bearer TOKEN` of that role — 401 without (or with a wrong)
//! token, 403 with a role that may not. Failed sign-ins are written to the audit log.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::Rng;
use rusqlite::params;

use super::AppState;
use super::error::ApiError;
use super::store::{self, AuditEntry, UserRow, now, sha256_hex};

/// A role (SPEC §10): `analyst` uploads, scores, announces seeds, draws and enters results;
/// `admin` also manages users and reads the audit log; `inspector` sees its own tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Analyst,
    Inspector,
}

impl Role {
    /// Parses `admin`, `analyst` or `inspector`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "analyst" => Some(Role::Analyst),
            "inspector" => Some(Role::Inspector),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Inspector => "inspector",
        }
    }
}

/// `n` random bytes as lower-case hex, from the operating system's generator (via a CSPRNG).
fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    crate::table::hex(&b)
}

/// A readable one-time password: 20 characters from an alphabet without look-alikes (≈ 100 bits).
fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY345679";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| {
            // Rejection sampling: no modulo bias.
            loop {
                let mut b = [0u8; 1];
                rng.fill_bytes(&mut b);
                let i = b[0] as usize;
                if i < 250 {
                    return ALPHABET[i % ALPHABET.len()] as char;
                }
            }
        })
        .collect()
}

/// Hashes a password with argon2id (a random salt, the crate's recommended parameters).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches the stored PHC string.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// What `users add` prints once: the password and the token (neither is stored in clear).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub password: String,
    pub token: String,
}

/// Why a user cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("user name {0:?}: use 1–64 letters, digits, '.', '_' or '-'")]
    BadName(String),
    #[error("a user named {0:?} already exists")]
    Exists(String),
    #[error("{0}")]
    Store(#[from] ApiError),
}

/// Adds a user with a fresh password and API token (recorded in the audit log as `users add`).
pub fn add_user(s: &store::Store, name: &str, role: Role) -> Result<NewUser, UserError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(UserError::BadName(name.into()));
    }
    let password = random_password();
    let token = random_hex(32);
    let hash = hash_password(&password)?;
    let token_sha = sha256_hex(token.as_bytes());
    s.with(|c| {
        let tx = c.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM users WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(ApiError::Conflict(name.into()));
        }
        let at = now();
        tx.execute(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, role.as_str(), hash, at],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO tokens (user_id, token_sha256, created_at) VALUES (?1, ?2, ?3)",
            params![id, token_sha, at],
        )?;
        store::audit_in(
            &tx,
            &AuditEntry {
                user: None,
                act: "users add",
                outcome: "ok",
                detail: &format!("{name} ({})", role.as_str()),
                ..Default::default()
            },
        )?;
        tx.commit()?;
        Ok(())
    })
    .map_err(|e| match e {
        ApiError::Conflict(n) => UserError::Exists(n),
        e => UserError::Store(e),
    })?;
    Ok(NewUser { password, token })
}

/// Signs in with name and password; on success issues a new API token (returned once).
/// Every failure is audited as a failed login and answers the same 401, whatever was wrong.
/// A name locked out by repeated failures (the console's rule, [`super::session::locked_out`]:
/// 5 failures in 15 minutes, through the API or the pages) gets 429 without its password being
/// checked, and the refusal is audited too.
pub fn login(s: &store::Store, name: &str, password: &str) -> Result<(UserRow, String), ApiError> {
    if s.with(|c| super::session::locked_out(c, name))? {
        s.audit(&AuditEntry {
            user: Some(name),
            act: "login",
            outcome: "refused",
            detail: &super::session::locked_detail("api"),
            ..Default::default()
        })?;
        return Err(ApiError::TooManyRequests(format!(
            "user {name:?} is locked after {} failed sign-ins in {} minutes: try again later",
            super::session::LOCKOUT_FAILURES,
            super::session::LOCKOUT_WINDOW_MINUTES
        )));
    }
    let found = s.with(|c| store::user_by_name(c, name))?;
    let ok = match &found {
        Some((_, hash)) => verify_password(password, hash),
        None => {
            // Spend the same time as a real check, so the answer does not tell names apart.
            let _ = hash_password(password);
            false
        }
    };
    let Some((user, _)) = found.filter(|_| ok) else {
        s.audit(&AuditEntry {
            user: Some(name),
            act: "login",
            outcome: "failed",
            detail: "wrong name or password",
            ..Default::default()
        })?;
        return Err(ApiError::Unauthorized("wrong name or password".into()));
    };
    let token = random_hex(32);
    let token_sha = sha256_hex(token.as_bytes());
    s.with(|c| {
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO tokens (user_id, token_sha256, created_at) VALUES (?1, ?2, ?3)",
            params![user.id, token_sha, now()],
        )?;
        store::audit_in(
            &tx,
            &AuditEntry {
                user: Some(&user.name),
                act: "login",
                outcome: "ok",
                ..Default::default()
            },
        )?;
        tx.commit()?;
        Ok(())
    })?;
    Ok((user, token))
}

/// A signed-in user (any role).
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub role: Role,
}

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<User, ApiError> {
        let Some(h) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Err(ApiError::Unauthorized(
                "sign in: send Authorization: Bearer TOKEN".into(),
            ));
        };
        let token = h
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        let sha = sha256_hex(token.as_bytes());
        let found = state.store.with(|c| store::user_by_token(c, &sha))?;
        match found.and_then(|u| Role::parse(&u.role).map(|r| (u, r))) {
            Some((u, role)) => Ok(User { name: u.name, role }),
            None => {
                state.store.audit(&AuditEntry {
                    act: "login",
                    outcome: "failed",
                    detail: "unknown or malformed API token",
                    ..Default::default()
                })?;
                Err(ApiError::Unauthorized("the API token is not valid".into()))
            }
        }
    }
}

/// A user who may do the month's acts: `analyst` or `admin` (403 for `inspector`).
#[derive(Debug, Clone)]
pub struct Analyst(pub User);

impl FromRequestParts<AppState> for Analyst {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let u = User::from_request_parts(parts, state).await?;
        match u.role {
            Role::Admin | Role::Analyst => Ok(Analyst(u)),
            Role::Inspector => Err(ApiError::Forbidden(format!(
                "user {:?} is an inspector; this needs an analyst or admin",
                u.name
            ))),
        }
    }
}

/// An `admin` (403 for the other roles).
#[derive(Debug, Clone)]
pub struct Admin(pub User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let u = User::from_request_parts(parts, state).await?;
        match u.role {
            Role::Admin => Ok(Admin(u)),
            r => Err(ApiError::Forbidden(format!(
                "user {:?} is an {}; this needs an admin",
                u.name,
                r.as_str()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn random_credentials_differ_and_have_their_length() {
        let (a, b) = (random_password(), random_password());
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, b);
        assert_eq!(random_hex(32).len(), 64);
    }

    #[test]
    fn roles_parse() {
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::Inspector.as_str(), "inspector");
    }
}
