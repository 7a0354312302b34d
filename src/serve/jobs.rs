//! Long work off the request path (SPEC §10: scoring 10⁶ rows must not stall the server). A job
//! is a row in the store (`queued` → `running` → `done` | `failed`, with its error); it runs on
//! its own OS thread (the library parallelises with rayon inside it), and its progress (0–1) lives
//! in memory while it runs, so polling costs no write. A job a killed server left `queued` or
//! `running` is marked `failed` at the next start: its output was never committed.

use std::collections::HashMap;
use std::sync::Mutex;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::store::{Store, now};

/// Progress of the running jobs, by id.
#[derive(Debug, Default)]
pub struct Jobs {
    progress: Mutex<HashMap<i64, f64>>,
}

impl Jobs {
    /// Sets a running job's progress (clamped to 0–1).
    pub fn set(&self, job: i64, p: f64) {
        let mut m = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(job, p.clamp(0.0, 1.0));
    }

    fn get(&self, job: i64) -> Option<f64> {
        let m = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        m.get(&job).copied()
    }

    fn remove(&self, job: i64) {
        let mut m = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        m.remove(&job);
    }
}

/// A job's state as `GET /api/jobs/{job}` answers it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobStatus {
    pub job: i64,
    /// What the job does, e.g. `score`.
    pub kind: String,
    pub month: String,
    /// queued, running, done or failed.
    pub state: String,
    /// 0 to 1.
    pub progress: f64,
    /// Why it failed.
    pub error: Option<String>,
}

/// Marks the jobs a stopped server left unfinished as failed.
pub fn fail_interrupted(s: &Store) -> ApiResult<()> {
    s.with(|c| {
        c.execute(
            "UPDATE jobs SET state = 'failed', error = 'the server stopped while the job ran; start it again',
             finished_at = ?1 WHERE state IN ('queued', 'running')",
            [now()],
        )?;
        Ok(())
    })
}

/// Records a new queued job; returns its id.
pub fn create(s: &Store, kind: &str, month: &str, user: &str) -> ApiResult<i64> {
    s.with(|c| {
        c.execute(
            "INSERT INTO jobs (month, kind, state, user, created_at) VALUES (?1, ?2, 'queued', ?3, ?4)",
            params![month, kind, user, now()],
        )?;
        Ok(c.last_insert_rowid())
    })
}

/// Runs `work` for job `id` on its own thread: marks it running, then done or failed. `work`
/// reports progress through [`Jobs::set`] and commits its own results (with the job's `done`
/// state, in one transaction, through the `finish` callback it is given).
pub fn spawn<F>(s: std::sync::Arc<Store>, jobs: std::sync::Arc<Jobs>, id: i64, work: F)
where
    F: FnOnce(&Store, &Jobs) -> ApiResult<()> + Send + 'static,
{
    std::thread::spawn(move || {
        let started = s.with(|c| {
            c.execute("UPDATE jobs SET state = 'running' WHERE id = ?1", [id])?;
            Ok(())
        });
        jobs.set(id, 0.0);
        let outcome = started.and_then(|_| work(&s, &jobs));
        if let Err(e) = outcome {
            let msg = match &e {
                ApiError::Internal(m) => {
                    eprintln!("error: job {id}: {m}");
                    "the server failed while running the job; the cause is in its log".to_string()
                }
                other => other.to_string(),
            };
            let _ = s.with(|c| {
                c.execute(
                    "UPDATE jobs SET state = 'failed', error = ?2, finished_at = ?3 WHERE id = ?1",
                    params![id, msg, now()],
                )?;
                Ok(())
            });
        }
        jobs.remove(id);
    });
}

/// Marks a job done inside the caller's transaction (with the job's results).
pub fn mark_done(tx: &rusqlite::Transaction<'_>, id: i64) -> ApiResult<()> {
    tx.execute(
        "UPDATE jobs SET state = 'done', progress = 1, finished_at = ?2 WHERE id = ?1",
        params![id, now()],
    )?;
    Ok(())
}

/// A job's status, or `None` when there is no such job.
pub fn status(s: &Store, jobs: &Jobs, id: i64) -> ApiResult<Option<JobStatus>> {
    let row = s.with(|c| {
        Ok(c.query_row(
            "SELECT kind, month, state, progress, error FROM jobs WHERE id = ?1",
            [id],
            |r| {
                Ok(JobStatus {
                    job: id,
                    kind: r.get(0)?,
                    month: r.get(1)?,
                    state: r.get(2)?,
                    progress: r.get(3)?,
                    error: r.get(4)?,
                })
            },
        )
        .optional()?)
    })?;
    Ok(row.map(|mut st| {
        if st.state == "running"
            && let Some(p) = jobs.get(id)
        {
            st.progress = p;
        }
        st
    }))
}
