//! Inspection results: closing the loop (SPEC §9). A draw's results come back weeks later; this
//! module turns them into what the bureau publishes and learns from:
//!
//! - `category` — the result categories and their kinds (compliant / violation / out of scope);
//! - `special` — log-gamma, the incomplete beta function and its inverse, the t quantile;
//! - `estimate` — the survey estimators of §9.3 (Hájek rate, Brewer variance by linearisation,
//!   Korn–Graubard interval, hit rate, lift, caught share), pure functions over one department's
//!   estimation sample.
//!
//! Reading the results table and the sample, and writing the outputs, live at the edges (`io`);
//! nothing here prints.

pub mod category;
pub mod estimate;
pub mod estimates;
pub mod io;
pub mod run;
pub mod special;

#[cfg(test)]
mod tests;
