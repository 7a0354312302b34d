//! Kill-safe output files (SPEC §12). Every output is written to a temporary file beside its
//! target, named `.NAME.spotcheck-PID.tmp`, and renamed into place when complete, so a run killed
//! at any moment leaves either the old output or the complete new one. This module owns that
//! pattern: [`TempFile`] (a temporary file that is removed unless committed), [`write_atomic`]
//! for whole files (manifests, reports, models), the registry of the temporary files this process
//! has open ([`remove_live_temp_files`], which the binary's Ctrl-C handler calls), and
//! [`sweep_stale`], which removes the temporary files of dead runs — only files of this exact
//! pattern, only when the process whose id they carry is gone. A run sweeps each output folder
//! the first time it writes there. It owns no signal handling (the binary does) and prints
//! nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::{Error, Result};

/// Temporary files this process has created and not yet committed or removed.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Scratch folders this process has created and not yet removed (`score`/`sample --cluster`).
static LIVE_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Folders already swept by this process.
static SWEPT: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves a plain list behind: still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The temporary path beside `path` that a writer fills before renaming:
/// `.NAME.spotcheck-PID.tmp` in the same folder (same file system, so the rename is atomic).
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.spotcheck-{}.tmp", std::process::id()))
}

/// The process id a temporary file name of spotcheck's pattern carries, if it is one.
///
/// ```
/// use spotcheck::table::atomic::temp_owner;
/// assert_eq!(temp_owner(".scored.csv.spotcheck-4242.tmp"), Some(4242));
/// assert_eq!(temp_owner("scored.csv"), None);
/// assert_eq!(temp_owner(".x.spotcheck-12a.tmp"), None);
/// assert_eq!(temp_owner(".x.other-12.tmp"), None);
/// ```
pub fn temp_owner(file_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (name, pid) = rest.rsplit_once(".spotcheck-")?;
    if name.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// The process id a scratch folder of spotcheck's pattern carries, if it is one:
/// `.spotcheck-verify-PID-N` (where `verify` and `results` re-derive a draw) or `.NAME.cluster-PID`
/// (where `score --cluster` keeps the rows it gathered, beside the output `NAME`).
///
/// ```
/// use spotcheck::table::atomic::scratch_owner;
/// assert_eq!(scratch_owner(".spotcheck-verify-4242-0"), Some(4242));
/// assert_eq!(scratch_owner(".scored.parquet.cluster-4242"), Some(4242));
/// assert_eq!(scratch_owner(".spotcheck-verify-4242"), None);
/// assert_eq!(scratch_owner(".spotcheck-verify-42a-1"), None);
/// assert_eq!(scratch_owner(".cluster-4242"), None);
/// assert_eq!(scratch_owner("scored.cluster-4242"), None);
/// ```
pub fn scratch_owner(dir_name: &str) -> Option<u32> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = dir_name.strip_prefix(SCRATCH_PREFIX) {
        let (pid, n) = rest.split_once('-')?;
        return (digits(pid) && digits(n)).then(|| pid.parse().ok())?;
    }
    let (name, pid) = dir_name.strip_prefix('.')?.rsplit_once(".cluster-")?;
    (!name.is_empty() && digits(pid)).then(|| pid.parse().ok())?
}

/// The scratch folder of this process for the output `path` in `score --cluster` (see
/// [`scratch_owner`]).
pub fn cluster_scratch(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.cluster-{}", std::process::id()))
}

/// The name of a fresh scratch folder of this process (see [`scratch_owner`]); `n` keeps several
/// folders of one process apart.
pub fn scratch_name(n: u64) -> String {
    format!("{SCRATCH_PREFIX}{}-{n}", std::process::id())
}

const SCRATCH_PREFIX: &str = ".spotcheck-verify-";

/// Whether a process with this id exists (`/proc/PID` on Linux, `kill(pid, 0)` elsewhere on
/// Unix). Unknown platforms answer yes, so nothing is removed that might be in use.
pub fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        if Path::new("/proc/self").exists() {
            return Path::new(&format!("/proc/{pid}")).exists();
        }
    }
    #[cfg(unix)]
    {
        let Ok(p) = libc::pid_t::try_from(pid) else {
            return true;
        };
        if p <= 0 {
            return true;
        }
        // SAFETY: kill with signal 0 sends nothing; it only checks the process exists.
        let r = unsafe { libc::kill(p, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// Removes the temporary files of dead runs from `dir`: files named `.NAME.spotcheck-PID.tmp`
/// and scratch folders named `.spotcheck-verify-PID-N` whose PID no longer runs. Returns the
/// paths removed. Those of live runs (another spotcheck writing into the same folder right now)
/// and everything else are left alone. A folder that cannot be listed is skipped (the write that
/// follows reports the real problem).
pub fn sweep_stale(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let Ok(kind) = e.file_type() else {
            continue;
        };
        let p = e.path();
        let gone = match (temp_owner(name), scratch_owner(name)) {
            (Some(pid), _) if kind.is_file() && !process_alive(pid) => {
                std::fs::remove_file(&p).is_ok()
            }
            (_, Some(pid)) if kind.is_dir() && !process_alive(pid) => {
                std::fs::remove_dir_all(&p).is_ok()
            }
            _ => false,
        };
        if gone {
            removed.push(p);
        }
    }
    removed
}

/// Sweeps the folder of the output `path` once per process ([`sweep_stale`]). Writers call it
/// when they start; commands call it early for their outputs, so the sweep happens even when the
/// run then fails before writing.
pub fn sweep_folder_of(path: &Path) {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => sweep_folder(d),
        _ => sweep_folder(Path::new(".")),
    }
}

/// Sweeps `dir` once per process ([`sweep_stale`]).
pub fn sweep_folder(dir: &Path) {
    let first = lock(&SWEPT)
        .get_or_insert_with(HashSet::new)
        .insert(dir.to_path_buf());
    if first {
        sweep_stale(dir);
    }
}

/// Removes every temporary file and scratch folder this process has open and empties the
/// registry (the binary calls
/// it on Ctrl-C or SIGTERM, then exits; a writer that finishes afterwards has nothing left to
/// rename, so the old output stays). Returns how many files were removed.
pub fn remove_live_temp_files() -> usize {
    let mut live = lock(&LIVE);
    let mut n = 0;
    for p in live.drain(..) {
        if std::fs::remove_file(&p).is_ok() {
            n += 1;
        }
    }
    for d in lock(&LIVE_DIRS).drain(..) {
        // A writer still filling the folder may add a file between the listing and the final
        // rmdir: try again a few times (the caller exits right after).
        for _ in 0..5 {
            if std::fs::remove_dir_all(&d).is_ok() || !d.exists() {
                n += 1;
                break;
            }
        }
    }
    n
}

/// Registers a scratch folder this process has just created (a `score`/`sample --cluster`
/// copy, [`cluster_scratch`]) so that [`remove_live_temp_files`] removes it with its contents
/// on Ctrl-C or SIGTERM; [`unregister_scratch_dir`] once the owner has removed it.
pub fn register_scratch_dir(dir: &Path) {
    lock(&LIVE_DIRS).push(dir.to_path_buf());
}

/// Forgets a scratch folder registered by [`register_scratch_dir`] (its owner removes it).
pub fn unregister_scratch_dir(dir: &Path) {
    let mut live = lock(&LIVE_DIRS);
    if let Some(i) = live.iter().position(|p| p == dir) {
        live.swap_remove(i);
    }
}

fn register(tmp: &Path) {
    lock(&LIVE).push(tmp.to_path_buf());
}

fn unregister(tmp: &Path) {
    let mut live = lock(&LIVE);
    if let Some(i) = live.iter().position(|p| p == tmp) {
        live.swap_remove(i);
    }
}

/// A temporary file beside an output: created by the caller at [`TempFile::tmp`], put in place
/// by [`TempFile::commit`], removed when dropped uncommitted (a failed run) or when the process
/// is interrupted ([`remove_live_temp_files`]). Creating one sweeps the folder's stale
/// temporary files first.
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    tmp: PathBuf,
    done: bool,
}

impl TempFile {
    /// Reserves the temporary path for `path` (nothing is created yet).
    pub fn new(path: &Path) -> TempFile {
        sweep_folder_of(path);
        let tmp = temp_path(path);
        register(&tmp);
        TempFile {
            path: path.to_path_buf(),
            tmp,
            done: false,
        }
    }

    /// Where to write.
    pub fn tmp(&self) -> &Path {
        &self.tmp
    }

    /// The output it will become.
    pub fn target(&self) -> &Path {
        &self.path
    }

    /// Renames the complete temporary file into place.
    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        unregister(&self.tmp);
        self.done = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.done {
            // The file may not exist (nothing was written yet): fine.
            let _ = std::fs::remove_file(&self.tmp);
            unregister(&self.tmp);
        }
    }
}

/// Writes a whole file atomically: temporary file, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let t = TempFile::new(path);
    std::fs::write(t.tmp(), bytes).map_err(|e| Error::io(path, e))?;
    t.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_files_of_dead_runs_are_swept_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        // A child that has exited: its id is free (reuse within the test is very unlikely, and
        // a reused id only keeps the file, which is the safe side).
        let dead = std::process::Command::new("true")
            .spawn()
            .and_then(|mut c| c.wait().map(|_| c.id()))
            .unwrap();
        let me = std::process::id();
        let stale = dir.path().join(format!(".out.csv.spotcheck-{dead}.tmp"));
        let live = dir.path().join(format!(".out.csv.spotcheck-{me}.tmp"));
        let other = dir.path().join(format!(".out.csv.other-{dead}.tmp"));
        let output = dir.path().join("out.csv");
        for p in [&stale, &live, &other, &output] {
            std::fs::write(p, b"x").unwrap();
        }
        // Scratch folders of re-derivations: a dead run's (with a file inside), a live one's,
        // and a file that only looks like one.
        let stale_dir = dir.path().join(format!(".spotcheck-verify-{dead}-3"));
        let stale_cluster = dir.path().join(format!(".out.csv.cluster-{dead}"));
        let live_dir = dir.path().join(format!(".spotcheck-verify-{me}-0"));
        let file_named_so = dir.path().join(format!(".spotcheck-verify-{dead}-4"));
        for d in [&stale_dir, &stale_cluster, &live_dir] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("sample.csv"), b"x").unwrap();
        }
        std::fs::write(&file_named_so, b"x").unwrap();
        let mut removed = sweep_stale(dir.path());
        removed.sort();
        let mut expected = vec![stale.clone(), stale_dir.clone(), stale_cluster.clone()];
        expected.sort();
        assert_eq!(removed, expected);
        assert!(!stale.exists() && live.exists() && other.exists() && output.exists());
        assert!(!stale_dir.exists() && !stale_cluster.exists());
        assert!(live_dir.exists() && file_named_so.exists());
    }

    #[test]
    fn temp_files_are_committed_or_removed_and_unregistered() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("m.json");
        write_atomic(&out, b"{}").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"{}");
        let t = TempFile::new(&dir.path().join("n.json"));
        std::fs::write(t.tmp(), b"partial").unwrap();
        let tmp = t.tmp().to_path_buf();
        assert!(lock(&LIVE).contains(&tmp));
        drop(t);
        assert!(!tmp.exists());
        assert!(!lock(&LIVE).contains(&tmp));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "only m.json"
        );
    }
}
