//! Reliability figures measured against live processes: bad credentials thrown at a running
//! server and requests lost between the generator's counts and its files. Their rows, file names
//! and `reliability.md` belong to the results folder (`authbench_report::reliability`).
//!
//! - [`attack`]: the attack battery (rows of `attacks.csv`, run by compare).
//! - [`lost`]: the lost-request audit (rows of `lost.csv` by compare; each fault run's own files).
//! - [`race`]: logout-all against a refreshing thief and against a login loop, in many trials.

pub mod attack;
pub mod lost;
pub mod race;

pub use authbench_report::reliability::{AttackRow, FaultRow, LostRow};
