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
    // Ctrl-C / SIGTERM remove this run's temporary output files before the process ends.
    cli::interrupt::install();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
