//! The two OS calls libc has and std lacks (clock tick rate, open-file limit): one copy, in the
//! servers crate, which needs the open-file limit too.
pub use authbench_servers::sys::{clock_ticks, raise_nofile_limit};
