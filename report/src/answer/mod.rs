//! The design review's answer: a workload in, per scheme the app cores, Redis cores, memory and
//! shards, bytes/s, revocation window, p99 and cost, each from figures measured at the condition it
//! is used for, computed once per repeat and given with the t-interval across repeats.
//!
//! Imports go one way: `from_results` → `answer_set` → `across` → `model` → `workload`, and
//! `from_results` → `conditions` → `model`, and `from_results` → `hit_ratio`, which stands alone.
//!
//! - [`workload`]: the workload (TOML file or flags) and its stated defaults.
//! - [`model`]: the arithmetic of one repeat's answer for one scheme (every formula, once).
//! - [`across`]: the answer across repeats, with intervals and verdicts read off them.
//! - [`from_results`]: a results folder's rows → each scheme's inputs, one per repeat, each from the
//!   measurement made at the condition it is used for.
//! - [`conditions`]: the workload's transport and store round trip, carried into a repeat's inputs
//!   from the runs made under them.
//! - [`answer_set`]: the answer as read: one Markdown table, at most six verdicts, `answer.csv`.
//! - [`hit_ratio`]: the cached schemes' hit ratio at a per-user rate (closed-form model).

pub mod across;
pub mod answer_set;
pub mod conditions;
pub mod from_results;
pub mod hit_ratio;
pub mod model;
pub mod workload;

pub use across::{Meets, SchemeAnswer, across};
pub use answer_set::AnswerSet;
pub use from_results::answer_set;
pub use model::{Design, Inputs};
pub use workload::Workload;
