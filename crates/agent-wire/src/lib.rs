//! The agent's wire types, shared by `spotlab agent` (which sends them) and the control
//! plane's metrics API (which receives them).
//!
//! - [`Outcome`] and [`Counts`]: what happened to requests, by class.
//! - [`Latency`]: a mergeable HdrHistogram of virtual microseconds that serialises as
//!   the standard compressed V2 encoding in base64, as HdrHistogram's own interval logs do.
//! - [`Report`]: one interval (one virtual second) of one agent run, sent to sinks.
//! - [`Checkpoint`]: what an agent persists when it stops.
//! - [`Ledger`]: the receiver's de-duplication and gap detection.
//!
//! Pure data: no I/O, no clocks. JSON field names are snake_case and stable.

mod counts;
mod latency;
mod ledger;
mod report;

pub use counts::{Counts, Outcome};
pub use latency::{Latency, LatencyError};
pub use ledger::{Accepted, Ledger};
pub use report::{Checkpoint, IngestResponse, REPORTS_PATH, Report, Source, StopReason};
