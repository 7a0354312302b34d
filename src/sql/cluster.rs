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
//! single-machine command's (row numbers and file names are the original files'). The rows are
//! streamed ([`DataFrame::execute_stream`](datafusion::dataframe::DataFrame::execute_stream)):
//! each batch is written to the copy as it arrives, re-cut on the fly (`Recut`) into the batches
//! the local reader would give for the original file (a Parquet output's pages follow the
//! batches), so this machine holds a batch and the cut being assembled, not the table. The copies
//! live in a scratch folder beside the output
//! ([`cluster_scratch`](crate::table::atomic::cluster_scratch), `.NAME.cluster-PID`), removed at
//! the end; a killed run's is swept by the next run writing there.
//!
//! `sample --cluster` ([`load_draw`]): the cluster reads the scored table and streams back the
//! frame's few columns (code, name, district, tier, class, ratios, maxima, risk score) into the
//! same kind of scratch folder beside the sample; the draw itself runs here with the library's
//! kernel, so its f64 running sums are the single-machine ones and the selection is identical by
//! construction.
//!
//! Only Parquet and Arrow IPC *files* are read on a cluster: CSV, JSON Lines and XLSX need
//! spotcheck's readers, and an Arrow IPC stream (no footer), which DataFusion 55 reads on one
//! machine, fails on the executors (the plan they are sent reads the file format), so both are
//! refused before anything runs, with the conversion to use.
//!
//! An executor started without a work folder uses [`default_work_dir`] and removes it when it
//! stops cleanly (Ballista's own default is a temporary folder that it never removes).
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

use super::{SqlError, register_table, register_udfs, session_config, udfs};
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
    /// Nothing answers at the scheduler's address (checked before Ballista connects, whose own
    /// error is a debug dump of its transport layer).
    #[error(
        "no scheduler answers at {url} ({reason}); check the address, or start one there with `spotcheck cluster scheduler --listen HOST:PORT`"
    )]
    Unreachable { url: String, reason: String },
    /// A port a scheduler or executor would serve on is taken.
    #[error(
        "port {port} on {host} is already in use (another scheduler or executor, or another program); choose another with --listen HOST:PORT (an executor uses PORT and PORT + 1)"
    )]
    PortInUse { host: String, port: u16 },
    /// An executor's scheduler did not answer within the wait.
    #[error(
        "no scheduler answered at {host}:{port} within {seconds} s ({reason}); start it first with `spotcheck cluster scheduler --listen {host}:{port}`, or check --scheduler"
    )]
    NoScheduler {
        host: String,
        port: u16,
        seconds: u64,
        reason: String,
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
    /// An Arrow IPC stream: DataFusion's executors read only the IPC file format.
    #[error(
        "{path}: this is an Arrow IPC stream (no footer), which the executors cannot read; write it as an Arrow IPC file or Parquet first, e.g. `spotcheck sql \"SELECT * FROM t\" --table t=FILE -o FILE.parquet`, or run without --cluster"
    )]
    ArrowStream { path: PathBuf },
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
    can_listen(&listen.host, listen.port)?;
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
    /// Where shuffle files go. Default: [`default_work_dir`], created here and removed when the
    /// executor stops cleanly.
    pub work_dir: Option<PathBuf>,
}

/// The work folder of an executor started without one: `spotcheck-executor-PID` in the system
/// temporary folder (`$TMPDIR`, else `/tmp`).
pub fn default_work_dir() -> PathBuf {
    std::env::temp_dir().join(format!("{EXECUTOR_DIR}{}", std::process::id()))
}

const EXECUTOR_DIR: &str = "spotcheck-executor-";

/// Removes the default work folders (`spotcheck-executor-PID`) that executors killed outright
/// left in `dir`, when no process with that id runs; returns the folders removed. Anything else
/// is left alone.
pub fn sweep_executor_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(EXECUTOR_DIR))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let path = e.path();
        if path.is_dir()
            && !crate::table::atomic::process_alive(pid)
            && std::fs::remove_dir_all(&path).is_ok()
        {
            removed.push(path);
        }
    }
    removed
}

/// Runs an executor until the process is stopped. Without a work folder it uses
/// [`default_work_dir`] (after removing those of killed executors, [`sweep_executor_dirs`]) and
/// removes it when the executor stops.
pub async fn run_executor(o: &ExecutorOptions, policy: &Policy) -> Result<(), ClusterError> {
    let grpc_port = o
        .listen
        .port
        .checked_add(1)
        .ok_or_else(|| ClusterError::Address {
            value: format!("{}:{}", o.listen.host, o.listen.port),
            expected: "a port below 65535 (the executor also uses PORT + 1)",
        })?;
    can_listen(&o.listen.host, o.listen.port)?;
    can_listen(&o.listen.host, grpc_port)?;
    wait_for_scheduler(&o.scheduler).await?;
    // Without a folder, Ballista would make one in the temporary folder and leave it behind.
    let work_dir = match &o.work_dir {
        Some(d) => d.clone(),
        None => {
            let d = default_work_dir();
            if let Some(parent) = d.parent() {
                sweep_executor_dirs(parent);
            }
            std::fs::create_dir_all(&d).map_err(|e| crate::Error::io(&d, e))?;
            d
        }
    };
    let config = ExecutorProcessConfig {
        bind_host: o.listen.host.clone(),
        external_host: Some(o.listen.host.clone()),
        port: o.listen.port,
        grpc_port,
        scheduler_host: o.scheduler.host.clone(),
        scheduler_port: o.scheduler.port,
        // The scheduler answered just now (`wait_for_scheduler`): one attempt.
        scheduler_connect_timeout_seconds: 0,
        vcores: o.tasks.max(1),
        work_dir: Some(work_dir.display().to_string()),
        override_function_registry: Some(function_registry(policy)),
        ..Default::default()
    };
    let result = start_executor_process(Arc::new(config))
        .await
        .map_err(|source| ClusterError::Ballista {
            what: "the executor stopped",
            source,
        });
    // The default folder is this process's own; a folder the user named is left as it is.
    if o.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work_dir);
    }
    result
}

/// A client session on the cluster at `url` (`df://HOST:PORT`), with spotcheck's functions.
pub async fn connect(url: &str, policy: &Policy) -> Result<SessionContext, ClusterError> {
    let at = HostPort::parse_url(url)?;
    reachable(url, &at).await?;
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

/// How long [`connect`] waits for the scheduler's port to accept a connection.
const CONNECT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Checks that something accepts TCP connections at `at` within [`CONNECT_WAIT`]: a wrong host,
/// a wrong port or a scheduler not started yet is then one sentence, not Ballista's transport
/// error, and never a long wait.
async fn reachable(url: &str, at: &HostPort) -> Result<(), ClusterError> {
    let fail = |reason: String| ClusterError::Unreachable {
        url: url.into(),
        reason,
    };
    match tokio::time::timeout(CONNECT_WAIT, try_connect(at)).await {
        Ok(r) => r.map_err(fail),
        Err(_) => Err(fail(format!(
            "no answer within {} s",
            CONNECT_WAIT.as_secs()
        ))),
    }
}

/// One TCP connection attempt to `at`; the reason it failed, in words.
async fn try_connect(at: &HostPort) -> Result<(), String> {
    let addrs: Vec<_> = tokio::net::lookup_host((at.host.as_str(), at.port))
        .await
        .map_err(|_| format!("the host {} is not known", at.host))?
        .collect();
    let mut last = format!("the host {} has no address", at.host);
    for a in addrs {
        match tokio::net::TcpStream::connect(a).await {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = format!("connection refused on port {}", at.port);
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// How long an executor waits for its scheduler to answer (it may be started first).
pub const SCHEDULER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits until the scheduler at `at` accepts connections, trying every half second for
/// [`SCHEDULER_WAIT`] (Ballista's own wait, `scheduler_connect_timeout_seconds`, never ends in
/// ballista-executor 55.0: it measures the time since an `Instant` created on the spot).
async fn wait_for_scheduler(at: &HostPort) -> Result<(), ClusterError> {
    let start = std::time::Instant::now();
    loop {
        let reason = match tokio::time::timeout(CONNECT_WAIT, try_connect(at)).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(reason)) => reason,
            Err(_) => format!("no answer within {} s", CONNECT_WAIT.as_secs()),
        };
        if start.elapsed() >= SCHEDULER_WAIT {
            return Err(ClusterError::NoScheduler {
                host: at.host.clone(),
                port: at.port,
                seconds: SCHEDULER_WAIT.as_secs(),
                reason,
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Checks that `host:port` can be served on here: a port in use or a host that is not an address
/// of this machine is one sentence before Ballista starts (which would print its banner first).
pub fn can_listen(host: &str, port: u16) -> Result<(), ClusterError> {
    match std::net::TcpListener::bind((host, port)) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(ClusterError::PortInUse {
            host: host.into(),
            port,
        }),
        Err(_) => Err(ClusterError::Address {
            value: format!("{host}:{port}"),
            expected: "an address of this machine to listen on",
        }),
    }
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

/// Which file a check is about, for the sentence that refuses it.
#[derive(Clone, Copy)]
enum Role {
    /// `sample --cluster`'s scored table.
    Scored,
    /// One of `score --cluster`'s input tables.
    Input,
}

/// Checks that `path` is a table file the executors can read: Parquet, or Arrow IPC in the file
/// format (DataFusion reads an IPC *stream* on one machine, but its executors are sent a plan
/// that reads the file format and fail on a stream's missing footer).
fn check_columnar(path: &Path, role: Role) -> Result<Format, ClusterError> {
    let format = Format::from_path(path)?;
    match format {
        Format::Parquet => Ok(format),
        Format::Arrow => {
            use std::io::Read;
            let mut head = [0u8; 6];
            let mut file = std::fs::File::open(path).map_err(|e| crate::Error::io(path, e))?;
            // A file shorter than the magic is not a file-format IPC file either.
            let n = file
                .read(&mut head)
                .map_err(|e| crate::Error::io(path, e))?;
            if n == head.len() && &head == b"ARROW1" {
                Ok(format)
            } else {
                Err(ClusterError::ArrowStream {
                    path: path.to_path_buf(),
                })
            }
        }
        _ => Err(match role {
            Role::Scored => ClusterError::ScoredFormat {
                path: path.to_path_buf(),
            },
            Role::Input => ClusterError::TableFormat {
                path: path.to_path_buf(),
            },
        }),
    }
}

/// Reads each file as one partition: the executors' scan then keeps the file's row order.
fn one_partition(ctx: &SessionContext) {
    ctx.state_ref()
        .write()
        .config_mut()
        .options_mut()
        .execution
        .target_partitions = 1;
}

/// The column list of the frame's columns present in the registered table `table` (`*` when
/// none is: the local reading then names the missing columns).
async fn frame_columns(ctx: &SessionContext, table: &str) -> Result<String, ClusterError> {
    let t = ctx
        .table(table)
        .await
        .map_err(|source| SqlError::Query { error: source })?;
    let columns: Vec<String> = t
        .schema()
        .fields()
        .iter()
        .filter(|f| FRAME.iter().any(|c| c.matches(f.name())))
        .map(|f| format!("\"{}\"", f.name().replace('"', "\"\"")))
        .collect();
    Ok(if columns.is_empty() {
        "*".to_string()
    } else {
        columns.join(", ")
    })
}

/// Loads a draw's inputs with the scored table read on the cluster at `url`: the frame's columns
/// stream back from the executors into an Arrow IPC file in a scratch folder beside `beside`
/// (the sample's output; named by [`crate::table::atomic::cluster_scratch`], like `score
/// --cluster`'s) and are read from there by the same code as a local file; history and
/// inspectors are read here. The manifest's record of the scored file (path, SHA-256, row counts)
/// is the local command's. The returned [`Gathered`] removes the folder when dropped: keep it
/// until the sample is written (the drawn units' names are read back from that file).
pub async fn load_draw(
    url: &str,
    policy: &Policy,
    files: DrawFiles<'_>,
    opts: &ReadOptions,
    rejects: &mut Rejects,
    beside: &Path,
) -> Result<(Loaded, Gathered), ClusterError> {
    check_columnar(files.scored, Role::Scored)?;
    let ctx = connect(url, policy).await?;
    one_partition(&ctx);
    let mut gathered = Gathered::create(beside)?;
    register_table(&ctx, "scored", files.scored, &ReadOptions::default()).await?;
    let list = frame_columns(&ctx, "scored").await?;
    let temp = gathered.dir.join("frame.arrow");
    let step = ReadOptions::default().batch_rows.max(1);
    stream_to_file(
        &ctx,
        &format!("SELECT {list} FROM scored"),
        &temp,
        Cuts::Every(step),
        files.scored,
    )
    .await?;
    gathered
        .files
        .push((files.scored.to_path_buf(), temp.clone()));
    let mut scratch = Rejects::new(rejects.is_strict());
    let mut loaded = load(
        DrawFiles {
            scored: &temp,
            ..files
        },
        opts,
        &mut scratch,
    )?;
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
    Ok((loaded, gathered))
}

/// Table files read on the cluster and written back here, in file order, as Arrow IPC files that
/// the single-machine readers then read ([`gather_tables`], [`load_draw`]). The copies live in a
/// folder beside the output and are removed when this is dropped (also when the run fails) or
/// on Ctrl-C/SIGTERM (the folder is registered with the temporary files'); a run killed outright
/// (SIGKILL) leaves the folder behind (`.NAME.cluster-PID`), and the next run of any
/// command writing into that folder removes it once the process is gone.
#[derive(Debug)]
pub struct Gathered {
    dir: PathBuf,
    /// (the file the user named, the local copy of its rows).
    files: Vec<(PathBuf, PathBuf)>,
}

impl Gathered {
    /// An empty scratch folder for the output `beside`, after removing killed runs' folders.
    fn create(beside: &Path) -> Result<Gathered, ClusterError> {
        // A killed run's folder is removed first (only when its process is gone).
        crate::table::atomic::sweep_folder_of(beside);
        let dir = crate::table::atomic::cluster_scratch(beside);
        std::fs::create_dir_all(&dir).map_err(|e| crate::Error::io(&dir, e))?;
        // Ctrl-C or SIGTERM removes it at once (the binary's handler), like a temporary output.
        crate::table::atomic::register_scratch_dir(&dir);
        Ok(Gathered {
            dir,
            files: Vec::new(),
        })
    }

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
        crate::table::atomic::unregister_scratch_dir(&self.dir);
    }
}

/// Reads every table file of `tables` on the cluster at `url` and writes its rows, in file order,
/// to a local Arrow IPC copy in a folder beside `beside` (the run's output). The files must be
/// Parquet or Arrow IPC files (not streams) at a path every executor can read. Each file is read
/// as one partition, so its rows come back in file order and keep their row numbers (which
/// rejected-row reports quote); the columns keep their types. The rows are written as they
/// arrive: this machine holds a batch or two at a time, not the table.
pub async fn gather_tables(
    url: &str,
    policy: &Policy,
    tables: &[&Path],
    beside: &Path,
) -> Result<Gathered, ClusterError> {
    let formats = tables
        .iter()
        .map(|t| check_columnar(t, Role::Input))
        .collect::<Result<Vec<_>, _>>()?;
    let ctx = connect(url, policy).await?;
    one_partition(&ctx);
    let mut gathered = Gathered::create(beside)?;
    for (i, (t, format)) in tables.iter().zip(formats).enumerate() {
        let table = format!("t{i}");
        register_table(&ctx, &table, t, &ReadOptions::default()).await?;
        // The copy is cut into the batches the local reader gives for the file: a fixed number
        // of rows for Parquet (the last batch shorter), the file's own batches for Arrow IPC.
        // Scoring and writing go batch by batch and a Parquet output's pages follow the batches,
        // so other cuts would give other bytes.
        let cuts = match format {
            Format::Arrow => Cuts::List(ipc_batch_rows(t)?),
            _ => Cuts::Every(ReadOptions::default().batch_rows.max(1)),
        };
        let copy = gathered.dir.join(format!("{i}.arrow"));
        stream_to_file(&ctx, &format!("SELECT * FROM {table}"), &copy, cuts, t).await?;
        gathered.files.push((t.to_path_buf(), copy));
    }
    Ok(gathered)
}

/// Runs `sql` on `ctx` and writes its rows, as the executors return them, to the Arrow IPC file
/// `copy`, re-cut by `cuts`; `original` is the file the rows come from (for messages). Holds the
/// batch that arrived and the cut being assembled, never the whole result.
async fn stream_to_file(
    ctx: &SessionContext,
    sql: &str,
    copy: &Path,
    cuts: Cuts,
    original: &Path,
) -> Result<u64, ClusterError> {
    use futures::StreamExt;
    let query = |source| SqlError::Query { error: source };
    let df = ctx.sql(sql).await.map_err(query)?;
    let schema = super::plain_schema(&Arc::new(df.schema().as_arrow().clone()));
    let mut stream = df.execute_stream().await.map_err(query)?;
    let mut w = create(copy, schema.clone(), &WriteOptions::default())?;
    let mut recut = Recut::new(schema.clone(), cuts);
    let mismatch = |m: String| {
        ClusterError::from(crate::Error::io(
            original,
            std::io::Error::new(std::io::ErrorKind::InvalidData, m),
        ))
    };
    for b in recut.start() {
        w.write(&b)?;
    }
    while let Some(b) = stream.next().await {
        let b = super::plain_batch(&schema, b.map_err(query)?)?;
        for cut in recut.push(b).map_err(mismatch)? {
            w.write(&cut)?;
        }
    }
    let rows = recut.rows;
    if let Some(last) = recut.finish().map_err(mismatch)? {
        w.write(&last)?;
    }
    w.finish()?;
    Ok(rows)
}

/// How the rows of a gathered table are cut into the batches of its local copy.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cuts {
    /// Batches of this many rows, the last one shorter (the local reader's batches of a
    /// Parquet file).
    Every(usize),
    /// These batches, in order (an Arrow IPC file's own batches, from its footer).
    List(Vec<usize>),
}

/// Re-cuts a stream of batches into [`Cuts`]: a pure kernel, fed batch by batch, that holds only
/// the rows of the cut being assembled (as slices of the batches that arrived).
struct Recut {
    schema: SchemaRef,
    cuts: Cuts,
    /// The cut being assembled (index into a `List`; counts cuts for `Every`).
    cut: usize,
    parts: Vec<RecordBatch>,
    held: usize,
    /// Rows received so far.
    rows: u64,
}

impl Recut {
    fn new(schema: SchemaRef, cuts: Cuts) -> Recut {
        Recut {
            schema,
            cuts,
            cut: 0,
            parts: Vec::new(),
            held: 0,
            rows: 0,
        }
    }

    /// The rows of the current cut, or `None` when a `List` is used up.
    fn target(&self) -> Option<usize> {
        match &self.cuts {
            Cuts::Every(n) => Some((*n).max(1)),
            Cuts::List(l) => l.get(self.cut).copied(),
        }
    }

    /// The empty batches a `List` starts with (an IPC file may hold empty batches).
    fn start(&mut self) -> Vec<RecordBatch> {
        let mut out = Vec::new();
        self.skip_empty(&mut out);
        out
    }

    fn skip_empty(&mut self, out: &mut Vec<RecordBatch>) {
        while self.target() == Some(0) {
            out.push(RecordBatch::new_empty(self.schema.clone()));
            self.cut += 1;
        }
    }

    fn total(&self) -> String {
        match &self.cuts {
            Cuts::List(l) => l.iter().sum::<usize>().to_string(),
            Cuts::Every(_) => "?".into(),
        }
    }

    /// Takes the batch `b`; returns the cuts it completes.
    fn push(&mut self, b: RecordBatch) -> Result<Vec<RecordBatch>, String> {
        let mut out = Vec::new();
        self.rows += b.num_rows() as u64;
        let mut at = 0;
        while at < b.num_rows() {
            let Some(target) = self.target() else {
                return Err(format!(
                    "the cluster returned more rows than the {} that the file's batches hold",
                    self.total()
                ));
            };
            let take = (target - self.held).min(b.num_rows() - at);
            self.parts.push(b.slice(at, take));
            self.held += take;
            at += take;
            if self.held == target {
                out.push(self.assemble()?);
                self.cut += 1;
                self.skip_empty(&mut out);
            }
        }
        Ok(out)
    }

    /// Ends the stream: the last, shorter cut of `Every`, or a check that a `List` is complete.
    fn finish(mut self) -> Result<Option<RecordBatch>, String> {
        match self.cuts {
            Cuts::Every(_) if self.held > 0 => Ok(Some(self.assemble()?)),
            Cuts::Every(_) => Ok(None),
            Cuts::List(ref l) if self.cut < l.len() => Err(format!(
                "the cluster returned {} rows, the file's batches hold {}",
                self.rows,
                self.total()
            )),
            Cuts::List(_) => Ok(None),
        }
    }

    fn assemble(&mut self) -> Result<RecordBatch, String> {
        let parts = std::mem::take(&mut self.parts);
        self.held = 0;
        datafusion::arrow::compute::concat_batches(&self.schema, &parts).map_err(|e| e.to_string())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, Int64Array};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]))
    }

    /// A batch of the numbers `from..from + len`.
    fn batch(from: i64, len: i64) -> RecordBatch {
        RecordBatch::try_new(
            schema(),
            vec![Arc::new(Int64Array::from_iter_values(from..from + len))],
        )
        .unwrap()
    }

    /// Feeds batches of `sizes` rows (numbered on) and returns each cut's numbers.
    fn run(cuts: Cuts, sizes: &[i64]) -> Result<Vec<Vec<i64>>, String> {
        let mut r = Recut::new(schema(), cuts);
        let mut out = r.start();
        let mut from = 0;
        for &n in sizes {
            out.extend(r.push(batch(from, n))?);
            from += n;
        }
        out.extend(r.finish()?);
        Ok(out
            .iter()
            .map(|b| {
                let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                (0..a.len()).map(|i| a.value(i)).collect()
            })
            .collect())
    }

    #[test]
    fn batches_are_recut_to_a_fixed_size_with_a_shorter_last_one() {
        let got = run(Cuts::Every(3), &[2, 5, 0, 1]).unwrap();
        assert_eq!(got, vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7]]);
        assert_eq!(run(Cuts::Every(4), &[4, 4]).unwrap().len(), 2);
        assert!(run(Cuts::Every(4), &[]).unwrap().is_empty());
    }

    #[test]
    fn batches_are_recut_to_a_files_own_batches_including_empty_ones() {
        let got = run(Cuts::List(vec![0, 4, 0, 0, 1, 3, 0]), &[3, 5]).unwrap();
        let want: Vec<Vec<i64>> = vec![
            vec![],
            vec![0, 1, 2, 3],
            vec![],
            vec![],
            vec![4],
            vec![5, 6, 7],
            vec![],
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn rows_that_do_not_fill_the_files_batches_are_an_error() {
        let more = run(Cuts::List(vec![2, 2]), &[3, 2]).unwrap_err();
        assert!(more.contains("more rows than the 4"), "{more}");
        let fewer = run(Cuts::List(vec![2, 2]), &[3]).unwrap_err();
        assert!(
            fewer.contains("returned 3 rows") && fewer.contains("hold 4"),
            "{fewer}"
        );
    }

    #[test]
    fn only_dead_executors_default_folders_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        // A child that has exited: its id is free (a reused id only keeps the folder).
        let pid = std::process::Command::new("true")
            .spawn()
            .and_then(|mut c| c.wait().map(|_| c.id()))
            .unwrap();
        let dead = dir.path().join(format!("spotcheck-executor-{pid}"));
        let mine = dir
            .path()
            .join(format!("spotcheck-executor-{}", std::process::id()));
        let other = dir.path().join("spotcheck-executor-x");
        let file = dir.path().join(format!("spotcheck-executor-{}", pid + 1));
        for d in [&dead, &mine, &other] {
            std::fs::create_dir_all(d.join("job")).unwrap();
        }
        std::fs::write(&file, b"not a folder").unwrap();
        assert_eq!(default_work_dir().file_name(), mine.file_name());
        assert_eq!(sweep_executor_dirs(dir.path()), vec![dead.clone()]);
        assert!(!dead.exists() && mine.exists() && other.exists() && file.exists());
    }
}
