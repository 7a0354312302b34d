//! Progress bars for long runs: shown on a terminal only, only once a run has lasted about a
//! second, never with `--quiet`, and nothing at all when stderr is a pipe or a CI log. With the
//! environment variable `SPOTCHECK_TIMINGS=1` a run made of phases prints when each phase starts
//! (for profiling; see benches/README.md).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar that appears only when it is worth it.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: std::cell::Cell<bool>,
    timings: bool,
}

/// Resident memory of this process in MiB and CPU seconds used so far (user + system), for the
/// `SPOTCHECK_TIMINGS` lines (zeros where /proc is not there). Assumes 4 KiB pages and 100
/// clock ticks a second, as on Linux x86-64 and arm64.
fn usage() -> (u64, f64) {
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / (1024 * 1024));
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
            let rest = s.rsplit_once(')')?.1;
            let mut f = rest.split_whitespace().skip(11);
            let u: u64 = f.next()?.parse().ok()?;
            let k: u64 = f.next()?.parse().ok()?;
            Some((u + k) as f64 / 100.0)
        })
        .unwrap_or(0.0);
    (rss, cpu)
}

/// One `SPOTCHECK_TIMINGS` line.
fn timing_line(started: Instant, what: &str) {
    let (rss, cpu) = usage();
    eprintln!(
        "[{:8.3} s wall, {cpu:7.2} s CPU, {rss:5} MiB resident] {what}",
        started.elapsed().as_secs_f64()
    );
}

/// Whether `SPOTCHECK_TIMINGS` asks for phase times on stderr.
fn timings_wanted() -> bool {
    std::env::var_os("SPOTCHECK_TIMINGS").is_some_and(|v| v != "0" && !v.is_empty())
}

impl Progress {
    /// `total` rows when known (a bar), else a counter.
    pub fn new(quiet: bool, label: &str, total: Option<u64>) -> Self {
        let enabled = !quiet && std::io::stderr().is_terminal();
        let bar = enabled.then(|| {
            let bar = match total {
                Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::hidden()),
                None => ProgressBar::hidden(),
            };
            let template = match total {
                Some(_) => {
                    "{prefix} [{bar:40}] {human_pos}/{human_len} rows ({per_sec}, {eta} left)"
                }
                None => "{prefix} {human_pos} rows ({per_sec})",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(label.to_string());
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            shown: std::cell::Cell::new(false),
            timings: timings_wanted(),
        }
    }

    /// A spinner for a run made of phases whose sizes are unknown ahead (`sample`): it names the
    /// phase under way and follows the same rules (terminal only, after about a second, never
    /// with `--quiet`).
    pub fn phases(quiet: bool, label: &str) -> Self {
        let enabled = !quiet && std::io::stderr().is_terminal();
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
            {
                bar.set_style(style);
            }
            bar.set_prefix(label.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            shown: std::cell::Cell::new(false),
            timings: timings_wanted(),
        }
    }

    /// Names the phase under way (and shows the spinner once the run has lasted a second).
    pub fn phase(&self, what: &str) {
        if self.timings {
            timing_line(self.started, what);
        }
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_string());
            self.show_if_long();
        }
    }

    fn show_if_long(&self) {
        if let Some(bar) = &self.bar
            && !self.shown.get()
            && self.started.elapsed() > Duration::from_secs(1)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown.set(true);
        }
    }

    /// Adds `n` rows done.
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
            self.show_if_long();
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if self.timings {
            timing_line(self.started, "done");
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
