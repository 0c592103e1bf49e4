//! Metric series and their statistics, with CloudWatch's semantics.
//!
//! - [`MetricId`] is a metric's identity: namespace, name and the full dimension *set*
//!   (order-free; no partial matching). Series are kept per (metric, [`Unit`]).
//! - A [`Sample`] is what one datum contributes: a single value, `Values` + `Counts`, a
//!   [`StatisticSet`], or an HdrHistogram with a scale factor (the agent records latency
//!   in microseconds and publishes milliseconds with scale `0.001`).
//! - An [`Aggregate`] is what a bucket keeps: SampleCount, Sum, Minimum, Maximum and a
//!   compact [`Distribution`] of the values for the extended statistics. Aggregates merge
//!   exactly, so fleet-wide percentiles come from merged distributions, never from
//!   averages of averages.
//! - A [`Statistic`] parses and prints CloudWatch's names (`Average`, `p99`, `p99.9`,
//!   `tm90`, `TM(10%:90%)`, `TM(150:1000)`, `IQM`, `wm90`, `TC(..)`, `TS(..)`,
//!   `PR(:300)`, ...).
//! - The [`Store`] keeps one-second buckets (high-resolution data) and coarser tiers as
//!   [`Retention`] says, answers statistics over any period that is a whole number of
//!   seconds, lists metrics as ListMetrics does, and forgets old data in
//!   [`Store::expire`].
//!
//! # Precision
//!
//! SampleCount, Sum, Minimum, Maximum and Average are exact (f64 arithmetic). A bucket's
//! distribution holds exact `value -> count` pairs while it has at most
//! [`EXACT_VALUES`] distinct values; past that, values snap to a logarithmic grid whose
//! relative error is at most [`RELATIVE_ACCURACY`] (about 0.05 %), which bounds the error
//! of every percentile and trimmed or winsorized statistic by the same ratio. Histogram
//! samples enter at their HdrHistogram bucket's highest equivalent value times the scale,
//! so a percentile of a merged histogram equals HdrHistogram's own `value_at_quantile`
//! (within the histogram's significant digits).
//!
//! Percentiles are nearest-rank on the values expanded by their counts. Extended
//! statistics are unavailable for a bucket holding a negative value, and for statistic
//! sets other than those where Minimum = Maximum and Sum = Minimum x SampleCount.
//!
//! This module does no validation of AWS's request limits (150 values, two weeks, ...):
//! that is the API layer's job. It deliberately knows nothing of JSON.

mod aggregate;
mod distribution;
mod id;
mod query;
mod retention;
mod sample;
mod statistic;
mod store;

/// The histogram type [`Sample::Histogram`] takes, re-exported so callers need no
/// direct dependency on `hdrhistogram`.
pub use hdrhistogram::Histogram;

pub use aggregate::Aggregate;
pub use distribution::{Distribution, EXACT_VALUES, RELATIVE_ACCURACY};
pub use id::{MetricId, Period, Resolution, Unit, UnknownUnit};
pub use query::{Series, align_start, period_allowed};
pub use retention::{Retention, RetentionError, Tier};
pub use sample::{Sample, SampleError, StatisticSet};
pub use statistic::{Bounds, ExtendedKind, ExtendedStatistic, Statistic, StatisticError};
pub use store::{Datapoint, Detail, ListFilter, MetricInfo, Query, Store};
