//! `spotcheck serve`: the bureau's console (SPEC §10) — opens (creating and migrating) the store in
//! the data folder, takes its lock, and serves the JSON API until stopped (Ctrl-C).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use spotcheck::serve::{Config, DEFAULT_MAX_UPLOAD, open_state, serve};

/// Run the bureau's console: a JSON API over an embedded store (SPEC §10).
///
/// The store is a SQLite database and the files it keeps (named by their SHA-256) in --data,
/// created on first start. Acts (uploads, scoring, seeds, draws, the positive list) need an API
/// token of an analyst or admin (`spotcheck users add`); published data (the public list, the
/// manifest, /public/verify, the positive list) needs none. The API is described at
/// /api/openapi.json. Only one server may use a data folder at a time.
///
/// Example: spotcheck users add alice --role admin --data console && spotcheck serve --data console
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The data folder (created when new).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Address to listen on (default 127.0.0.1:8080: this machine only; port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Largest upload in MiB (default 256); larger ones are refused with 413.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_UPLOAD >> 20)]
    pub max_upload_mib: usize,
}

pub fn run(a: ServeArgs) -> Result<ExitCode> {
    let config = Config {
        data: a.data.clone(),
        listen: a.listen,
        max_upload: a.max_upload_mib.saturating_mul(1 << 20),
    };
    let (state, _lock) = open_state(&config)
        .with_context(|| format!("opening the data folder {}", a.data.display()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve(config, state, |addr| {
        println!("spotcheck console on http://{addr}/ (API: http://{addr}/api/openapi.json)");
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }))
    .with_context(|| format!("serving on {}", a.listen))?;
    Ok(ExitCode::SUCCESS)
}
