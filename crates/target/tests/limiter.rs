//! Property tests of the GCRA limiter against a token-bucket reference model, and of
//! the window bound its documentation promises.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use target::{Decision, Limiter, Quota};

/// A token bucket counted exactly in nanoseconds of credit: it holds at most
/// `burst * interval`, starts full, gains one per nanosecond, and a request costs
/// `interval`.
struct Bucket {
    interval: u128,
    capacity: u128,
    level: u128,
    last: u128,
}

impl Bucket {
    fn new(interval_ns: u64, burst: u32) -> Bucket {
        let interval = u128::from(interval_ns);
        let capacity = interval * u128::from(burst);
        Bucket {
            interval,
            capacity,
            level: capacity,
            last: 0,
        }
    }

    fn check(&mut self, now: u64) -> Decision {
        let now = u128::from(now);
        self.level = (self.level + (now - self.last)).min(self.capacity);
        self.last = now;
        if self.level >= self.interval {
            self.level -= self.interval;
            Decision::Allowed
        } else {
            Decision::Throttled {
                retry_after_ns: u64::try_from(self.interval - self.level)
                    .expect("retry wait fits in u64"),
            }
        }
    }
}

fn quota() -> impl Strategy<Value = Quota> {
    (
        prop_oneof![
            Just(5.0),
            Just(1.0),
            Just(3.0),
            Just(1000.0),
            0.01f64..10_000.0
        ],
        1u32..20,
    )
        .prop_map(|(rate_per_sec, burst)| Quota {
            rate_per_sec,
            burst,
        })
}

/// Non-decreasing arrival times whose gaps are around the interval of `quota`.
fn arrivals(quota: Quota) -> impl Strategy<Value = Vec<u64>> {
    let interval = (1e9 / quota.rate_per_sec).round() as u64;
    let gap = prop_oneof![
        Just(0u64),
        0..interval / 4 + 1,
        0..interval * 3,
        0..interval * u64::from(quota.burst) * 2,
    ];
    (0u64..1_000_000_000_000, prop::collection::vec(gap, 1..300)).prop_map(|(start, gaps)| {
        gaps.iter()
            .scan(start, |now, gap| {
                *now += gap;
                Some(*now)
            })
            .collect()
    })
}

fn quota_and_arrivals() -> impl Strategy<Value = (Quota, Vec<u64>)> {
    quota().prop_flat_map(|quota| (Just(quota), arrivals(quota)))
}

proptest! {
    #[test]
    fn decisions_match_a_token_bucket((quota, times) in quota_and_arrivals()) {
        let limiter = Limiter::new(quota).unwrap();
        let mut bucket = Bucket::new(limiter.interval_ns(), quota.burst);
        for &now in &times {
            prop_assert_eq!(limiter.check(now), bucket.check(now), "at {}", now);
        }
    }

    #[test]
    fn any_window_admits_at_most_its_length_over_the_interval_plus_the_burst(
        (quota, times) in quota_and_arrivals(),
    ) {
        let limiter = Limiter::new(quota).unwrap();
        let allowed: Vec<u64> = times
            .iter()
            .copied()
            .filter(|&now| limiter.check(now) == Decision::Allowed)
            .collect();
        let interval = limiter.interval_ns();
        for (i, &first) in allowed.iter().enumerate() {
            for (j, &last) in allowed.iter().enumerate().skip(i) {
                let count = (j - i + 1) as u64;
                let bound = (last - first) / interval + u64::from(quota.burst);
                prop_assert!(count <= bound, "{} allowed in [{}, {}]", count, first, last);
            }
        }
    }

    #[test]
    fn retry_after_is_exactly_when_the_next_request_is_allowed(
        (quota, times) in quota_and_arrivals(),
    ) {
        let limiter = Limiter::new(quota).unwrap();
        for &now in &times {
            if let Decision::Throttled { retry_after_ns } = limiter.check(now) {
                prop_assert!(retry_after_ns >= 1);
                prop_assert!(
                    limiter.check(now + retry_after_ns - 1) != Decision::Allowed,
                    "allowed before retry-after"
                );
                prop_assert_eq!(limiter.check(now + retry_after_ns), Decision::Allowed);
                break;
            }
        }
    }
}
