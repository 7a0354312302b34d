//! The draw and its verification over stored files: the library's draw of SPEC §4 run on the
//! month's stored scored table, history and inspectors, its sample, public list and manifest
//! written into the store. The manifest records every file by its stored name (`<sha256>.<ext>`),
//! relative to the manifest, so the stored manifest verifies in the files folder and a downloaded
//! one verifies with `spotcheck verify` once the files it names sit beside it.

use crate::sample::run::{
    DrawFiles, load, policy_record, rederive, run_draw, sampling_params, write_public, write_sample,
};
use crate::sample::{Capacity, DrawDepartment, DrawParams, FileRecord, Manifest, Month, Strata};
use crate::schema::Lang;
use crate::serve::error::ApiResult;
use crate::serve::routes::draws::Visit;
use crate::serve::store::Store;
use crate::table::{ReadOptions, Rejects};

/// What a draw stored.
pub struct Drawn {
    pub manifest_file: String,
    pub sample_file: String,
    pub sample_xlsx_file: String,
    pub public_file: String,
    pub visits: Vec<Visit>,
    pub unstaffed: usize,
}

fn sha_of(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_string()
}

/// Draws and stores the sample (CSV and XLSX), the public list and the manifest.
#[allow(clippy::too_many_arguments)]
pub fn draw_files(
    s: &Store,
    seed: &str,
    month: Month,
    department: DrawDepartment,
    strata: Strata,
    capacity: Capacity,
    scored: &str,
    history: Option<&str>,
    inspectors: Option<&str>,
) -> ApiResult<Drawn> {
    let policy = crate::policy::Policy::default();
    let params = DrawParams {
        seed: seed.into(),
        month,
        department,
        strata,
        capacity,
        // The console draws as `spotcheck sample` does by default (systematic πps; SPEC §4.3–4.5).
        algorithm: crate::sample::Algorithm::Systematic,
        sampling: sampling_params(&policy),
    };
    params.validate()?;
    let mut rejects = Rejects::new(false);
    let (scored_p, history_p, inspectors_p) = (
        s.file_path(scored),
        history.map(|h| s.file_path(h)),
        inspectors.map(|i| s.file_path(i)),
    );
    let mut l = load(
        DrawFiles {
            scored: &scored_p,
            history: history_p.as_deref(),
            inspectors: inspectors_p.as_deref(),
        },
        &ReadOptions::default(),
        &mut rejects,
    )?;
    // The manifest names each input by its stored name, relative to the manifest (see above).
    let names = [Some(scored), history, inspectors];
    for (rec, name) in l.inputs.iter_mut().zip(names.into_iter().flatten()) {
        rec.path = name.to_string();
    }
    let (d, a) = run_draw(&mut l, &params)?;
    let tmp = s.temp_path("csv");
    write_sample(&tmp, &l, &d, a.as_ref(), &params, Lang::En, false)?;
    let sample_file = s.put_file(&tmp, "csv")?;
    let tmp = s.temp_path("xlsx");
    write_sample(&tmp, &l, &d, a.as_ref(), &params, Lang::En, false)?;
    let sample_xlsx_file = s.put_file(&tmp, "xlsx")?;
    let tmp = s.temp_path("csv");
    write_public(&tmp, &l, &d, &params, Lang::En, false)?;
    let public_file = s.put_file(&tmp, "csv")?;
    let manifest = Manifest::new(
        &params,
        &d,
        a.as_ref(),
        policy_record(&policy),
        l.inputs.clone(),
        FileRecord {
            path: sample_file.clone(),
            sha256: sha_of(&sample_file),
        },
    );
    let manifest_file = s.put_bytes(manifest.to_json().as_bytes(), "json")?;
    let visits = d
        .selected
        .iter()
        .map(|u| Visit {
            seq: u.seq,
            uscc: u.uscc.clone(),
            name: l.frame.name(u.index).to_string(),
            district: format!("{:06}", l.frame.district[u.index]),
            departments: u.departments.to_string(),
        })
        .collect();
    Ok(Drawn {
        manifest_file,
        sample_file,
        sample_xlsx_file,
        public_file,
        visits,
        unstaffed: a.as_ref().map_or(0, |a| a.unstaffed.len()),
    })
}

/// The outcome of re-deriving a stored draw.
pub struct Verified {
    pub seed: String,
    pub visits: usize,
    /// Empty when every hash and unit matches.
    pub differences: Vec<String>,
}

/// Re-derives the draw of a stored manifest from the stored files it names (the library's
/// `rederive`, exactly what `spotcheck verify` runs) and compares.
pub fn verify_stored(s: &Store, manifest_file: &str) -> ApiResult<Verified> {
    let r = rederive(
        &s.file_path(manifest_file),
        Some(crate::policy::Policy::default()),
        &ReadOptions::default(),
    )?;
    let differences = if r.report.is_match() {
        Vec::new()
    } else {
        r.report.differences.iter().map(|d| d.to_string()).collect()
    };
    Ok(Verified {
        seed: r.params.seed,
        visits: r.draw.selected.len(),
        differences,
    })
}
