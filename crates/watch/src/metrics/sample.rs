//! [`Sample`]: what one datum contributes to a bucket, borrowed so that ingesting copies
//! nothing it does not keep.

use hdrhistogram::Histogram;

/// A statistic set: four numbers standing for values CloudWatch never saw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StatisticSet {
    /// Number of values (`SampleCount`, > 0).
    pub sample_count: f64,
    /// Their sum.
    pub sum: f64,
    /// The smallest.
    pub minimum: f64,
    /// The largest.
    pub maximum: f64,
}

impl StatisticSet {
    /// Whether the set is just `sample_count` copies of one value (Minimum = Maximum and
    /// Sum = Minimum x SampleCount), the case where CloudWatch still offers percentiles.
    pub fn single_value(&self) -> Option<f64> {
        let same = self.minimum == self.maximum;
        let expected = self.minimum * self.sample_count;
        let tolerance = expected.abs() * 1e-12;
        (same && (self.sum - expected).abs() <= tolerance).then_some(self.minimum)
    }
}

/// One datum's contribution to a series.
#[derive(Clone, Copy, Debug)]
pub enum Sample<'a> {
    /// One value (`Value`).
    Value(f64),
    /// `Values` with optional `Counts` (each defaults to 1; same length when present).
    Values {
        /// The distinct values.
        values: &'a [f64],
        /// How many times each occurred.
        counts: Option<&'a [f64]>,
    },
    /// `StatisticValues`.
    StatisticSet(StatisticSet),
    /// An HdrHistogram whose recorded value `v` stands for `v x scale` (e.g. microseconds
    /// recorded, milliseconds published: scale `0.001`).
    Histogram {
        /// The histogram; merged exactly into the bucket.
        histogram: &'a Histogram<u64>,
        /// Multiplier from recorded units to the published unit (finite, > 0).
        scale: f64,
    },
}

/// A sample that cannot be stored.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SampleError {
    /// A value, count or statistic is NaN or infinite.
    #[error("{what} is not a finite number")]
    NotFinite {
        /// Which number.
        what: &'static str,
    },
    /// `Counts` and `Values` differ in length.
    #[error("{counts} counts for {values} values")]
    CountsLength {
        /// Number of values.
        values: usize,
        /// Number of counts.
        counts: usize,
    },
    /// A count (or SampleCount) is negative, or a SampleCount is zero.
    #[error("counts must not be negative and SampleCount must be positive")]
    BadCount,
    /// A statistic set whose Minimum exceeds its Maximum.
    #[error("the statistic set's Minimum exceeds its Maximum")]
    MinimumAboveMaximum,
    /// A histogram scale that is not a finite positive number.
    #[error("histogram scale must be a finite positive number")]
    BadScale,
}

impl Sample<'_> {
    /// Checks the sample's invariants; [`crate::metrics::Aggregate::add`] calls it
    /// before changing anything.
    pub fn validate(&self) -> Result<(), SampleError> {
        let finite = |v: f64, what| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(SampleError::NotFinite { what })
            }
        };
        match *self {
            Sample::Value(value) => finite(value, "Value"),
            Sample::Values { values, counts } => {
                values.iter().try_for_each(|&v| finite(v, "Values"))?;
                if let Some(counts) = counts {
                    if counts.len() != values.len() {
                        return Err(SampleError::CountsLength {
                            values: values.len(),
                            counts: counts.len(),
                        });
                    }
                    counts.iter().try_for_each(|&c| finite(c, "Counts"))?;
                    if counts.iter().any(|&c| c < 0.0) {
                        return Err(SampleError::BadCount);
                    }
                }
                Ok(())
            }
            Sample::StatisticSet(set) => {
                finite(set.sample_count, "SampleCount")?;
                finite(set.sum, "Sum")?;
                finite(set.minimum, "Minimum")?;
                finite(set.maximum, "Maximum")?;
                if set.sample_count <= 0.0 {
                    return Err(SampleError::BadCount);
                }
                if set.minimum > set.maximum {
                    return Err(SampleError::MinimumAboveMaximum);
                }
                Ok(())
            }
            Sample::Histogram { scale, .. } => {
                if scale.is_finite() && scale > 0.0 {
                    Ok(())
                } else {
                    Err(SampleError::BadScale)
                }
            }
        }
    }
}
