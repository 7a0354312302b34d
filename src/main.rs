//! The `spotcheck` binary: parses the command line, runs one subcommand, prints `error: …` and
//! exits with the subcommand's code. All work is in the library; `cli/` only wires and prints.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
