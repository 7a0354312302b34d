//! A draw as one piece of work over files: load the scored frame, the history and the inspectors
//! (hashing each input for the manifest), draw and assign teams, write the sample and the public
//! list, and — for `verify`, `results` and the console — re-derive a recorded draw from its
//! manifest and compare. The kernels it strings together (`draw`, `assign`, `verify`) stay pure;
//! this module owns the file I/O around them so that the CLI and the server call one function
//! and print or serve what it returns. It never prints.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::input::Counts;
use crate::input::tables::{read_history, read_inspectors};
use crate::policy::Policy;
use crate::sample::io::{
    inspectors_from_rows, public_batch, read_frame, read_sample_lines, sample_batch,
};
use crate::sample::{
    Assignment, Draw, DrawDepartment, DrawParams, FileRecord, HistoryIndex, InputRecord, Inspector,
    Manifest, SampleFrame, SampleLine, SamplingParams, VerifyReport, assign, draw, tasks, verify,
};
use crate::schema::Lang;
use crate::table::{ReadOptions, Rejects, WriteOptions, create, sha256_file};

/// The files a draw reads: the scored enterprises, and optionally the history and inspectors.
#[derive(Debug, Clone, Copy)]
pub struct DrawFiles<'a> {
    pub scored: &'a Path,
    pub history: Option<&'a Path>,
    pub inspectors: Option<&'a Path>,
}

/// Everything a draw reads, loaded and validated, with the record of each input for the manifest.
#[derive(Debug)]
pub struct Loaded {
    pub frame: SampleFrame,
    pub history: HistoryIndex,
    pub inspectors: Vec<Inspector>,
    /// One record per input file, in the order scored, history, inspectors.
    pub inputs: Vec<InputRecord>,
    /// Each input's path and row counts (`read = accepted + rejected`).
    pub counts: Vec<(PathBuf, Counts)>,
}

fn record_hashed(role: &str, path: &Path, c: &Counts, sha256: String) -> InputRecord {
    InputRecord {
        role: role.into(),
        path: path.display().to_string(),
        sha256,
        rows_read: c.read,
        rows_accepted: c.accepted,
        rows_rejected: c.rejected,
    }
}

/// Reads and validates the inputs of a draw; rejected rows go to `rejects`.
pub fn load(files: DrawFiles<'_>, opts: &ReadOptions, rejects: &mut Rejects) -> Result<Loaded> {
    // The scored file's hash (for the manifest) is taken on another thread while it is read.
    let hashing = {
        let p = files.scored.to_path_buf();
        std::thread::spawn(move || sha256_file(&p))
    };
    let (frame, fc) = read_frame(files.scored, opts, rejects)?;
    let sha = hashing
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    let mut inputs = vec![record_hashed("scored", files.scored, &fc, sha)];
    let mut counts = vec![(files.scored.to_path_buf(), fc)];
    let mut index = HistoryIndex::new();
    if let Some(p) = files.history {
        let (rows, c) = read_history(p, opts, rejects)?;
        for r in rows {
            index.add(&r.uscc, r.department, r.mode, r.date);
        }
        inputs.push(record_hashed("history", p, &c, sha256_file(p)?));
        counts.push((p.to_path_buf(), c));
    }
    let mut team = Vec::new();
    if let Some(p) = files.inspectors {
        let (rows, c) = read_inspectors(p, opts, rejects)?;
        team = inspectors_from_rows(&rows);
        inputs.push(record_hashed("inspectors", p, &c, sha256_file(p)?));
        counts.push((p.to_path_buf(), c));
    }
    Ok(Loaded {
        frame,
        history: index,
        inspectors: team,
        inputs,
        counts,
    })
}

/// The sampling part of the policy.
pub fn sampling_params(policy: &Policy) -> SamplingParams {
    SamplingParams {
        cooldown_months: policy.sampling.cooldown_months,
        team_size: policy.sampling.team_size,
    }
}

/// The policy as the manifest records it: its path and SHA-256.
pub fn policy_record(policy: &Policy) -> FileRecord {
    FileRecord {
        path: policy.path().display().to_string(),
        sha256: policy.sha256_hex(),
    }
}

/// Draws (SPEC §4 steps 1–5) and, when inspectors were loaded, assigns teams (step 6); the
/// drawn units' names are then read back when the frame left them in its file.
pub fn run_draw(l: &mut Loaded, params: &DrawParams) -> Result<(Draw, Option<Assignment>)> {
    let d = draw(&l.frame, &l.history, params)?;
    l.frame.fetch_names(d.selected.iter().map(|s| s.index))?;
    let a = if l.inspectors.is_empty() {
        None
    } else {
        let t = tasks(&d, &l.frame);
        Some(assign(
            &t,
            &l.inspectors,
            &params.seed,
            &params.month.to_string(),
            params.sampling.team_size,
        )?)
    };
    Ok((d, a))
}

/// Writes the sample table (atomically) and returns its SHA-256.
pub fn write_sample(
    path: &Path,
    l: &Loaded,
    d: &Draw,
    a: Option<&Assignment>,
    params: &DrawParams,
    lang: Lang,
    bom: bool,
) -> Result<String> {
    let batch = sample_batch(
        d,
        &l.frame,
        a,
        &l.inspectors,
        params.department == DrawDepartment::Joint,
        lang,
    )?;
    let opts = WriteOptions {
        bom,
        sheet: match lang {
            Lang::En => "sample".into(),
            Lang::Zh => "抽查名单".into(),
        },
        ..WriteOptions::default()
    };
    let mut w = create(path, batch.schema(), &opts)?;
    w.write(&batch)?;
    w.finish()?;
    sha256_file(path)
}

/// Writes the list for publication (一公开: no ratios, scores or inspectors), atomically.
pub fn write_public(
    path: &Path,
    l: &Loaded,
    d: &Draw,
    params: &DrawParams,
    lang: Lang,
    bom: bool,
) -> Result<()> {
    let batch = public_batch(d, &l.frame, params, lang)?;
    let opts = WriteOptions {
        bom,
        sheet: match lang {
            Lang::En => "public".into(),
            Lang::Zh => "抽查结果公示".into(),
        },
        ..WriteOptions::default()
    };
    let mut w = create(path, batch.schema(), &opts)?;
    w.write(&batch)?;
    w.finish()?;
    Ok(())
}

/// Writes a text file (a manifest) atomically: temp file beside it, then rename.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    crate::table::atomic::write_atomic(path, text.as_bytes())
}

/// A recorded path, as given or relative to the manifest's folder.
pub fn locate(recorded: &str, manifest: &Path) -> PathBuf {
    let p = PathBuf::from(recorded);
    if p.exists() || p.is_absolute() {
        return p;
    }
    match manifest.parent() {
        Some(dir) if dir.join(&p).exists() => dir.join(&p),
        _ => p,
    }
}

/// A recorded draw re-derived from its manifest: what was recorded, what the files give now,
/// and the comparison.
#[derive(Debug)]
pub struct Rederived {
    /// The manifest as read.
    pub recorded: Manifest,
    /// The draw's parameters (seed, month, department, strata, capacity) with the policy's
    /// sampling settings.
    pub params: DrawParams,
    pub policy: Policy,
    /// The inputs, read again.
    pub loaded: Loaded,
    /// The draw made again from them.
    pub draw: Draw,
    pub assignment: Option<Assignment>,
    /// Where the recorded sample was found.
    pub sample_path: PathBuf,
    /// The recorded sample's rows as read back.
    pub recorded_lines: Vec<SampleLine>,
    /// Every difference between the recorded and the re-derived draw (empty: it verifies).
    pub report: VerifyReport,
}

/// Re-derives the draw a manifest records and compares it with the recorded sample.
///
/// The inputs and the policy are found as recorded, then relative to the manifest's folder
/// (`locate`); `policy` overrides the recorded policy file (a recorded policy that no longer
/// exists falls back to the built-in default, which the comparison of its hash then reports).
/// The re-derived sample is rendered the way the recorded one was (format, language, BOM) in a
/// scratch folder beside the manifest, removed afterwards, to compare the sample's hash.
pub fn rederive(
    manifest_path: &Path,
    policy: Option<Policy>,
    opts: &ReadOptions,
) -> Result<Rederived> {
    let text = std::fs::read_to_string(manifest_path).map_err(|e| Error::io(manifest_path, e))?;
    let recorded = Manifest::from_json(&text, manifest_path)?;
    let mut params = recorded.draw_params(manifest_path)?;
    let policy = match policy {
        Some(p) => p,
        None => {
            let p = locate(&recorded.policy.path, manifest_path);
            if p.exists() {
                Policy::load(&p)?
            } else {
                Policy::default()
            }
        }
    };
    params.sampling = sampling_params(&policy);
    let find = |role: &str| {
        recorded
            .inputs
            .iter()
            .find(|i| i.role == role)
            .map(|i| locate(&i.path, manifest_path))
    };
    let scored = find("scored").ok_or_else(|| Error::BadFile {
        path: manifest_path.to_path_buf(),
        format: "manifest",
        message: "it names no scored input".into(),
    })?;
    let history = find("history");
    let inspectors = find("inspectors");
    let mut rejects = Rejects::new(false);
    let mut loaded = load(
        DrawFiles {
            scored: &scored,
            history: history.as_deref(),
            inspectors: inspectors.as_deref(),
        },
        opts,
        &mut rejects,
    )?;
    let (d, assignment) = run_draw(&mut loaded, &params)?;
    let sample_path = locate(&recorded.output.path, manifest_path);
    let (recorded_lines, lang) = read_sample_lines(&sample_path, opts)?;
    let sample_sha = sha256_file(&sample_path)?;
    let dir = scratch_dir(manifest_path)?;
    let ext = sample_path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("csv");
    let rendered = dir.join(format!("rederived.{ext}"));
    let bom = std::fs::read(&sample_path)
        .map(|b| b.starts_with(b"\xEF\xBB\xBF"))
        .unwrap_or(false);
    let derived_sha = write_sample(
        &rendered,
        &loaded,
        &d,
        assignment.as_ref(),
        &params,
        lang,
        bom,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let derived = Manifest::new(
        &params,
        &d,
        assignment.as_ref(),
        policy_record(&policy),
        loaded.inputs.clone(),
        FileRecord {
            path: recorded.output.path.clone(),
            sha256: derived_sha?,
        },
    );
    let derived_lines = SampleLine::from_draw(&d, assignment.as_ref(), &loaded.inspectors);
    let report = verify(
        &recorded,
        &derived,
        &sample_sha,
        &recorded_lines,
        &derived_lines,
    );
    Ok(Rederived {
        recorded,
        params,
        policy,
        loaded,
        draw: d,
        assignment,
        sample_path,
        recorded_lines,
        report,
    })
}

/// A fresh scratch folder beside the manifest (the caller removes it).
fn scratch_dir(manifest: &Path) -> Result<PathBuf> {
    let base = manifest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    // Several re-derivations may run at once in one process (the console): a counter keeps
    // their folders apart.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Scratch folders of killed runs are removed first (only those whose process is gone).
    crate::table::atomic::sweep_folder(&base);
    let dir = base.join(crate::table::atomic::scratch_name(n));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}
