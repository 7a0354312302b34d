//! The console's embedded store (SPEC §10): one SQLite database `spotcheck.db` in the data folder,
//! created and migrated on open (versioned migrations, `PRAGMA user_version`), and the files
//! themselves under `files/`, named by their SHA-256 (`files/<sha256>.<ext>`), written to a
//! temporary file and renamed into place, so a name always means the same bytes. A row only ever
//! points at a file that is complete on disk, and every act commits in one transaction: a server
//! killed at any moment leaves the acts committed before it and nothing half done.
//!
//! The rules that must hold whatever the callers do live here, in the schema: one draw per month
//! and department (a UNIQUE constraint, so two racing requests cannot both draw), a seed cannot
//! change once a draw used it, and the audit log is append-only (triggers that abort any UPDATE or
//! DELETE). The data folder is held with an exclusive lock (`flock`) while a server runs.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::error::ApiError;

/// The database file inside the data folder.
pub const DB_FILE: &str = "spotcheck.db";
/// The content-addressed files inside the data folder.
pub const FILES_DIR: &str = "files";
/// The lock file a running server holds.
pub const LOCK_FILE: &str = "spotcheck.lock";

/// Versioned migrations: migration i brings the schema from version i to i + 1. Never edit one
/// that has shipped; append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: users, tokens, the audit log, inputs, jobs, seeds, draws, positive lists.
    r#"
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'inspector')),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        token_sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user TEXT,
        act TEXT NOT NULL,
        month TEXT,
        input_sha256 TEXT,
        output_sha256 TEXT,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TABLE inputs (
        id INTEGER PRIMARY KEY,
        month TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('enterprises', 'emissions', 'history', 'inspectors')),
        file TEXT NOT NULL,
        rows_read INTEGER NOT NULL,
        rows_accepted INTEGER NOT NULL,
        rows_rejected INTEGER NOT NULL,
        rejects_file TEXT,
        user TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX inputs_month_kind ON inputs(month, kind, id);
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        month TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
        progress REAL NOT NULL DEFAULT 0,
        error TEXT,
        user TEXT NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE TABLE scored (
        id INTEGER PRIMARY KEY,
        month TEXT NOT NULL,
        job INTEGER NOT NULL REFERENCES jobs(id),
        file TEXT NOT NULL,
        xlsx_file TEXT,
        parquet_file TEXT,
        rows INTEGER NOT NULL,
        enterprises_file TEXT NOT NULL,
        emissions_file TEXT,
        rejects_file TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX scored_month ON scored(month, id);
    CREATE TABLE seeds (
        id INTEGER PRIMARY KEY,
        month TEXT NOT NULL,
        department TEXT NOT NULL CHECK (department IN ('market', 'ecology', 'joint')),
        seed TEXT NOT NULL,
        user TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX seeds_month ON seeds(month, department, id);
    CREATE TABLE draws (
        id INTEGER PRIMARY KEY,
        month TEXT NOT NULL,
        department TEXT NOT NULL CHECK (department IN ('market', 'ecology', 'joint')),
        seed_id INTEGER NOT NULL REFERENCES seeds(id),
        manifest_file TEXT NOT NULL,
        sample_file TEXT NOT NULL,
        sample_xlsx_file TEXT NOT NULL,
        public_file TEXT NOT NULL,
        visits INTEGER NOT NULL,
        user TEXT NOT NULL,
        at TEXT NOT NULL,
        UNIQUE (month, department)
    );
    -- One row per department a draw covers (a joint draw covers both), so a joint draw and a
    -- market or ecology draw of the same month can never both exist.
    CREATE TABLE draw_claims (
        month TEXT NOT NULL,
        department TEXT NOT NULL CHECK (department IN ('market', 'ecology')),
        draw_id INTEGER NOT NULL REFERENCES draws(id),
        PRIMARY KEY (month, department)
    );
    CREATE TRIGGER draws_no_update BEFORE UPDATE ON draws
        BEGIN SELECT RAISE(ABORT, 'a draw is never changed'); END;
    CREATE TABLE whitelists (
        id INTEGER PRIMARY KEY,
        as_of TEXT NOT NULL,
        scored_id INTEGER NOT NULL REFERENCES scored(id),
        xlsx_file TEXT NOT NULL,
        csv_file TEXT NOT NULL,
        summary TEXT NOT NULL,
        user TEXT NOT NULL,
        at TEXT NOT NULL
    );
    "#,
    // 2: inspection results (SPEC §9) and the estimates computed from them.
    r#"
    CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        month TEXT NOT NULL,
        file TEXT NOT NULL,
        rows_read INTEGER NOT NULL,
        rows_accepted INTEGER NOT NULL,
        rows_rejected INTEGER NOT NULL,
        rejects_file TEXT,
        estimates_file TEXT NOT NULL,
        estimates_xlsx_file TEXT NOT NULL,
        user TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX results_month ON results(month, id);
    "#,
    // 3: results accumulate (issue 15): each act (an upload, or one enterprise's entry) is merged
    // into the month's consolidated results table, which the estimates are computed from.
    r#"
    ALTER TABLE results ADD COLUMN merged_file TEXT;
    ALTER TABLE results ADD COLUMN merged_rows INTEGER;
    ALTER TABLE results ADD COLUMN kind TEXT NOT NULL DEFAULT 'upload'
        CHECK (kind IN ('upload', 'entry'));
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// The current time as RFC 3339 UTC with milliseconds (no time-zone library needed).
pub fn now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (H. Hinnant), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Lower-case hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::table::hex(&Sha256::digest(bytes))
}

/// One entry of the audit log, to append.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry<'a> {
    pub user: Option<&'a str>,
    pub act: &'a str,
    pub month: Option<&'a str>,
    pub input_sha256: Option<&'a str>,
    pub output_sha256: Option<&'a str>,
    /// `ok`, `failed` or `refused`.
    pub outcome: &'a str,
    pub detail: &'a str,
}

/// The store: the database connection (one, behind a mutex: SQLite serialises writers anyway)
/// and the data folder.
pub struct Store {
    dir: PathBuf,
    conn: Mutex<Connection>,
}

/// Opens `DIR/spotcheck.db`, creating the folder and the database when new, and migrates it.
pub fn open(dir: &Path) -> Result<Store, StoreError> {
    std::fs::create_dir_all(dir.join(FILES_DIR)).map_err(|e| StoreError::Io {
        path: dir.join(FILES_DIR),
        source: e,
    })?;
    let path = dir.join(DB_FILE);
    let mut conn = Connection::open(&path).map_err(|e| StoreError::Db {
        path: path.clone(),
        source: e,
    })?;
    let db = |e| StoreError::Db {
        path: path.clone(),
        source: e,
    };
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(db)?;
    // WAL: readers do not block the writer; FULL: a committed act survives a crash of the machine.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
    migrate(&mut conn).map_err(db)?;
    let version: usize = conn
        .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
        .map_err(db)? as usize;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path,
            version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(Store {
        dir: dir.to_path_buf(),
        conn: Mutex::new(conn),
    })
}

/// Applies the migrations the database has not had yet, each in its own transaction.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// Why the store cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database {path}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "database {path} has schema version {version}, newer than this spotcheck ({supported}): use a newer spotcheck"
    )]
    TooNew {
        path: PathBuf,
        version: usize,
        supported: usize,
    },
    #[error(
        "{path} is locked: another spotcheck server is running on this data folder (stop it first)"
    )]
    Locked { path: PathBuf },
}

/// An exclusive lock on the data folder, held while the value lives (released by the kernel
/// when the process ends, however it ends).
pub struct DirLock {
    _file: std::fs::File,
}

/// Takes the data folder's exclusive lock, or says that another server holds it.
pub fn lock(dir: &Path) -> Result<DirLock, StoreError> {
    let path = dir.join(LOCK_FILE);
    std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::Io {
            path: path.clone(),
            source: e,
        })?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a file descriptor this function owns; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            return Err(StoreError::Locked { path });
        }
    }
    #[cfg(not(unix))]
    {
        file.try_lock().map_err(|_| StoreError::Locked { path })?;
    }
    Ok(DirLock { _file: file })
}

impl Store {
    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of a stored file by its name (`<sha256>.<ext>`).
    pub fn file_path(&self, name: &str) -> PathBuf {
        self.dir.join(FILES_DIR).join(name)
    }

    /// A fresh temporary path inside the files folder (same file system, so a rename is atomic).
    pub fn temp_path(&self, ext: &str) -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        self.dir
            .join(FILES_DIR)
            .join(format!(".tmp-{}-{n}.{ext}", std::process::id()))
    }

    /// Removes temporary files and scratch folders that a killed process left behind (called at
    /// start, under the lock).
    pub fn clean_temp(&self) {
        if let Ok(rd) = std::fs::read_dir(self.dir.join(FILES_DIR)) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(".tmp-") {
                    let _ = std::fs::remove_file(e.path());
                } else if name.starts_with(".spotcheck-verify-") {
                    // The scratch folder of a re-derivation (sample::run::rederive).
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }

    /// Stores bytes under their SHA-256; returns the file name `<sha256>.<ext>`.
    pub fn put_bytes(&self, bytes: &[u8], ext: &str) -> Result<String, ApiError> {
        let name = format!("{}.{ext}", sha256_hex(bytes));
        let path = self.file_path(&name);
        if !path.exists() {
            let tmp = self.temp_path(ext);
            write_synced(&tmp, bytes)?;
            std::fs::rename(&tmp, &path).map_err(|e| ApiError::internal(&path, e))?;
        }
        Ok(name)
    }

    /// Moves a finished file (written by a library writer into [`Store::temp_path`]) into the
    /// store under its SHA-256; returns the file name.
    pub fn put_file(&self, tmp: &Path, ext: &str) -> Result<String, ApiError> {
        let sha = crate::table::sha256_file(tmp)?;
        let name = format!("{sha}.{ext}");
        let path = self.file_path(&name);
        if let Ok(f) = std::fs::File::open(tmp) {
            let _ = f.sync_all();
        }
        std::fs::rename(tmp, &path).map_err(|e| ApiError::internal(&path, e))?;
        Ok(name)
    }

    /// Runs `f` with the connection.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        // A panic while holding the lock leaves SQLite consistent (an open transaction rolls back
        // on drop), so a poisoned mutex is still usable.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn)
    }

    /// Appends to the audit log.
    pub fn audit(&self, e: &AuditEntry<'_>) -> Result<(), ApiError> {
        self.with(|c| audit_in(c, e))
    }
}

/// Appends to the audit log inside the caller's transaction (or connection).
pub fn audit_in(c: &Connection, e: &AuditEntry<'_>) -> Result<(), ApiError> {
    c.execute(
        "INSERT INTO audit (at, user, act, month, input_sha256, output_sha256, outcome, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            now(),
            e.user,
            e.act,
            e.month,
            e.input_sha256,
            e.output_sha256,
            e.outcome,
            e.detail
        ],
    )?;
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ApiError> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(|e| ApiError::internal(path, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| ApiError::internal(path, e))
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub role: String,
}

/// Looks a user up by the SHA-256 of an API token.
pub fn user_by_token(c: &Connection, token_sha256: &str) -> Result<Option<UserRow>, ApiError> {
    Ok(c.query_row(
        "SELECT u.id, u.name, u.role FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_sha256 = ?1",
        [token_sha256],
        |r| {
            Ok(UserRow {
                id: r.get(0)?,
                name: r.get(1)?,
                role: r.get(2)?,
            })
        },
    )
    .optional()?)
}

/// A user and its password hash, by name.
pub fn user_by_name(c: &Connection, name: &str) -> Result<Option<(UserRow, String)>, ApiError> {
    Ok(c.query_row(
        "SELECT id, name, role, password_hash FROM users WHERE name = ?1",
        [name],
        |r| {
            Ok((
                UserRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    role: r.get(2)?,
                },
                r.get(3)?,
            ))
        },
    )
    .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(s: &Store, table: &str) -> i64 {
        s.with(|c| Ok(c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?))
            .unwrap()
    }

    #[test]
    fn the_audit_log_refuses_update_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path()).unwrap();
        s.audit(&AuditEntry {
            user: Some("alice"),
            act: "login",
            outcome: "failed",
            ..Default::default()
        })
        .unwrap();
        for sql in [
            "UPDATE audit SET outcome = 'ok'",
            "DELETE FROM audit",
            "DELETE FROM audit WHERE id = 1",
        ] {
            let e = s.with(|c| Ok(c.execute(sql, [])?)).unwrap_err();
            assert!(e.to_string().contains("append-only"), "{sql}: {e}");
        }
        assert_eq!(count(&s, "audit"), 1);
        let outcome: String = s
            .with(|c| Ok(c.query_row("SELECT outcome FROM audit", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(outcome, "failed");
    }

    #[test]
    fn migrations_run_once_and_a_newer_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = open(dir.path()).unwrap();
            s.audit(&AuditEntry {
                act: "x",
                outcome: "ok",
                ..Default::default()
            })
            .unwrap();
        }
        // Reopening keeps the data and the version.
        let s = open(dir.path()).unwrap();
        assert_eq!(count(&s, "audit"), 1);
        let v: i64 = s
            .with(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?))
            .unwrap();
        assert_eq!(v as usize, SCHEMA_VERSION);
        s.with(|c| Ok(c.pragma_update(None, "user_version", 99)?))
            .unwrap();
        drop(s);
        match open(dir.path()) {
            Err(StoreError::TooNew { version: 99, .. }) => {}
            other => panic!("{:?}", other.err()),
        }
    }

    #[test]
    fn a_month_and_department_is_drawn_once_whatever_the_caller() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path()).unwrap();
        let insert = |dep: &str| {
            s.with(|c| {
                c.execute(
                    "INSERT INTO seeds (month, department, seed, user, at) VALUES ('2026-12', ?1, 's', 'u', 't')",
                    [dep],
                )?;
                let seed = c.last_insert_rowid();
                Ok(c.execute(
                    "INSERT INTO draws (month, department, seed_id, manifest_file, sample_file,
                     sample_xlsx_file, public_file, visits, user, at)
                     VALUES ('2026-12', ?1, ?2, 'm', 's', 'x', 'p', 1, 'u', 't')",
                    rusqlite::params![dep, seed],
                )?)
            })
        };
        insert("market").unwrap();
        assert!(insert("market").is_err());
        assert_eq!(count(&s, "draws"), 1);
        let e = s
            .with(|c| Ok(c.execute("UPDATE draws SET visits = 2", [])?))
            .unwrap_err();
        assert!(e.to_string().contains("never changed"), "{e}");
    }

    #[test]
    fn the_folder_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path()).unwrap();
        assert!(matches!(lock(dir.path()), Err(StoreError::Locked { .. })));
        drop(first);
        assert!(lock(dir.path()).is_ok());
    }

    #[test]
    fn files_are_named_by_their_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let s = open(dir.path()).unwrap();
        let name = s.put_bytes(b"abc", "csv").unwrap();
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            name,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.csv"
        );
        assert_eq!(std::fs::read(s.file_path(&name)).unwrap(), b"abc");
        assert_eq!(s.put_bytes(b"abc", "csv").unwrap(), name);
    }

    #[test]
    fn now_is_rfc3339_utc() {
        let t = now();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
        assert!(t.as_str() > "2024-01-01");
    }
}
