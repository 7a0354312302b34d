//! The `spotcheck` binary: parses the command line, runs one subcommand, prints `error: …` and
//! exits with the subcommand's code. All work is in the library; `cli/` only wires and prints.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`spotcheck … | head`) would panic;
    // restore the default action so the process simply ends, as command-line tools do.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // A damaged Parquet or Arrow file can make the pinned decoders panic; the library turns that
    // into an ordinary "cannot read" error, so the panic's own message is not printed then.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !spotcheck::table::read::in_decoder() {
            default_hook(info)
        }
    }));
    if let Some(sentence) = not_in_this_build(std::env::args().skip(1)) {
        eprintln!("error: {sentence}");
        return ExitCode::from(2);
    }
    let args = cli::Cli::parse();
    // Ctrl-C / SIGTERM remove this run's temporary output files before the process ends. A
    // cluster process writes no output files and stops the way Ballista stops it (an executor
    // tells the scheduler it is leaving), which this handler would cut short.
    if !args.command.is_cluster_process() {
        cli::interrupt::install();
    }
    // Servers and cluster clients keep Rust's default: SIGPIPE ignored, a write to a closed
    // socket an ordinary error (Ballista's scheduler probes an executor's port and hangs up; with
    // the default action restored that killed the executor at once).
    #[cfg(unix)]
    if args.command.uses_network() {
        // SAFETY: signal(2) with SIG_IGN is safe to call at any time.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
    }
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A sentence for a command line that asks for what a cargo feature left out of this build
/// (`spotcheck sql` without `datafusion`; `spotcheck cluster` or `--cluster` without `cluster`),
/// instead of clap's "unrecognized subcommand": the README documents them, so a user of the
/// default build is told how to get them.
fn not_in_this_build(mut args: impl Iterator<Item = String>) -> Option<String> {
    let command = args.next()?;
    let rebuild = |feature: &str| {
        format!(
            "build it with `cargo build --release --features {feature}` (not in the default build: \
             Apache DataFusion{} many minutes to a cold build; README, \"DataFusion and Ballista\")",
            if feature == "cluster" {
                " and Ballista add"
            } else {
                " adds"
            }
        )
    };
    if !cfg!(feature = "datafusion") && command == "sql" {
        return Some(format!(
            "`spotcheck sql` is not in this build of spotcheck: {}",
            rebuild("datafusion")
        ));
    }
    if !cfg!(feature = "cluster")
        && (command == "cluster"
            || (["score", "sample", "sql"].contains(&command.as_str())
                && args.any(|a| a == "--cluster" || a.starts_with("--cluster="))))
    {
        let what = if command == "cluster" {
            "`spotcheck cluster`".to_string()
        } else {
            format!("`spotcheck {command} --cluster`")
        };
        return Some(format!(
            "{what} is not in this build of spotcheck: {}",
            rebuild("cluster")
        ));
    }
    None
}
