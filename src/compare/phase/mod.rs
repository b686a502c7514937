//! The phases of a comparison, each a function of its own, named after what it measures.
//!
//! - [`revocation`]: the logout / logout-all revocation window, per scheme, after the repeats.

pub mod revocation;
