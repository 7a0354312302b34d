//! Apache Ballista with spotcheck's functions (SPEC §11; cargo feature `cluster`): the scheduler
//! and executor processes of `spotcheck cluster`, a client session on a running cluster, and the
//! draw's inputs gathered from it.
//!
//! Ballista resolves a scalar function by name wherever a plan is planned or run, so spotcheck's
//! functions are registered in three places, as Ballista's own examples do it: on the executor
//! (its function registry is replaced by [`function_registry`]: DataFusion's built-ins plus
//! spotcheck's), on the scheduler (its session builder, [`session_state`], adds them to each
//! session it plans) and on the client (registered on the context *after* it is connected,
//! because connecting rebuilds the session's function map). All three use the same policy file;
//! a cluster started with one policy computes that policy's ratios whatever the client's is.
//!
//! `score --cluster` ([`gather_tables`]): the executors read the enterprise and emissions tables,
//! each file as one partition so that its rows come back in file order, and the rows are written
//! here to Arrow IPC copies that `score`'s own pipeline reads; the scoring, the credit model and
//! the rejected-row checks run here, so scored file, rejects and counts are byte for byte the
//! single-machine command's (row numbers and file names are the original files'). The copies are
//! cut into the batches the local reader would give for the original file (a Parquet output's
//! pages follow the batches). The rows pass through this machine's memory once (as the
//! executors return them), which bounds the table a client can gather.
//!
//! `sample --cluster` ([`load_draw`]): the cluster reads the scored table and returns the frame's
//! few columns (code, name, district, tier, class, ratios, maxima, risk score); the draw itself
//! runs here with the library's kernel, so its f64 running sums are the single-machine ones and
//! the selection is identical by construction.
//!
//! The draw itself as window functions on the executors ([`super::systematic_draw_sql`]: running
//! Σπ per stratum in key order) is exact — the cluster test shows the same selection and every
//! stratum's Σπ equal to the bit — but covers §4 only without history and capacity. `sample
//! --cluster` still gathers the frame and draws here because (1) a capacity's π ranks every unit
//! of the department by ratio and stops on suffix sums S_k, a sequential rule over the whole
//! frame; (2) history eligibility, the joint and coordinated draws, the inspectors and the
//! manifest (per-stratum counts, exclusions, starts) are built by the sample module from the
//! frame; (3) the output needs the drawn units' names and columns, so the frame's columns are
//! read anyway, and the local walk over them is a sort and one pass, small next to the reading.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ballista::extension::SessionContextExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::FunctionRegistry;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::{SqlError, query, register_table, register_udfs, session_config, udfs};
use crate::policy::Policy;
use crate::sample::run::{DrawFiles, Loaded, load};
use crate::schema::{Col, out};
use crate::table::{Format, ReadOptions, Rejects, WriteOptions, create, sha256_file};

/// What can go wrong starting or reaching a cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A `HOST:PORT` or `df://HOST:PORT` that does not parse.
    #[error("{value:?} is not {expected}")]
    Address {
        value: String,
        expected: &'static str,
    },
    /// Ballista failed (the scheduler or executor could not start, or stopped with an error).
    #[error("{what}")]
    Ballista {
        what: &'static str,
        #[source]
        source: ballista_core::error::BallistaError,
    },
    /// A query on the cluster failed.
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// The scored table must be a file every executor can read in a columnar format.
    #[error(
        "{path}: a draw on a cluster reads the scored table as Parquet or Arrow IPC (.parquet, .arrow); write it so with `spotcheck score -o …parquet`"
    )]
    ScoredFormat { path: PathBuf },
    /// An input table of `score --cluster` must be a file every executor can read in a columnar
    /// format.
    #[error(
        "{path}: a run on a cluster reads its tables as Parquet or Arrow IPC (.parquet, .arrow); convert it with `spotcheck sql \"SELECT * FROM t\" --table t=FILE -o FILE.parquet`"
    )]
    TableFormat { path: PathBuf },
    /// Rows of the scored table were rejected: their row numbers are only known to a reading of
    /// the file in order, which is the single-machine command's.
    #[error(
        "{path}: {count} row(s) of the scored table would be rejected (first: {first}); run the draw without --cluster to see them by row number"
    )]
    Rejected {
        path: PathBuf,
        count: usize,
        first: String,
    },
    /// Reading or writing a local file around the cluster's answer.
    #[error(transparent)]
    Library(#[from] crate::Error),
}

/// A `HOST:PORT` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl HostPort {
    /// Parses `HOST:PORT` (`127.0.0.1:50050`, `scheduler.local:50050`).
    ///
    /// ```
    /// use spotcheck::sql::cluster::HostPort;
    /// let a = HostPort::parse("127.0.0.1:50050").unwrap();
    /// assert_eq!((a.host.as_str(), a.port), ("127.0.0.1", 50050));
    /// assert!(HostPort::parse("127.0.0.1").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<HostPort, ClusterError> {
        let bad = || ClusterError::Address {
            value: s.into(),
            expected: "HOST:PORT, e.g. 127.0.0.1:50050",
        };
        let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        if host.is_empty() || port == 0 {
            return Err(bad());
        }
        Ok(HostPort {
            host: host.into(),
            port,
        })
    }

    /// Parses a scheduler URL `df://HOST:PORT`.
    pub fn parse_url(s: &str) -> Result<HostPort, ClusterError> {
        let rest = s
            .strip_prefix("df://")
            .ok_or_else(|| ClusterError::Address {
                value: s.into(),
                expected: "a scheduler URL df://HOST:PORT, e.g. df://127.0.0.1:50050",
            })?;
        HostPort::parse(rest)
    }

    /// `df://HOST:PORT`.
    pub fn url(&self) -> String {
        format!("df://{}:{}", self.host, self.port)
    }
}

/// The executor's function registry: DataFusion's built-ins and spotcheck's functions.
pub fn function_registry(policy: &Policy) -> Arc<BallistaFunctionRegistry> {
    let mut registry = BallistaFunctionRegistry::default();
    for f in udfs(policy) {
        registry
            .scalar_functions
            .insert(f.name().to_string(), Arc::new(f));
    }
    Arc::new(registry)
}

/// The scheduler's session state: Ballista's default, plus spotcheck's functions registered on
/// the built state (a builder's `with_scalar_functions` would replace the built-ins).
pub fn session_state(
    config: SessionConfig,
    policy: &Policy,
) -> datafusion::error::Result<SessionState> {
    let mut state = default_session_builder(config)?;
    for f in udfs(policy) {
        state.register_udf(Arc::new(f))?;
    }
    Ok(state)
}

/// Runs a scheduler on `listen` until the process is stopped.
pub async fn run_scheduler(listen: &HostPort, policy: &Policy) -> Result<(), ClusterError> {
    let policy = policy.clone();
    let config = SchedulerConfig {
        bind_host: listen.host.clone(),
        external_host: listen.host.clone(),
        bind_port: listen.port,
        override_session_builder: Some(Arc::new(move |c: SessionConfig| session_state(c, &policy))),
        ..Default::default()
    };
    let addr = tokio::net::lookup_host((listen.host.as_str(), listen.port))
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| ClusterError::Address {
            value: format!("{}:{}", listen.host, listen.port),
            expected: "an address of this machine",
        })?;
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|source| ClusterError::Ballista {
            what: "starting the scheduler",
            source,
        })?;
    start_server(cluster, addr, Arc::new(config))
        .await
        .map_err(|source| ClusterError::Ballista {
            what: "the scheduler stopped",
            source,
        })
}

/// How an executor runs.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler to register with.
    pub scheduler: HostPort,
    /// Where it serves Arrow Flight (PORT) and its gRPC service (PORT + 1).
    pub listen: HostPort,
    /// Tasks run at once.
    pub tasks: usize,
    /// Where shuffle files go (default: a temporary directory).
    pub work_dir: Option<PathBuf>,
}

/// Runs an executor until the process is stopped.
pub async fn run_executor(o: &ExecutorOptions, policy: &Policy) -> Result<(), ClusterError> {
    let grpc_port = o
        .listen
        .port
        .checked_add(1)
        .ok_or_else(|| ClusterError::Address {
            value: format!("{}:{}", o.listen.host, o.listen.port),
            expected: "a port below 65535 (the executor also uses PORT + 1)",
        })?;
    let config = ExecutorProcessConfig {
        bind_host: o.listen.host.clone(),
        external_host: Some(o.listen.host.clone()),
        port: o.listen.port,
        grpc_port,
        scheduler_host: o.scheduler.host.clone(),
        scheduler_port: o.scheduler.port,
        // An executor started with its scheduler waits for it rather than failing at once.
        scheduler_connect_timeout_seconds: 30,
        vcores: o.tasks.max(1),
        work_dir: o.work_dir.as_ref().map(|p| p.display().to_string()),
        override_function_registry: Some(function_registry(policy)),
        ..Default::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|source| ClusterError::Ballista {
            what: "the executor stopped",
            source,
        })
}

/// A client session on the cluster at `url` (`df://HOST:PORT`), with spotcheck's functions.
pub async fn connect(url: &str, policy: &Policy) -> Result<SessionContext, ClusterError> {
    HostPort::parse_url(url)?;
    let state = datafusion::execution::SessionStateBuilder::new()
        .with_config(session_config())
        .with_default_features()
        .build();
    let ctx = SessionContext::remote_with_state(url, state)
        .await
        .map_err(|source| SqlError::Query { error: source })?;
    // After connecting: connecting rebuilds the state's scalar functions from Ballista's list.
    register_udfs(&ctx, policy);
    Ok(ctx)
}

/// The scored file's columns that the draw reads (SPEC §4 and the sample's columns).
const FRAME: [Col; 10] = [
    out::USCC,
    out::NAME,
    out::DISTRICT,
    out::TIER,
    out::CREDIT_CLASS,
    out::MARKET_RATIO,
    out::MARKET_MAX_PER_YEAR,
    out::ECO_RATIO,
    out::ECO_MAX_PER_YEAR,
    out::RISK_SCORE,
];

/// Reads the frame's columns of the scored table `scored` on the cluster and returns them.
pub async fn gather_frame(
    ctx: &SessionContext,
    scored: &Path,
) -> Result<(SchemaRef, Vec<RecordBatch>), ClusterError> {
    match Format::from_path(scored)? {
        Format::Parquet | Format::Arrow => {}
        _ => {
            return Err(ClusterError::ScoredFormat {
                path: scored.to_path_buf(),
            });
        }
    }
    register_table(ctx, "scored", scored, &ReadOptions::default()).await?;
    let table = ctx
        .table("scored")
        .await
        .map_err(|source| SqlError::Query { error: source })?;
    let columns: Vec<String> = table
        .schema()
        .fields()
        .iter()
        .filter(|f| FRAME.iter().any(|c| c.matches(f.name())))
        .map(|f| format!("\"{}\"", f.name().replace('"', "\"\"")))
        .collect();
    // With none of them, the local reading below names the missing columns.
    let list = if columns.is_empty() {
        "*".to_string()
    } else {
        columns.join(", ")
    };
    Ok(query(ctx, &format!("SELECT {list} FROM scored")).await?)
}

/// Loads a draw's inputs with the scored table read on the cluster at `url`: the frame's columns
/// come back from the executors and are read by the same code as a local file (through a
/// temporary Arrow IPC file, removed afterwards); history and inspectors are read here. The
/// manifest's record of the scored file (path, SHA-256, row counts) is the local command's.
pub async fn load_draw(
    url: &str,
    policy: &Policy,
    files: DrawFiles<'_>,
    opts: &ReadOptions,
    rejects: &mut Rejects,
) -> Result<Loaded, ClusterError> {
    let ctx = connect(url, policy).await?;
    let (schema, batches) = gather_frame(&ctx, files.scored).await?;
    let temp = std::env::temp_dir().join(format!(
        "spotcheck-cluster-{}-{}.arrow",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let result = (|| -> Result<(Loaded, Rejects), ClusterError> {
        let mut w = create(&temp, schema, &WriteOptions::default())?;
        for b in &batches {
            w.write(b)?;
        }
        w.finish()?;
        let mut scratch = Rejects::new(rejects.is_strict());
        let mut loaded = load(
            DrawFiles {
                scored: &temp,
                ..files
            },
            opts,
            &mut scratch,
        )?;
        // The frame leaves its names in a columnar file and reads back the drawn units' names
        // after the draw; this file is removed below, so its names are read now.
        loaded.frame.load_names()?;
        Ok((loaded, scratch))
    })();
    // The temporary file goes whatever happened; a failure to remove it is no failure of the draw.
    let _ = std::fs::remove_file(&temp);
    let (mut loaded, scratch) = result?;
    let temp_name = temp.display().to_string();
    let mine: Vec<_> = scratch
        .items()
        .iter()
        .filter(|r| r.file == temp_name)
        .collect();
    if let Some(first) = mine.first() {
        return Err(ClusterError::Rejected {
            path: files.scored.to_path_buf(),
            count: mine.len(),
            first: format!("{} {:?}: {}", first.column, first.value, first.detail),
        });
    }
    for r in scratch.items() {
        rejects.push(r.clone())?;
    }
    let record = &mut loaded.inputs[0];
    record.path = files.scored.display().to_string();
    record.sha256 = sha256_file(files.scored)?;
    loaded.counts[0].0 = files.scored.to_path_buf();
    Ok(loaded)
}

/// Table files read on the cluster and written back here, in file order, as Arrow IPC files that
/// the single-machine readers then read ([`gather_tables`]). The copies live in a folder beside
/// the output and are removed when this is dropped (also when the run fails); a run killed
/// outright leaves the folder behind (`.NAME.cluster-PID`), and the next run of any command
/// writing into that folder removes it once the process is gone.
#[derive(Debug)]
pub struct Gathered {
    dir: PathBuf,
    /// (the file the user named, the local copy of its rows).
    files: Vec<(PathBuf, PathBuf)>,
}

impl Gathered {
    /// The local copy of `original`, or `original` itself when it was not gathered.
    pub fn local<'a>(&'a self, original: &'a Path) -> &'a Path {
        self.files
            .iter()
            .find(|(o, _)| o == original)
            .map_or(original, |(_, l)| l.as_path())
    }

    /// `text` with every local copy's path replaced by the file the user named (for messages
    /// that quote the file they read).
    pub fn restore_text(&self, text: &str) -> String {
        self.files.iter().fold(text.to_string(), |t, (o, l)| {
            t.replace(&l.display().to_string(), &o.display().to_string())
        })
    }

    /// Moves `scratch`'s rejected rows into `rejects`, naming the files the user named; under
    /// `--strict` the first of them is the error, as it is without a cluster.
    pub fn restore_rejects(&self, scratch: Rejects, rejects: &mut Rejects) -> crate::Result<()> {
        for r in scratch.items() {
            let mut r = r.clone();
            r.file = self.restore_text(&r.file);
            rejects.push(r)?;
        }
        Ok(())
    }
}

impl Drop for Gathered {
    fn drop(&mut self) {
        // A failure to remove the copies is no failure of the run.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Reads every table file of `tables` on the cluster at `url` and writes its rows, in file order,
/// to a local Arrow IPC copy in a folder beside `beside` (the run's output). The files must be
/// Parquet or Arrow IPC at a path every executor can read. Each file is read as one partition, so
/// its rows come back in file order and keep their row numbers (which rejected-row reports
/// quote); the columns keep their types.
pub async fn gather_tables(
    url: &str,
    policy: &Policy,
    tables: &[&Path],
    beside: &Path,
) -> Result<Gathered, ClusterError> {
    for t in tables {
        match Format::from_path(t)? {
            Format::Parquet | Format::Arrow => {}
            _ => {
                return Err(ClusterError::TableFormat {
                    path: t.to_path_buf(),
                });
            }
        }
    }
    let ctx = connect(url, policy).await?;
    // One partition per file: the executors' scan keeps the file's row order.
    ctx.state_ref()
        .write()
        .config_mut()
        .options_mut()
        .execution
        .target_partitions = 1;
    // A killed run's folder is removed first (only when its process is gone).
    crate::table::atomic::sweep_folder_of(beside);
    let dir = crate::table::atomic::cluster_scratch(beside);
    std::fs::create_dir_all(&dir).map_err(|e| crate::Error::io(&dir, e))?;
    let mut gathered = Gathered {
        dir,
        files: Vec::new(),
    };
    for (i, t) in tables.iter().enumerate() {
        let table = format!("t{i}");
        register_table(&ctx, &table, t, &ReadOptions::default()).await?;
        let (schema, batches) = query(&ctx, &format!("SELECT * FROM {table}")).await?;
        let copy = gathered.dir.join(format!("{i}.arrow"));
        let mut w = create(&copy, schema.clone(), &WriteOptions::default())?;
        // The copy is cut into the batches the local reader gives for the file: a fixed number
        // of rows for Parquet (the last batch shorter), the file's own batches for Arrow IPC.
        // Scoring and writing go batch by batch and a Parquet output's pages follow the batches,
        // so other cuts would give other bytes.
        let n: usize = batches.iter().map(|b| b.num_rows()).sum();
        let cuts = match Format::from_path(t)? {
            Format::Arrow => ipc_batch_rows(t)?,
            _ => {
                let step = ReadOptions::default().batch_rows.max(1);
                (0..n.div_ceil(step))
                    .map(|i| step.min(n - i * step))
                    .collect()
            }
        };
        if cuts.iter().sum::<usize>() != n {
            return Err(crate::Error::io(
                *t,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "the cluster returned {n} rows, the file's batches hold {}",
                        cuts.iter().sum::<usize>()
                    ),
                ),
            )
            .into());
        }
        // Each cut is assembled from slices of the batches that came back (no second copy of
        // the whole table).
        let mut pieces = batches.iter();
        let mut current: Option<(&RecordBatch, usize)> = None;
        for len in cuts {
            let mut parts = Vec::new();
            let mut need = len;
            while need > 0 {
                let (b, at) = match current.take() {
                    Some(c) => c,
                    // Invariant: the cuts add up to the rows of the batches (checked above).
                    None => (pieces.next().expect("rows left for the cut"), 0),
                };
                let take = need.min(b.num_rows() - at);
                if take > 0 {
                    parts.push(b.slice(at, take));
                }
                need -= take;
                if at + take < b.num_rows() {
                    current = Some((b, at + take));
                }
            }
            let cut = datafusion::arrow::compute::concat_batches(&schema, &parts).map_err(|e| {
                SqlError::Query {
                    error: datafusion::error::DataFusionError::ArrowError(Box::new(e), None),
                }
            })?;
            w.write(&cut)?;
        }
        w.finish()?;
        gathered.files.push((t.to_path_buf(), copy));
    }
    Ok(gathered)
}

/// The number of rows of each record batch of the Arrow IPC file `path`, in the order its footer
/// lists them (the order the local reader reads them), from the batches' metadata alone (the
/// bodies are not read).
fn ipc_batch_rows(path: &Path) -> Result<Vec<usize>, crate::Error> {
    use std::io::{Read, Seek, SeekFrom};
    let damaged = |what: String| {
        crate::Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not a readable Arrow IPC file: {what}"),
            ),
        )
    };
    let io = |e: std::io::Error| crate::Error::io(path, e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size < 18 {
        return Err(damaged(format!("{size} bytes")));
    }
    let mut tail = [0u8; 10];
    file.seek(SeekFrom::Start(size - 10)).map_err(io)?;
    file.read_exact(&mut tail).map_err(io)?;
    let footer_len = i32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    if &tail[4..] != b"ARROW1" || footer_len < 0 || footer_len as u64 > size - 18 {
        return Err(damaged("no footer".into()));
    }
    let mut footer = vec![0u8; footer_len as usize];
    file.seek(SeekFrom::Start(size - 10 - footer_len as u64))
        .map_err(io)?;
    file.read_exact(&mut footer).map_err(io)?;
    let footer = datafusion::arrow::ipc::root_as_footer(&footer)
        .map_err(|e| damaged(format!("the footer cannot be read ({e})")))?;
    let mut rows = Vec::new();
    for block in footer.recordBatches().into_iter().flatten() {
        let (offset, len) = (block.offset(), block.metaDataLength());
        if offset < 0 || len < 8 || (offset as u64).saturating_add(len as u64) > size {
            return Err(damaged(format!(
                "a batch at byte {offset} lies outside the file"
            )));
        }
        let mut meta = vec![0u8; len as usize];
        file.seek(SeekFrom::Start(offset as u64)).map_err(io)?;
        file.read_exact(&mut meta).map_err(io)?;
        // A continuation marker and a length, or (older files) the length alone.
        let skip = if meta[..4] == [0xFF; 4] { 8 } else { 4 };
        let message = datafusion::arrow::ipc::root_as_message(&meta[skip..])
            .map_err(|e| damaged(format!("the batch at byte {offset} cannot be read ({e})")))?;
        let b = message
            .header_as_record_batch()
            .ok_or_else(|| damaged(format!("the block at byte {offset} is no record batch")))?;
        rows.push(
            usize::try_from(b.length())
                .map_err(|_| damaged(format!("a batch claims {} rows", b.length())))?,
        );
    }
    Ok(rows)
}
