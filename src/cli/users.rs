//! `spotcheck users add`: adds a console user (SPEC §10) and prints its one-time password and API
//! token, creating the store when the data folder is new (so the first admin exists before the
//! first start).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};

use spotcheck::serve::auth::{Role, add_user};
use spotcheck::serve::store;

/// Manage the console's users.
#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    Add(AddArgs),
}

/// Add a user: prints `password: …` and `token: …` (shown once; stored only as hashes).
///
/// Roles: analyst (uploads, scores, announces seeds, draws, builds the positive list), admin
/// (also reads the audit log), inspector (signs in; its own tasks come with the console's pages).
/// Works while the server runs; whoever can write the data folder can add users.
///
/// Example: spotcheck users add alice --role admin --data console
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The user's name (letters, digits, '.', '_', '-').
    pub name: String,
    /// admin, analyst or inspector.
    #[arg(long, value_name = "admin|analyst|inspector")]
    pub role: String,
    /// The console's data folder (created when new).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
}

pub fn run(a: UsersArgs) -> Result<ExitCode> {
    match a.command {
        UsersCommand::Add(a) => {
            let role = Role::parse(&a.role).ok_or_else(|| {
                anyhow!("--role {:?}: expected admin, analyst or inspector", a.role)
            })?;
            let s = store::open(&a.data)
                .with_context(|| format!("opening the data folder {}", a.data.display()))?;
            let u = add_user(&s, &a.name, role)?;
            println!("password: {}", u.password);
            println!("token: {}", u.token);
            Ok(ExitCode::SUCCESS)
        }
    }
}
