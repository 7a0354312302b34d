//! Looking one enterprise up in an enterprise table (and its emissions) and explaining its score
//! (SPEC §3.6): what `spotcheck explain` does, as a library call the console's look-up uses. It
//! reads the tables with the validating readers, scores only the batch that holds the enterprise
//! with [`score_batch`](crate::score::score_batch) — exactly as the full scoring does — and returns the
//! sentences of [`explain`](crate::score::explain), or says that the code is malformed, that its row was
//! rejected (and why), or that it is not in the table.

use std::path::Path;

use crate::Result;
use crate::input::EnterpriseReader;
use crate::policy::Policy;
use crate::predict::CreditPredictor;
use crate::schema::Lang;
use crate::table::{ReadOptions, Rejects};
use crate::uscc::{UsccCheck, check};

/// What a look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The enterprise's scoring decision, one sentence a line.
    Found { uscc: String, text: String },
    /// The code is in the table, but its row was rejected.
    Rejected {
        uscc: String,
        row: u64,
        reason: String,
        detail: String,
    },
    /// No row has this code.
    NotFound { uscc: String },
    /// The text is not a unified social credit code.
    Malformed,
}

/// Looks `uscc` up in `enterprises` (with `emissions`, when given) and explains its score.
pub fn explain_in_files(
    enterprises: &Path,
    emissions: Option<&Path>,
    uscc: &str,
    policy: &Policy,
    model: Option<&dyn CreditPredictor>,
    opts: &ReadOptions,
    lang: Lang,
) -> Result<Lookup> {
    let code = match check(uscc.trim()) {
        UsccCheck::Valid(c) | UsccCheck::BadChecksum(c) => c,
        UsccCheck::Malformed => return Ok(Lookup::Malformed),
    };
    let mut rejects = Rejects::new(false);
    let totals = match emissions {
        Some(p) => Some(super::read_emission_totals(p, opts, &mut rejects, policy)?.0),
        None => None,
    };
    let mut reader = EnterpriseReader::open(enterprises, opts)?;
    while let Some(batch) = reader.next_batch(&mut rejects)? {
        let Some(i) = (0..batch.len()).find(|&i| batch.uscc.value(i) == code) else {
            continue;
        };
        let scored = crate::score::score_batch(&batch, totals.as_ref(), model, policy)?;
        return Ok(Lookup::Found {
            uscc: code,
            text: crate::score::explain(&batch, &scored, i, policy, lang)?,
        });
    }
    let enterprises_file = enterprises.display().to_string();
    if let Some(r) = rejects
        .items()
        .iter()
        .find(|r| r.file == enterprises_file && r.value.eq_ignore_ascii_case(&code))
    {
        return Ok(Lookup::Rejected {
            uscc: code,
            row: r.row,
            reason: r.reason.to_string(),
            detail: r.detail.clone(),
        });
    }
    Ok(Lookup::NotFound { uscc: code })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn sample(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("data/sample")
            .join(name)
    }

    #[test]
    fn finds_explains_and_misses() {
        let policy = Policy::default();
        let opts = ReadOptions::default();
        let first = std::fs::read_to_string(sample("enterprises.csv")).unwrap();
        let uscc = first.lines().nth(1).unwrap().split(',').next().unwrap();
        let found = explain_in_files(
            &sample("enterprises.csv"),
            Some(&sample("emissions.csv")),
            uscc,
            &policy,
            None,
            &opts,
            Lang::Zh,
        )
        .unwrap();
        match found {
            Lookup::Found { uscc: u, text } => {
                assert_eq!(u, uscc);
                assert!(text.contains(uscc), "{text}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            explain_in_files(
                &sample("enterprises.csv"),
                None,
                "not a code",
                &policy,
                None,
                &opts,
                Lang::En
            )
            .unwrap(),
            Lookup::Malformed
        );
        let missing = "91110000000000000X";
        assert!(matches!(
            explain_in_files(
                &sample("enterprises.csv"),
                None,
                missing,
                &policy,
                None,
                &opts,
                Lang::En
            )
            .unwrap(),
            Lookup::NotFound { .. } | Lookup::Malformed
        ));
    }
}
