//! The report's text, built from the data: the explainer's comparison table, the claims checked
//! against the measurements, a "what this means" per plot, the capacity projection and the
//! appendices. Every sentence that states a result computes it here; nothing is hard-coded.
//!
//! One file per section, in the order [`build`] puts them: [`decision`] (the answer first),
//! [`header`], [`table`], [`claims`],
//! [`load`] (saturation and load), [`plots`] (with [`revocation_memory`] beside its chart), [`store`] (one Redis or a cluster, per shard), [`over_the_wire`] (the Transport section), [`round_trip`] (latency against the store's RTT),
//! [`replicas`] (servers behind HAProxy), [`targets`] (`compare --target`'s services: what ran, what did not),
//! [`method`] (how the answer is computed), [`runtime`], [`appendix`];
//! [`format`] holds the cell formatting they share; [`cache`] the cached schemes' cache figures
//! (hit ratio, invalidations per second, cache memory) the variants' claim states.

mod appendix;
mod cache;
mod claims;
mod decision;
mod format;
mod header;
mod load;
mod method;
mod over_the_wire;
mod plots;
mod replicas;
mod revocation_memory;
mod round_trip;
mod runtime;
mod store;
mod table;
mod targets;

use crate::analysis::Analysis;
use crate::doc::Document;
use crate::plot::Rendered;
use appendix::{appendix, checks_section};
use claims::claims;
pub use decision::answer_files;
use decision::decision;
use header::header;
use load::load_section;
use method::method_section;
use over_the_wire::transport_section;
use plots::plots_section;
use replicas::replicas_section;
use round_trip::store_rtt_section;
use runtime::run_time_section;
use store::store_section;
use table::comparison_table;
use targets::targets_section;

/// Build the whole report.
pub fn build(a: &Analysis<'_>, plots: &[Rendered]) -> Document {
    let mut d = Document::new("authbench: encrypted cookie vs Redis session vs JWT");
    decision(&mut d, a);
    header(&mut d, a);
    comparison_table(&mut d, a);
    claims(&mut d, a);
    load_section(&mut d, a, plots);
    plots_section(&mut d, a, plots);
    store_section(&mut d, a);
    store_rtt_section(&mut d, a);
    transport_section(&mut d, a);
    replicas_section(&mut d, a);
    targets_section(&mut d, a);
    method_section(&mut d, a);
    checks_section(&mut d, a);
    run_time_section(&mut d, a);
    appendix(&mut d, a);
    d
}
