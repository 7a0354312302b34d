//! `spotcheck results`: the inspections' results, closing the loop (SPEC §9). Verifies each draw
//! against its manifest, reads the results table, and writes the estimates of §9.3, the public
//! results list (抽查结果公示), next month's history and the labelled table for `train`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use clap::Args;

use spotcheck::input::tables::HistoryRow;
use spotcheck::input::tables::read_history;
use spotcheck::results::category::{self, Kind};
use spotcheck::results::estimates::{EstimateRow, estimate_department, estimates_batch};
use spotcheck::results::io::{ResultRow, read_results};
use spotcheck::results::run::{drawn_units, frame_counts};
use spotcheck::sample::Month;
use spotcheck::sample::run::{Rederived, locate, rederive};
use spotcheck::schema::{Col, Department, Lang, Mode, hist, out};
use spotcheck::table::{ColumnMap, WriteOptions, create};

use super::common::{check_output, print_counts};
use super::{InputOpts, parse_lang};

/// Read the inspections' results: publish them, estimate the violation rate, feed next month.
///
/// Takes the manifests of the month's draws (one per department or month; each sample is first
/// verified against its manifest as `spotcheck verify` does — a changed sample is an error) and
/// the results table (SPEC §9.1: uscc, month, department, inspected_on, result, optionally
/// violations, penalty_cny, note; English or Chinese headers; result as a code or a Chinese or
/// English name of data/result-categories.csv). Rows for units not drawn, second rows, unknown
/// results and dates before the draw month go to the rejects file. Writes the estimates (SPEC
/// §9.3): per month, department and domain (the whole department, each district, credit class
/// and tier) the violation rate with design weights 1/π (Hájek), its standard error (Brewer's
/// approximation) and 95 % interval (Korn–Graubard), the estimated violators, the hit rate and
/// the lift of risk targeting.
///
/// Example: spotcheck results market.manifest.json ecology.manifest.json results.xlsx
/// -o estimates.csv --public results-public.csv --history-out history-next.csv --labels-out
/// labels.parquet
///
/// Exit codes: 0 done; 2 an input cannot be used or a sample does not match its manifest.
#[derive(Debug, Args)]
pub struct ResultsArgs {
    /// The manifests written by `spotcheck sample`, then the results table (any format).
    #[arg(required = true, num_args = 2.., value_names = ["MANIFEST.json", "RESULTS"])]
    pub files: Vec<PathBuf>,
    /// The estimates table (SPEC §9.3; any format).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Also write the results list for publication (抽查结果公示): seq, uscc, name, department,
    /// month, inspected_on, result — one row per unit and department with a result, in sample
    /// order.
    #[arg(long, value_name = "FILE")]
    pub public: Option<PathBuf>,
    /// Also write next month's inspection history: the history the draws used (each file once)
    /// and one onsite row per result, dated inspected_on (out of scope too: the visit happened).
    #[arg(long, value_name = "FILE")]
    pub history_out: Option<PathBuf>,
    /// Also write the labelled table for `spotcheck train`: the scored row of each unit found
    /// compliant or in violation, with violation (0/1), department and design_weight = 1/π.
    #[arg(long, value_name = "FILE")]
    pub labels_out: Option<PathBuf>,
    /// Language of headers and values: en (default) or zh.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: Lang,
    /// Write a UTF-8 byte-order mark at the start of CSV outputs.
    #[arg(long)]
    pub bom: bool,
    #[command(flatten)]
    pub input: InputOpts,
}

/// A verified draw and, per department it drew, what became of each of its units.
struct Month_ {
    d: Rederived,
    /// The scored file the draw read.
    scored: PathBuf,
    /// The history the draw read: its SHA-256 and rows.
    history_rows: Option<(String, Vec<HistoryRow>)>,
    /// Per department drawn: position in `draw.selected` → the result row (index), if any.
    results: Vec<(Department, HashMap<usize, usize>)>,
    /// uscc → position in `draw.selected`.
    by_uscc: HashMap<[u8; 18], usize>,
}

fn write_batch(path: &Path, batch: &RecordBatch, sheet: &str, bom: bool) -> Result<()> {
    let opts = WriteOptions {
        bom,
        sheet: sheet.into(),
        ..WriteOptions::default()
    };
    let mut w = create(path, batch.schema(), &opts)
        .with_context(|| format!("writing {}", path.display()))?;
    w.write(batch)?;
    w.finish()?;
    Ok(())
}

fn strings(v: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}

fn text_field(c: &Col, lang: Lang) -> Field {
    Field::new(c.header(lang), DataType::Utf8, false)
}

pub fn run(a: ResultsArgs) -> Result<ExitCode> {
    let (manifests, results_path) = a.files.split_at(a.files.len() - 1);
    let results_path = &results_path[0];
    let mut ins: Vec<&Path> = manifests.iter().map(PathBuf::as_path).collect();
    ins.push(results_path);
    let mut outs = vec![&a.output];
    outs.extend(a.public.iter().chain(&a.history_out).chain(&a.labels_out));
    for o in &outs {
        check_output(o, &ins)?;
    }
    let opts = a.input.read_options();
    let progress = super::progress::Progress::phases(a.input.quiet, "results");

    // 1. Every draw, re-derived and verified.
    progress.phase("verifying the draws");
    let mut months: Vec<Month_> = Vec::new();
    let mut slots: HashMap<(Month, Department), (usize, usize)> = HashMap::new();
    for m in manifests {
        let d = rederive(m, None, &opts).with_context(|| format!("verifying {}", m.display()))?;
        if !d.report.is_match() {
            for diff in &d.report.differences {
                eprintln!("{diff}");
            }
            bail!(
                "{}: the sample does not match its manifest ({} difference(s)); results can only be read against a verified draw",
                m.display(),
                d.report.differences.len()
            );
        }
        let at = months.len();
        let mut results = Vec::new();
        for (k, &dep) in d.params.department.departments().iter().enumerate() {
            if let Some((other, _)) = slots.insert((d.params.month, dep), (at, k)) {
                bail!(
                    "{} and {} both draw {} for {}: give one manifest per department and month",
                    manifests[other].display(),
                    m.display(),
                    dep.en(),
                    d.params.month
                );
            }
            results.push((dep, HashMap::new()));
        }
        let by_uscc = d
            .draw
            .selected
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((code_key(&s.uscc)?, i)))
            .collect();
        let input = |role: &str| d.recorded.inputs.iter().find(|i| i.role == role);
        // rederive() read the scored input, so the manifest names one.
        let scored = locate(&input("scored").expect("a scored input").path, m);
        let history_rows = match input("history") {
            Some(h) if a.history_out.is_some() => {
                let p = locate(&h.path, m);
                let mut ignore = spotcheck::table::Rejects::new(false);
                let (rows, _) = read_history(&p, &opts, &mut ignore)
                    .with_context(|| format!("reading {}", p.display()))?;
                Some((h.sha256.clone(), rows))
            }
            _ => None,
        };
        months.push(Month_ {
            d,
            scored,
            history_rows,
            results,
            by_uscc,
        });
    }

    // 2. The results, each checked against the draws.
    progress.phase("reading the results");
    let mut rejects = a.input.rejects();
    let drawn = |m: Month, dep: Department, key: &[u8; 18]| {
        slots.get(&(m, dep)).is_some_and(|&(at, _)| {
            let mo = &months[at];
            mo.by_uscc
                .get(key)
                .is_some_and(|&i| mo.d.draw.selected[i].by(dep).is_some())
        })
    };
    let (rows, counts) =
        read_results(results_path, &opts, &mut rejects, &drawn).context("reading the results")?;
    for (r, row) in rows.iter().enumerate() {
        // Accepted rows are drawn: the reader asked `drawn`.
        let &(at, k) = &slots[&(row.month, row.department)];
        let mo = &mut months[at];
        let i = mo.by_uscc[&code_key(&row.uscc).expect("an accepted code")];
        mo.results[k].1.insert(i, r);
    }

    // 3. Estimates per month and department.
    progress.phase("estimating");
    let mut estimates: Vec<EstimateRow> = Vec::new();
    for mo in &months {
        let params = &mo.d.params;
        for (dep, res) in &mo.results {
            let units = drawn_units(&mo.d, *dep, res, &rows);
            let fc = frame_counts(&mo.d, params, *dep)?;
            estimates.extend(estimate_department(params.month, *dep, &units, &fc));
        }
    }
    estimates.sort_by_key(|r| (r.month, r.department as u8));
    let est_batch = estimates_batch(&estimates, a.lang)?;

    // 4. The other outputs, built before anything is written.
    let public = a
        .public
        .as_ref()
        .map(|_| public_batch(&months, &rows, a.lang));
    let history = match &a.history_out {
        Some(_) => Some(history_batch(&months, &rows, a.lang)?),
        None => None,
    };
    let labels = match &a.labels_out {
        Some(_) => Some(labels_batch(&months, &rows, a.lang, &opts)?),
        None => None,
    };
    progress.phase("writing");
    let zh = a.lang == Lang::Zh;
    write_batch(
        &a.output,
        &est_batch,
        if zh {
            "抽查结果估计"
        } else {
            "estimates"
        },
        a.bom,
    )?;
    if let (Some(p), Some(b)) = (&a.public, public) {
        write_batch(p, &b?, if zh { "抽查结果公示" } else { "results" }, a.bom)?;
    }
    if let (Some(p), Some(b)) = (&a.history_out, history) {
        write_batch(p, &b, if zh { "检查记录" } else { "history" }, a.bom)?;
    }
    if let (Some(p), Some(b)) = (&a.labels_out, labels) {
        write_batch(p, &b, if zh { "标注数据" } else { "labels" }, a.bom)?;
    }
    let rejects_path = a.input.rejects_path(&a.output);
    super::write_rejects(&rejects, &rejects_path)?;
    progress.finish();

    // 5. The summary.
    print_counts(results_path, &counts);
    for r in estimates
        .iter()
        .filter(|r| r.domain == spotcheck::results::estimates::Domain::All)
    {
        let rate = match (r.rate, r.ci) {
            (Some(p), Some((lo, hi))) => format!(
                "estimated violation rate {:.1} % (95 % interval {:.1}–{:.1} %)",
                100.0 * p,
                100.0 * lo,
                100.0 * hi
            ),
            (Some(p), None) => format!(
                "estimated violation rate {:.1} % (too few inspections for an interval)",
                100.0 * p
            ),
            _ => "no estimate yet (no inspection reported)".into(),
        };
        println!(
            "{} {}: drawn {}, inspected {}, pending {}, out of scope {}, violations {}; {rate}",
            r.month,
            r.department.en(),
            r.drawn,
            r.inspected,
            r.pending,
            r.out_of_scope,
            r.violations
        );
    }
    println!("estimates → {}", a.output.display());
    for (what, p) in [
        ("public results list", &a.public),
        ("history", &a.history_out),
        ("labels", &a.labels_out),
    ] {
        if let Some(p) = p {
            println!("{what} → {}", p.display());
        }
    }
    if !rejects.is_empty() {
        println!(
            "{} rejected row(s) → {}",
            rejects.len(),
            rejects_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The frame of one department's draw, counted per domain (π > 0) and not covered (π = 0).
fn in_sample_order<'a>(
    months: &'a [Month_],
    rows: &'a [ResultRow],
) -> Vec<(&'a Month_, usize, &'a ResultRow)> {
    let mut out = Vec::new();
    for mo in months {
        for (i, _) in mo.d.draw.selected.iter().enumerate() {
            for (_, res) in &mo.results {
                if let Some(&r) = res.get(&i) {
                    out.push((mo, i, &rows[r]));
                }
            }
        }
    }
    out
}

fn result_label(r: &ResultRow, lang: Lang) -> String {
    let c = &category::all()[r.category];
    match lang {
        Lang::En => c.en.to_string(),
        Lang::Zh => c.zh.to_string(),
    }
}

/// The 抽查结果公示 list.
fn public_batch(months: &[Month_], rows: &[ResultRow], lang: Lang) -> Result<RecordBatch> {
    use spotcheck::results::io::cols;
    use spotcheck::sample::io::cols as scols;
    let list = in_sample_order(months, rows);
    let seq: Vec<u64> = list
        .iter()
        .map(|(mo, i, _)| mo.d.draw.selected[*i].seq)
        .collect();
    let fields = vec![
        Field::new(scols::SEQ.header(lang), DataType::UInt64, false),
        text_field(&out::USCC, lang),
        text_field(&out::NAME, lang),
        text_field(&cols::DEPARTMENT, lang),
        text_field(&cols::MONTH, lang),
        text_field(&cols::INSPECTED_ON, lang),
        text_field(&cols::RESULT, lang),
    ];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(seq)),
        strings(list.iter().map(|(_, _, r)| r.uscc.clone()).collect()),
        strings(
            list.iter()
                .map(|(mo, i, _)| {
                    mo.d.loaded
                        .frame
                        .name(mo.d.draw.selected[*i].index)
                        .to_string()
                })
                .collect(),
        ),
        strings(
            list.iter()
                .map(|(_, _, r)| r.department.label(lang).to_string())
                .collect(),
        ),
        strings(list.iter().map(|(_, _, r)| r.month.to_string()).collect()),
        strings(
            list.iter()
                .map(|(_, _, r)| r.inspected_on.to_string())
                .collect(),
        ),
        strings(list.iter().map(|(_, _, r)| result_label(r, lang)).collect()),
    ];
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// Next month's history: the draws' history files (each once) and an onsite row per result.
fn history_batch(months: &[Month_], rows: &[ResultRow], lang: Lang) -> Result<RecordBatch> {
    let mut seen = HashSet::new();
    let mut all: Vec<HistoryRow> = Vec::new();
    for mo in months {
        if let Some((sha, h)) = &mo.history_rows
            && seen.insert(sha.clone())
        {
            all.extend(h.iter().cloned());
        }
    }
    for (_, _, r) in in_sample_order(months, rows) {
        all.push(HistoryRow {
            uscc: r.uscc.clone(),
            date: r.inspected_on,
            department: r.department,
            mode: Mode::Onsite,
        });
    }
    let fields = vec![
        text_field(&hist::USCC, lang),
        text_field(&hist::DATE, lang),
        text_field(&hist::DEPARTMENT, lang),
        text_field(&hist::MODE, lang),
    ];
    let columns = vec![
        strings(all.iter().map(|h| h.uscc.clone()).collect()),
        strings(all.iter().map(|h| h.date.to_string()).collect()),
        strings(
            all.iter()
                .map(|h| h.department.label(lang).to_string())
                .collect(),
        ),
        strings(all.iter().map(|h| h.mode.label(lang).to_string()).collect()),
    ];
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// Columns `--labels-out` adds to the scored rows.
pub mod label_cols {
    use spotcheck::schema::Col;
    pub const VIOLATION: Col = Col {
        name: "violation",
        zh: "发现违法违规",
        aliases: &[],
    };
    pub const DEPARTMENT: Col = spotcheck::results::io::cols::DEPARTMENT;
    pub const DESIGN_WEIGHT: Col = Col {
        name: "design_weight",
        zh: "设计权重",
        aliases: &[],
    };
}

/// The scored rows of the units found compliant or in violation, with violation, department
/// and design_weight = 1/π, in sample order (a unit with results for both departments twice).
fn labels_batch(
    months: &[Month_],
    rows: &[ResultRow],
    lang: Lang,
    opts: &spotcheck::table::ReadOptions,
) -> Result<RecordBatch> {
    let mut batches = Vec::new();
    for mo in months {
        // uscc → labels, in sample order.
        let mut want: HashMap<&str, Vec<(u8, Department, f64, usize)>> = HashMap::new();
        let mut order = 0usize;
        for (i, s) in mo.d.draw.selected.iter().enumerate() {
            for (dep, res) in &mo.results {
                let Some(&r) = res.get(&i) else { continue };
                let y = match rows[r].kind() {
                    Kind::Compliant => 0,
                    Kind::Violation => 1,
                    Kind::OutOfScope => continue,
                };
                // A result row exists only for a department that drew the unit.
                let pi = s.by(*dep).map_or(f64::NAN, |u| u.pi);
                want.entry(s.uscc.as_str())
                    .or_default()
                    .push((y, *dep, 1.0 / pi, order));
                order += 1;
            }
        }
        let path = &mo.scored;
        let reader = spotcheck::table::open(path, opts)
            .with_context(|| format!("reading {}", path.display()))?;
        let schema = reader.schema();
        let map = ColumnMap::resolve(&schema, &[out::USCC], &[out::USCC], path)?;
        let cu = map.get(&out::USCC).expect("required column resolved");
        // (order, batch index, row) of each label.
        let mut picks: Vec<(usize, usize, u32, u8, Department, f64)> = Vec::new();
        let mut raws = Vec::new();
        for raw in reader {
            let raw = raw?;
            let us = spotcheck::table::cells::TextColumn::new(raw.column(cu), path)?;
            for i in 0..raw.num_rows() {
                let Some(u) = us.get(i) else { continue };
                let Some((k, _)) = spotcheck::table::codes::check_key(u) else {
                    continue;
                };
                let key = String::from_utf8_lossy(&k);
                if let Some(ls) = want.get(key.as_ref()) {
                    for &(y, dep, w, o) in ls {
                        picks.push((o, raws.len(), i as u32, y, dep, w));
                    }
                }
            }
            raws.push(raw);
        }
        picks.sort_by_key(|p| p.0);
        let mut parts = Vec::with_capacity(picks.len());
        for p in &picks {
            parts.push((p.1, p.2 as usize));
        }
        let cols: Vec<ArrayRef> = (0..schema.fields().len())
            .map(|c| {
                let arrays: Vec<&dyn arrow::array::Array> =
                    raws.iter().map(|b| b.column(c).as_ref()).collect();
                arrow::compute::interleave(&arrays, &parts)
            })
            .collect::<std::result::Result<_, _>>()?;
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new(
            label_cols::VIOLATION.header(lang),
            DataType::UInt32,
            false,
        ));
        fields.push(text_field(&label_cols::DEPARTMENT, lang));
        fields.push(Field::new(
            label_cols::DESIGN_WEIGHT.header(lang),
            DataType::Float64,
            false,
        ));
        let mut cols = cols;
        cols.push(Arc::new(
            picks.iter().map(|p| p.3 as u32).collect::<UInt32Array>(),
        ));
        cols.push(strings(
            picks.iter().map(|p| p.4.label(lang).to_string()).collect(),
        ));
        cols.push(Arc::new(
            picks.iter().map(|p| p.5).collect::<Float64Array>(),
        ));
        batches.push(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?);
    }
    let schema = batches[0].schema();
    for (b, mo) in batches.iter().zip(months) {
        if b.schema() != schema {
            bail!(
                "the draws read scored files with different columns ({} differs from the first): write --labels-out per scored file",
                mo.scored.display()
            );
        }
    }
    Ok(arrow::compute::concat_batches(&schema, &batches)?)
}

/// A drawn unit's code as the results reader keys it (its 18 ASCII bytes).
fn code_key(uscc: &str) -> Option<[u8; 18]> {
    uscc.as_bytes().try_into().ok()
}
