//! CloudWatch's and EventBridge's semantics as pure functions of data and `now`:
//!
//! - [`metrics`]: metric series keyed by namespace, name and dimension set; raw values,
//!   statistic sets and mergeable HdrHistograms; statistics (`SampleCount`, `Sum`,
//!   `Average`, `Minimum`, `Maximum`, percentiles and the other extended statistics)
//!   over any period that is a whole number of seconds; retention.
//! - [`math`]: metric math expressions over aligned series.
//! - [`alarm`]: alarm configuration, evaluation (M out of N, missing-data treatment),
//!   state reasons and transitions.
//! - [`pattern`]: EventBridge's event pattern language.
//!
//! No clock, no sockets, no files: time is always an argument.

pub mod alarm;
pub mod math;
pub mod metrics;
pub mod pattern;
