//! [`Aggregate`]: what a bucket (or a whole period) keeps, and every statistic computed
//! from it.

use super::distribution::Distribution;
use super::sample::{Sample, SampleError};
use super::statistic::{Bounds, ExtendedKind, Statistic};

/// SampleCount, Sum, Minimum and Maximum of some values, plus their distribution when
/// extended statistics are available for them.
///
/// Merging two aggregates gives exactly the aggregate of the union of their values (up
/// to f64 rounding of Sum, and the grid of [`Distribution`] once it is quantized).
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    /// Number of values (sum of counts).
    sample_count: f64,
    /// Sum of value x count.
    sum: f64,
    /// Smallest value (+inf when empty).
    minimum: f64,
    /// Largest value (-inf when empty).
    maximum: f64,
    /// The values, or `None` once extended statistics became unavailable (a negative
    /// value, or a statistic set that is not a single repeated value).
    distribution: Option<Distribution>,
}

impl Default for Aggregate {
    fn default() -> Aggregate {
        Aggregate::new()
    }
}

impl Aggregate {
    /// An empty aggregate.
    pub fn new() -> Aggregate {
        Aggregate {
            sample_count: 0.0,
            sum: 0.0,
            minimum: f64::INFINITY,
            maximum: f64::NEG_INFINITY,
            distribution: Some(Distribution::new()),
        }
    }

    /// The aggregate of one sample.
    pub fn from_sample(sample: &Sample<'_>) -> Result<Aggregate, SampleError> {
        let mut aggregate = Aggregate::new();
        aggregate.add(sample)?;
        Ok(aggregate)
    }

    /// Builds an aggregate from its parts (used when assembling query results).
    pub(crate) fn from_parts(
        sample_count: f64,
        sum: f64,
        minimum: f64,
        maximum: f64,
        distribution: Option<Distribution>,
    ) -> Aggregate {
        Aggregate {
            sample_count,
            sum,
            minimum,
            maximum,
            distribution,
        }
    }

    /// Adds a sample (validated first; on error nothing changes).
    pub fn add(&mut self, sample: &Sample<'_>) -> Result<(), SampleError> {
        sample.validate()?;
        match *sample {
            Sample::Value(value) => self.add_values(value, 1.0),
            Sample::Values { values, counts } => match counts {
                None => values.iter().for_each(|&v| self.add_values(v, 1.0)),
                Some(counts) => {
                    for (&value, &count) in values.iter().zip(counts) {
                        self.add_values(value, count);
                    }
                }
            },
            Sample::StatisticSet(set) => {
                self.sample_count += set.sample_count;
                self.sum += set.sum;
                self.minimum = self.minimum.min(set.minimum);
                self.maximum = self.maximum.max(set.maximum);
                match set.single_value() {
                    Some(value) if value >= 0.0 => {
                        if let Some(distribution) = &mut self.distribution {
                            distribution.add(value, set.sample_count);
                        }
                    }
                    _ => self.distribution = None,
                }
            }
            Sample::Histogram { histogram, scale } => {
                let pairs = histogram.iter_recorded().map(|step| {
                    let value = step.value_iterated_to() as f64 * scale;
                    (value, step.count_since_last_iteration() as f64)
                });
                let pairs: Vec<(f64, f64)> = pairs.collect();
                for &(value, count) in &pairs {
                    self.sample_count += count;
                    self.sum += value * count;
                    self.minimum = self.minimum.min(value);
                    self.maximum = self.maximum.max(value);
                }
                if let Some(distribution) = &mut self.distribution {
                    distribution.merge_sorted(&pairs);
                }
            }
        }
        Ok(())
    }

    /// `count` copies of `value` (both finite, count >= 0).
    fn add_values(&mut self, value: f64, count: f64) {
        if count <= 0.0 {
            return;
        }
        self.sample_count += count;
        self.sum += value * count;
        self.minimum = self.minimum.min(value);
        self.maximum = self.maximum.max(value);
        if value < 0.0 {
            self.distribution = None;
        } else if let Some(distribution) = &mut self.distribution {
            distribution.add(value, count);
        }
    }

    /// Merges `other` in.
    pub fn merge(&mut self, other: &Aggregate) {
        self.sample_count += other.sample_count;
        self.sum += other.sum;
        self.minimum = self.minimum.min(other.minimum);
        self.maximum = self.maximum.max(other.maximum);
        match (&mut self.distribution, &other.distribution) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            _ => self.distribution = None,
        }
    }

    /// Whether no value was recorded.
    pub fn is_empty(&self) -> bool {
        self.sample_count <= 0.0
    }

    /// Number of values.
    pub fn sample_count(&self) -> f64 {
        self.sample_count
    }

    /// Sum of the values.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Smallest value, `None` when empty.
    pub fn minimum(&self) -> Option<f64> {
        (!self.is_empty()).then_some(self.minimum)
    }

    /// Largest value, `None` when empty.
    pub fn maximum(&self) -> Option<f64> {
        (!self.is_empty()).then_some(self.maximum)
    }

    /// Sum / SampleCount, `None` when empty.
    pub fn average(&self) -> Option<f64> {
        (!self.is_empty()).then(|| self.sum / self.sample_count)
    }

    /// The values' distribution, `None` when extended statistics are unavailable.
    pub fn distribution(&self) -> Option<&Distribution> {
        self.distribution.as_ref()
    }

    /// The statistic's value, `None` when it is undefined here (empty aggregate,
    /// extended statistic unavailable, trimmed mean with nothing inside the bounds).
    pub fn statistic(&self, statistic: &Statistic) -> Option<f64> {
        if self.is_empty() {
            return None;
        }
        match statistic {
            Statistic::SampleCount => Some(self.sample_count),
            Statistic::Sum => Some(self.sum),
            Statistic::Average => self.average(),
            Statistic::Minimum => self.minimum(),
            Statistic::Maximum => self.maximum(),
            Statistic::Extended(extended) => extended_value(self.distribution()?, extended.kind()),
        }
    }
}

/// Per-value weights inside `bounds`: (value, copies inside), plus the boundary values
/// used to clamp the rest for a winsorized mean.
struct Window {
    /// (value, copies) inside the bounds.
    inside: Vec<(f64, f64)>,
    /// Copies below the bounds and the value they clamp to.
    below: (f64, f64),
    /// Copies above the bounds and the value they clamp to.
    above: (f64, f64),
}

fn window(distribution: &Distribution, bounds: Bounds) -> Window {
    let total = distribution.total();
    match bounds {
        Bounds::Percent { lower, upper } => {
            let low_rank = lower.unwrap_or(0.0) * total / 100.0;
            let high_rank = upper.unwrap_or(100.0) * total / 100.0;
            let inside: Vec<(f64, f64)> = distribution.rank_window(low_rank, high_rank).collect();
            let kept: f64 = inside.iter().map(|e| e.1).sum();
            let below_count = low_rank.floor().min(total);
            let above_count = (total - below_count - kept).max(0.0);
            let low_value = inside.first().map_or(f64::NAN, |e| e.0);
            let high_value = inside.last().map_or(f64::NAN, |e| e.0);
            Window {
                inside,
                below: (below_count, low_value),
                above: (above_count, high_value),
            }
        }
        Bounds::Absolute { lower, upper } => {
            let above_lower = |v: f64| lower.is_none_or(|l| v > l);
            let within_upper = |v: f64| upper.is_none_or(|u| v <= u);
            let mut below = 0.0;
            let mut above = 0.0;
            let mut inside = Vec::new();
            for &(value, count) in distribution.entries() {
                if !above_lower(value) {
                    below += count;
                } else if !within_upper(value) {
                    above += count;
                } else {
                    inside.push((value, count));
                }
            }
            Window {
                inside,
                below: (below, lower.unwrap_or(f64::NAN)),
                above: (above, upper.unwrap_or(f64::NAN)),
            }
        }
    }
}

fn extended_value(distribution: &Distribution, kind: ExtendedKind) -> Option<f64> {
    let total = distribution.total();
    if total <= 0.0 {
        return None;
    }
    let finite = |v: f64| v.is_finite().then_some(v);
    match kind {
        ExtendedKind::Percentile(p) => distribution.percentile(p),
        ExtendedKind::TrimmedMean(bounds) => {
            let w = window(distribution, bounds);
            let count: f64 = w.inside.iter().map(|e| e.1).sum();
            let sum: f64 = w.inside.iter().map(|e| e.0 * e.1).sum();
            (count > 0.0).then(|| sum / count)
        }
        ExtendedKind::TrimmedCount(bounds) => Some(
            window(distribution, bounds)
                .inside
                .iter()
                .map(|e| e.1)
                .sum(),
        ),
        ExtendedKind::TrimmedSum(bounds) => Some(
            window(distribution, bounds)
                .inside
                .iter()
                .map(|e| e.0 * e.1)
                .sum(),
        ),
        ExtendedKind::WinsorizedMean(bounds) => {
            let w = window(distribution, bounds);
            let inside: f64 = w.inside.iter().map(|e| e.0 * e.1).sum();
            let clamped =
                |(count, value): (f64, f64)| if count > 0.0 { count * value } else { 0.0 };
            finite((inside + clamped(w.below) + clamped(w.above)) / total)
        }
        ExtendedKind::PercentileRank { lower, upper } => {
            let w = window(distribution, Bounds::Absolute { lower, upper });
            let count: f64 = w.inside.iter().map(|e| e.1).sum();
            Some(100.0 * count / total)
        }
    }
}
