//! Validated inputs: the typed, column-oriented form of each table of SPEC §1 after every cell has
//! been parsed and every bad row sent to the rejects file. Kernels (`score/`, `sample/`) take these
//! types and never see raw cells.

pub mod enterprise;
pub mod tables;
pub mod validate;

pub use enterprise::EnterpriseBatch;
pub use validate::{Counts, EnterpriseReader};
