//! SQL over table files with Apache DataFusion (SPEC §11; cargo feature `datafusion`): a session
//! with spotcheck's kernels registered as scalar functions ([`udfs`]), table files registered by
//! name ([`register_table`]) or read straight from a quoted path in `FROM`, the emissions
//! aggregate of SPEC §3.2 written as SQL ([`emission_totals_sql`]), and the query's result as
//! Arrow batches that spotcheck's own writers accept ([`query`]). With the feature `cluster`,
//! [`cluster`] runs the same functions on Ballista's scheduler and executors.
//!
//! Parquet and Arrow IPC files are read by DataFusion (streamed, partitioned); CSV, JSON Lines and
//! XLSX files are read by spotcheck's readers (GB18030, byte-order marks, title rows above the
//! header and total rows, as every other command reads them) and queried from memory. The library
//! prints nothing; `spotcheck sql` prints or writes the result.

#[cfg(feature = "cluster")]
pub mod cluster;
#[cfg(test)]
mod tests;
pub mod udf;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::options::ArrowReadOptions;
use datafusion::error::DataFusionError;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

use crate::policy::Policy;
use crate::table::{Format, ReadOptions};

pub use udf::udfs;

/// What can go wrong in a query: the library's own errors stay `crate::Error`.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// DataFusion refused or failed the query (the message says where; DataFusion's message
    /// already carries its causes, so none is chained here).
    #[error("{}", describe(error))]
    Query { error: DataFusionError },
    /// A table file could not be registered.
    #[error("table {name:?} ({path})")]
    Register {
        name: String,
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A table name that SQL cannot use unquoted.
    #[error("{name:?} is not a table name: use letters, digits and _ , starting with a letter")]
    TableName { name: String },
    /// The result has a column type spotcheck's writers do not handle.
    #[error("column {column:?} of the result has type {data_type}, which cannot be written")]
    ColumnType { column: String, data_type: String },
}

/// DataFusion's error as one sentence for a person who wrote the query: the innermost cause,
/// without DataFusion's debug wrapping (`ParserError("…")`), repeated prefixes or backtraces,
/// and with a hint where the cause is a table name or a file that is not there.
///
/// ```
/// use datafusion::error::DataFusionError;
/// let e = DataFusionError::Plan("table 'datafusion.public.scored' not found".into());
/// assert_eq!(
///     spotcheck::sql::describe(&e),
///     "no table named scored: name a file in quotes (FROM 'scored.parquet') or register one \
///      with --table scored=FILE"
/// );
/// let e = DataFusionError::Plan("table 'datafusion.public.out/x.parquet' not found".into());
/// assert_eq!(spotcheck::sql::describe(&e), "out/x.parquet: no such table file");
/// ```
pub fn describe(error: &DataFusionError) -> String {
    use datafusion::sql::sqlparser::parser::ParserError;
    let root = error.find_root();
    let text = match root {
        DataFusionError::SQL(p, _) => {
            let m = match p.as_ref() {
                ParserError::ParserError(m) | ParserError::TokenizerError(m) => m.clone(),
                other => other.to_string(),
            };
            return format!("the query is not valid SQL: {m}");
        }
        DataFusionError::Plan(m) => {
            if let Some(name) = m
                .strip_prefix("table '")
                .and_then(|r| r.strip_suffix("' not found"))
            {
                let name = name.strip_prefix("datafusion.public.").unwrap_or(name);
                return if name.contains(['/', '.', '\\']) && Path::new(name).is_file() {
                    format!(
                        "{name}: a file named in quotes must be Parquet, Arrow IPC, CSV or JSON \
                         (.parquet .arrow .csv .json); register this one with --table t={name} \
                         and query t"
                    )
                } else if name.contains(['/', '.', '\\']) {
                    format!("{name}: no such table file")
                } else {
                    format!(
                        "no table named {name}: name a file in quotes (FROM 'scored.parquet') \
                         or register one with --table {name}=FILE"
                    )
                };
            }
            format!("the query cannot be planned: {}", m.replace('\n', " "))
        }
        other => format!(
            "the query failed: {}",
            other.strip_backtrace().replace('\n', " ")
        ),
    };
    collapse(&text)
}

/// Removes a prefix repeated back to back (`Parquet error: Parquet error: …` → one).
fn collapse(text: &str) -> String {
    let mut t = text.to_string();
    for p in [
        "Parquet error: ",
        "Arrow error: ",
        "External error: ",
        "IO error: ",
    ] {
        let twice = format!("{p}{p}");
        while t.contains(&twice) {
            t = t.replace(&twice, p);
        }
    }
    t
}

impl From<DataFusionError> for SqlError {
    fn from(source: DataFusionError) -> SqlError {
        SqlError::Query { error: source }
    }
}

/// The session settings spotcheck uses: strings as `Utf8` (not views) so results go to every
/// writer unchanged, and `information_schema` so `SHOW TABLES` and `SHOW COLUMNS` work.
pub fn session_config() -> SessionConfig {
    SessionConfig::new()
        .with_information_schema(true)
        .set_bool(
            "datafusion.execution.parquet.schema_force_view_types",
            false,
        )
        .set_bool("datafusion.sql_parser.map_string_types_to_utf8view", false)
}

/// Registers every spotcheck function on `ctx` (see [`udfs`]).
pub fn register_udfs(ctx: &SessionContext, policy: &Policy) {
    for f in udfs(policy) {
        ctx.register_udf(f);
    }
}

/// A local session: spotcheck's functions registered, and a quoted file path usable as a table
/// (`SELECT … FROM 'out/scored.parquet'`).
pub fn local_context(policy: &Policy) -> SessionContext {
    let ctx = SessionContext::new_with_config(session_config()).enable_url_table();
    register_udfs(&ctx, policy);
    ctx
}

/// Checks that `name` can be used in SQL unquoted.
pub fn check_table_name(name: &str) -> Result<(), SqlError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(SqlError::TableName { name: name.into() })
    }
}

/// The absolute path of `path` as DataFusion's listing tables want it (they resolve relative
/// paths against no working directory of ours, and an executor's would be another one).
pub fn absolute(path: &Path) -> Result<String, SqlError> {
    let abs = std::path::absolute(path).map_err(|e| SqlError::Register {
        name: String::new(),
        path: path.to_path_buf(),
        source: Box::new(e),
    })?;
    Ok(abs.display().to_string())
}

/// Registers the table file `path` as `name`: Parquet and Arrow IPC through DataFusion's readers
/// (which stream the file), other formats read whole by spotcheck's reader with `opts`.
pub async fn register_table(
    ctx: &SessionContext,
    name: &str,
    path: &Path,
    opts: &ReadOptions,
) -> Result<(), SqlError> {
    check_table_name(name)?;
    let wrap = |source: Box<dyn std::error::Error + Send + Sync>| SqlError::Register {
        name: name.into(),
        path: path.to_path_buf(),
        source,
    };
    let format = Format::from_path(path).map_err(|e| wrap(Box::new(e)))?;
    // Opening first gives spotcheck's own error for a missing or unreadable file.
    std::fs::File::open(path).map_err(|e| wrap(Box::new(e)))?;
    match format {
        Format::Parquet => {
            let ext = extension(path);
            let o = ParquetReadOptions {
                file_extension: &ext,
                ..Default::default()
            };
            ctx.register_parquet(name, absolute(path)?, o)
                .await
                .map_err(|e| wrap(unreadable(&e, "Parquet").into()))
        }
        Format::Arrow => {
            let ext = extension(path);
            let o = ArrowReadOptions {
                file_extension: &ext,
                ..Default::default()
            };
            ctx.register_arrow(name, absolute(path)?, o)
                .await
                .map_err(|e| wrap(unreadable(&e, "Arrow IPC").into()))
        }
        _ => {
            let reader = crate::table::open(path, opts).map_err(|e| wrap(Box::new(e)))?;
            let schema = reader.schema();
            let batches = reader.read_all().map_err(|e| wrap(Box::new(e)))?;
            let table = MemTable::try_new(schema, vec![batches]).map_err(|e| wrap(Box::new(e)))?;
            ctx.register_table(name, Arc::new(table))
                .map(|_| ())
                .map_err(|e| wrap(Box::new(e)))
        }
    }
}

/// A file DataFusion could not open as `format`, in one sentence (DataFusion's error would repeat
/// its cause two or three times).
fn unreadable(e: &DataFusionError, format: &str) -> String {
    let root = e.find_root().strip_backtrace();
    let cause = root
        .rsplit(": ")
        .find(|part| !part.ends_with(" error") && !part.is_empty())
        .unwrap_or(&root);
    format!("not a {format} file spotcheck can read ({cause})")
}

/// The file's extension with its dot (`.parquet`), which DataFusion uses to select files.
fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default()
}

/// Runs `sql` and collects the result, with string and binary views cast to plain types so that
/// spotcheck's writers accept every column.
pub async fn query(
    ctx: &SessionContext,
    sql: &str,
) -> Result<(SchemaRef, Vec<RecordBatch>), SqlError> {
    let df = ctx.sql(sql).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    plain(schema, batches)
}

/// Casts view and large string types to `Utf8` (and binary likewise) in `schema` and `batches`.
pub fn plain(
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<(SchemaRef, Vec<RecordBatch>), SqlError> {
    let out_schema = plain_schema(&schema);
    if out_schema == schema {
        return Ok((schema, batches));
    }
    let batches = batches
        .into_iter()
        .map(|b| plain_batch(&out_schema, b))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((out_schema, batches))
}

/// `schema` with view and large string types as `Utf8` (binary likewise): the schema of what
/// [`plain_batch`] returns.
pub fn plain_schema(schema: &SchemaRef) -> SchemaRef {
    let target = |t: &DataType| match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        other => other.clone(),
    };
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_data_type(target(f.data_type())))
        .collect();
    let out = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    if &out == schema { schema.clone() } else { out }
}

/// `b` cast to `schema` (from [`plain_schema`]); unchanged when its columns already have the
/// schema's types.
pub fn plain_batch(schema: &SchemaRef, b: RecordBatch) -> Result<RecordBatch, SqlError> {
    let arrow = |e| SqlError::Query {
        error: DataFusionError::ArrowError(Box::new(e), None),
    };
    if b.columns()
        .iter()
        .zip(schema.fields())
        .all(|(c, f)| c.data_type() == f.data_type())
    {
        return Ok(b);
    }
    let cols = b
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| datafusion::arrow::compute::cast(c, f.data_type()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(arrow)?;
    RecordBatch::try_new(schema.clone(), cols).map_err(arrow)
}

/// The emissions aggregate of SPEC §3.2 as SQL over a table of the emissions (columns `uscc`,
/// `outlet`, `medium`, `pollutant`, `amount_kg`, as text or typed): one row per enterprise with `pe_air`,
/// `pe_water` and `pe_total`. As the library does, duplicate rows of one enterprise, outlet and
/// pollutant are summed first and divided by the equivalent once; the sum over outlets and
/// pollutants is SQL's `SUM`, whose order of addition DataFusion does not fix, so a total may
/// differ from `spotcheck score`'s in the last bits (the library sums in a canonical order). The
/// environmental-tax estimate (top-N per outlet) is not part of this query.
///
/// ```
/// let q = spotcheck::sql::emission_totals_sql("emissions");
/// assert!(q.contains("GROUP BY"));
/// ```
pub fn emission_totals_sql(table: &str) -> String {
    format!(
        "WITH e AS (\n\
         \x20 SELECT upper(trim(uscc)) AS uscc, outlet, spotcheck_medium(medium) AS medium,\n\
         \x20        spotcheck_pollutant(medium, pollutant) AS pollutant,\n\
         \x20        CAST(amount_kg AS DOUBLE) AS amount_kg FROM {table}),\n\
         p AS (\n\
         \x20 SELECT uscc, outlet, medium, pollutant,\n\
         \x20        spotcheck_pe(medium, pollutant, SUM(amount_kg)) AS pe\n\
         \x20 FROM e GROUP BY uscc, outlet, medium, pollutant),\n\
         t AS (\n\
         \x20 SELECT uscc,\n\
         \x20        SUM(CASE WHEN medium = 'air' THEN pe ELSE 0.0 END) AS pe_air,\n\
         \x20        SUM(CASE WHEN medium = 'water' THEN pe ELSE 0.0 END) AS pe_water\n\
         \x20 FROM p GROUP BY uscc)\n\
         SELECT uscc, pe_air, pe_water, pe_air + pe_water AS pe_total FROM t"
    )
}

/// `text` as an SQL string literal (single quotes doubled).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// SPEC §4 steps 1–4 for one department as SQL window functions, over a scored table in English
/// (`spotcheck score -o …`): eligible units (ratio > 0 and a yearly maximum above 0: a draw
/// without history), π = `spotcheck_pi(ratio)` (no capacity), the order key, and per stratum the
/// running sums `t_before` and `t_after` as `SUM(pi) OVER (PARTITION BY stratum ORDER BY key,
/// uscc ROWS …)` and `selected` = n(t_after) > n(t_before). The result lists every eligible unit
/// in processing order (stratum, key, uscc).
///
/// Exactness: a window frame that starts at `UNBOUNDED PRECEDING` is evaluated by DataFusion row by
/// row within its partition, in the window's order, adding each new row to one accumulator —
/// `T ← T + π` in f64, the walk of §4 step 4 — and `t_before` is the same walk one row behind
/// (not `t_after − π`, which can differ in the last bit). n(T) is written with `CASE` so that it
/// is never −0.0 (Arrow compares floats in IEEE total order, where −0.0 < 0.0). The selection
/// then equals `spotcheck sample`'s for the same seed, month, department and strata without
/// `--history` or `--capacity` (tested on `data/sample` and on 10⁵ generated enterprises, on one
/// machine and on a Ballista cluster). Capacity (ranking all units by ratio and the suffix sums
/// S_k), history, the joint and coordinated draws and the inspectors are not in this query.
///
/// ```
/// use spotcheck::sample::Strata;
/// use spotcheck::schema::Department;
/// let q = spotcheck::sql::systematic_draw_sql("scored", "2026-12 lottery 0387", Department::Market, "2026-12", Strata::District);
/// assert!(q.contains("ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"));
/// ```
pub fn systematic_draw_sql(
    table: &str,
    seed: &str,
    department: crate::schema::Department,
    month: &str,
    strata: crate::sample::Strata,
) -> String {
    use crate::sample::Strata;
    use crate::schema::Department;
    let (ratio, max) = match department {
        Department::Market => ("market_ratio", "market_max_per_year"),
        Department::Ecology => ("eco_ratio", "eco_max_per_year"),
    };
    let stratum = match strata {
        Strata::District => "CAST(district AS VARCHAR)",
        Strata::Tier => "CAST(tier AS VARCHAR)",
        Strata::None => "''",
    };
    // One stratum: no PARTITION BY (Ballista's executors refuse a window partitioned by a
    // constant: "Expects PARTITION BY expression to be ordered").
    let partition = match strata {
        Strata::None => "",
        _ => "PARTITION BY stratum ",
    };
    let args = format!(
        "{}, {}, {}",
        literal(seed),
        literal(department.en()),
        literal(month)
    );
    let n = |t: &str| format!("CASE WHEN {t} - start > 0.0 THEN ceil({t} - start) ELSE 0.0 END");
    format!(
        "WITH u AS (\n\
         \x20 SELECT uscc, {stratum} AS stratum, spotcheck_pi({ratio}) AS pi,\n\
         \x20        spotcheck_order_key({args}, uscc) AS key\n\
         \x20 FROM {table} WHERE {ratio} > 0 AND {max} > 0),\n\
         w AS (\n\
         \x20 SELECT stratum, key, uscc, pi, spotcheck_stratum_start({args}, stratum) AS start,\n\
         \x20        coalesce(SUM(pi) OVER ({partition}ORDER BY key, uscc\n\
         \x20          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0.0) AS t_before,\n\
         \x20        SUM(pi) OVER ({partition}ORDER BY key, uscc\n\
         \x20          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS t_after\n\
         \x20 FROM u)\n\
         SELECT stratum, key, uscc, pi, t_before, t_after,\n\
         \x20      ({after}) > ({before}) AS selected\n\
         FROM w ORDER BY stratum, key, uscc",
        after = n("t_after"),
        before = n("t_before"),
    )
}
