//! [`Retention`]: how long data is kept at which granularity (CloudWatch's tiers by
//! default), checked once when built. The [`super::Store`] applies it.

use simtime::SimDuration;

use super::id::Resolution;

/// One retention tier: buckets `granularity` seconds wide, kept for `keep`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    /// Bucket width in seconds (> 0).
    pub granularity: u64,
    /// How long a bucket stays in this tier, measured from its start to `now`.
    pub keep: SimDuration,
}

/// How long data is kept at which granularity.
///
/// The default is CloudWatch's: one-second data for 3 hours, one-minute data for 15
/// days, five-minute data for 63 days, one-hour data for 455 days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    /// At least one tier; granularities strictly increasing, each a multiple of the
    /// previous one.
    tiers: Vec<Tier>,
}

/// A retention configuration that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    /// No tier at all.
    #[error("retention needs at least one tier")]
    Empty,
    /// A tier's granularity is zero, or not a larger multiple of the previous tier's.
    #[error("tier {index}: granularity must be a larger multiple of the previous tier's")]
    Granularity {
        /// Which tier (0-based).
        index: usize,
    },
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            tiers: vec![
                Tier {
                    granularity: 1,
                    keep: SimDuration::from_hours(3),
                },
                Tier {
                    granularity: 60,
                    keep: SimDuration::from_days(15),
                },
                Tier {
                    granularity: 300,
                    keep: SimDuration::from_days(63),
                },
                Tier {
                    granularity: 3600,
                    keep: SimDuration::from_days(455),
                },
            ],
        }
    }
}

impl Retention {
    /// A retention of `tiers`, finest first.
    pub fn new(tiers: Vec<Tier>) -> Result<Retention, RetentionError> {
        if tiers.is_empty() {
            return Err(RetentionError::Empty);
        }
        let mut previous = 1;
        for (index, tier) in tiers.iter().enumerate() {
            let larger = index == 0 || tier.granularity > previous;
            if tier.granularity == 0 || !larger || tier.granularity % previous != 0 {
                return Err(RetentionError::Granularity { index });
            }
            previous = tier.granularity;
        }
        Ok(Retention { tiers })
    }

    /// The tiers, finest first.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The tier new data of `resolution` goes to: the finest at least as wide.
    pub(super) fn tier_for(&self, resolution: Resolution) -> usize {
        let seconds = resolution.seconds();
        self.tiers
            .iter()
            .position(|tier| tier.granularity >= seconds)
            .unwrap_or(self.tiers.len() - 1)
    }
}
