//! Progress bars for long runs: shown on a terminal only, only once a run has lasted about a
//! second, never with `--quiet`, and nothing at all when stderr is a pipe or a CI log.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar that appears only when it is worth it.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: std::cell::Cell<bool>,
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
        }
    }

    /// Names the phase under way (and shows the spinner once the run has lasted a second).
    pub fn phase(&self, what: &str) {
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
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
