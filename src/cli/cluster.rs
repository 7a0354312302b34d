//! `spotcheck cluster scheduler|executor` (SPEC §11, cargo feature `cluster`): Apache Ballista's
//! two processes with spotcheck's functions registered, for `sql --cluster`, `score --cluster`
//! and `sample --cluster`. They run until stopped (Ctrl-C or SIGTERM: an executor
//! then tells the scheduler it is leaving and finishes its running tasks, and removes its
//! default work folder).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use spotcheck::sql::cluster::{ExecutorOptions, HostPort, can_listen, run_executor, run_scheduler};

use super::common::load_policy;

/// Run a Ballista scheduler or executor with spotcheck's functions (SPEC §11).
///
/// A cluster is one scheduler and any number of executors; `spotcheck sql --cluster`, `spotcheck
/// score --cluster` and `spotcheck sample --cluster` send their work to it. Every process must use the same policy
/// file, and every executor must read the table files at the paths the client names.
///
/// Example: spotcheck cluster scheduler --listen 127.0.0.1:50050 & spotcheck cluster executor
/// --scheduler 127.0.0.1:50050 --listen 127.0.0.1:50051 & spotcheck sample scored.parquet
/// --cluster df://127.0.0.1:50050 --month 2026-12 --department market --seed S -o sample.csv
#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub role: Role,
}

#[derive(Debug, Subcommand)]
pub enum Role {
    Scheduler(SchedulerArgs),
    Executor(ExecutorArgs),
}

/// Run the scheduler: it plans queries and hands their tasks to the executors.
///
/// Example: spotcheck cluster scheduler --listen 127.0.0.1:50050
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Address to serve on, HOST:PORT; clients connect to df://HOST:PORT. Default:
    /// 127.0.0.1:50050.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    pub listen: String,
    /// Policy file of the spotcheck_* functions (default: the shipped data/policy/default.toml,
    /// built in).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// Run an executor: it registers with the scheduler and runs the tasks it is given.
///
/// It serves Arrow Flight on PORT and its gRPC service on PORT + 1. Started before its
/// scheduler, it waits up to 30 s for the scheduler to answer, then stops with exit 2.
///
/// Example: spotcheck cluster executor --scheduler 127.0.0.1:50050 --listen 127.0.0.1:50051
#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler, HOST:PORT. Default: 127.0.0.1:50050.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    pub scheduler: String,
    /// Address to serve on, HOST:PORT (PORT + 1 is used too). Default: 127.0.0.1:50051.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50051")]
    pub listen: String,
    /// Tasks run at once. Default: the number of cores.
    #[arg(long, value_name = "N")]
    pub tasks: Option<usize>,
    /// Directory for shuffle files (the executors' intermediate results, removed by Ballista as
    /// jobs age). Default: spotcheck-executor-PID in the system temporary folder ($TMPDIR, else
    /// /tmp), created at start and removed when the executor stops on Ctrl-C or SIGTERM (one
    /// left by an executor killed outright is removed when the next executor starts). A folder
    /// given here is kept. Example: --work-dir /data/ballista
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Policy file of the spotcheck_* functions (default: the shipped data/policy/default.toml,
    /// built in).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
}

pub fn run(a: ClusterArgs) -> Result<ExitCode> {
    match a.role {
        Role::Scheduler(s) => {
            let policy = load_policy(s.policy.as_deref())?;
            let listen = HostPort::parse(&s.listen).context("--listen")?;
            can_listen(&listen.host, listen.port).context("--listen")?;
            eprintln!(
                "scheduler listening on df://{}:{}",
                listen.host, listen.port
            );
            runtime()?.block_on(run_scheduler(&listen, &policy))?;
        }
        Role::Executor(e) => {
            let policy = load_policy(e.policy.as_deref())?;
            let o = ExecutorOptions {
                scheduler: HostPort::parse(&e.scheduler).context("--scheduler")?,
                listen: HostPort::parse(&e.listen).context("--listen")?,
                tasks: e
                    .tasks
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
                work_dir: e.work_dir,
            };
            eprintln!(
                "executor on {}:{} for the scheduler at {}:{}",
                o.listen.host, o.listen.port, o.scheduler.host, o.scheduler.port
            );
            runtime()?.block_on(run_executor(&o, &policy))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
