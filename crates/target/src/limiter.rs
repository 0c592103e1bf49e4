//! The rate limiter: GCRA (the generic cell rate algorithm) over one atomic word.
//!
//! This module owns the throttling decision and nothing else: it reads no clock (every
//! call takes `now`, in virtual nanoseconds on any monotonic scale) and knows nothing of
//! HTTP.
//!
//! # Semantics
//!
//! A [`Quota`] of `rate` requests per second and burst `B` gives an *emission interval*
//! `T = round(1e9 / rate)` nanoseconds and a *tolerance* `tau = (B - 1) * T`. The limiter
//! keeps one number, the theoretical arrival time `tat` (initially 0). A request at `now`
//! is allowed iff `now >= tat - tau`; an allowed request sets
//! `tat = max(tat, now) + T`. A throttled request changes nothing, and is told to retry
//! after `tat - tau - now` nanoseconds, the earliest time at which it would be allowed.
//!
//! This is exactly a token bucket holding at most `B` tokens, starting full, refilled
//! continuously at one token per `T`, where a request takes one token:
//!
//! - `B` is the number of requests allowed at the same instant after an idle period.
//! - `B = 1` is *strict*: any two allowed requests are at least `T` (1/rate) apart.
//! - Over any closed window of length `W` (idle before it or not), at most
//!   `floor(W / T) + B` requests are allowed; a client that keeps asking gets exactly that
//!   many from idle.
//!
//! The same quota is governor's `Quota::per_second(rate).allow_burst(B)`; nginx's
//! `limit_req ... burst=N nodelay` corresponds to `B = N + 1`.
//!
//! # Concurrency
//!
//! `tat` lives in one `AtomicU64` updated by a compare-and-swap loop, so [`Limiter::check`]
//! is lock-free and takes `&self`. Callers on several threads may pass slightly
//! out-of-order `now` values; each decision is still the one the sequential algorithm
//! makes for the order in which the swaps land.

use std::sync::atomic::{AtomicU64, Ordering};

/// Requests per second used when none is given.
pub const DEFAULT_RATE_PER_SEC: f64 = 5.0;
/// Burst used when none is given.
pub const DEFAULT_BURST: u32 = 5;

/// A rate and a burst, not yet checked; [`Limiter::new`] checks it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quota {
    /// Requests allowed per (virtual) second in the long run.
    pub rate_per_sec: f64,
    /// Requests allowed at the same instant after an idle period (at least 1).
    pub burst: u32,
}

impl Default for Quota {
    fn default() -> Self {
        Quota {
            rate_per_sec: DEFAULT_RATE_PER_SEC,
            burst: DEFAULT_BURST,
        }
    }
}

/// Why a [`Quota`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum QuotaError {
    /// The rate is not a finite positive number whose interval is between 1 ns and
    /// `u64::MAX` ns.
    #[error("rate {0} is not a positive number of requests per second between 1e-9 and 1e9")]
    Rate(f64),
    /// The burst is zero.
    #[error("burst must be at least 1")]
    Burst,
    /// `(burst - 1) / rate` does not fit in 64 bits of nanoseconds.
    #[error("burst {burst} at rate {rate} spans more than 584 years")]
    Tolerance {
        /// The rate asked for.
        rate: f64,
        /// The burst asked for.
        burst: u32,
    },
}

/// What the limiter decided about one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The request may proceed; it has been counted.
    Allowed,
    /// The request is over the quota and was not counted.
    Throttled {
        /// Nanoseconds from `now` until a request would be allowed (at least 1).
        retry_after_ns: u64,
    },
}

/// A lock-free GCRA rate limiter. See the module documentation for the exact semantics.
#[derive(Debug)]
pub struct Limiter {
    /// The checked quota, for reporting.
    quota: Quota,
    /// `T`: nanoseconds each allowed request uses up.
    interval_ns: u64,
    /// `tau = (B - 1) * T`: how far `tat` may run ahead of `now`.
    tolerance_ns: u64,
    /// The theoretical arrival time, in the caller's nanoseconds.
    tat_ns: AtomicU64,
}

impl Limiter {
    /// A limiter for `quota`, idle (the first `burst` requests are allowed at once).
    pub fn new(quota: Quota) -> Result<Limiter, QuotaError> {
        let rate = quota.rate_per_sec;
        if !(rate.is_finite() && rate > 0.0) {
            return Err(QuotaError::Rate(rate));
        }
        let interval = (1e9 / rate).round();
        // `as` saturates; the range check keeps the conversion exact in meaning.
        if !(1.0..=u64::MAX as f64).contains(&interval) {
            return Err(QuotaError::Rate(rate));
        }
        let interval_ns = interval as u64;
        if quota.burst == 0 {
            return Err(QuotaError::Burst);
        }
        let tolerance_ns =
            interval_ns
                .checked_mul(u64::from(quota.burst - 1))
                .ok_or(QuotaError::Tolerance {
                    rate,
                    burst: quota.burst,
                })?;
        Ok(Limiter {
            quota,
            interval_ns,
            tolerance_ns,
            tat_ns: AtomicU64::new(0),
        })
    }

    /// The quota this limiter enforces.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// `T`, the emission interval in nanoseconds.
    pub fn interval_ns(&self) -> u64 {
        self.interval_ns
    }

    /// `tau`, the burst tolerance in nanoseconds.
    pub fn tolerance_ns(&self) -> u64 {
        self.tolerance_ns
    }

    /// Decides a request arriving at `now_ns`, counting it if allowed.
    pub fn check(&self, now_ns: u64) -> Decision {
        let mut tat = self.tat_ns.load(Ordering::Relaxed);
        loop {
            // `now >= tat - tau`, written so that nothing underflows.
            let earliest = tat.saturating_sub(self.tolerance_ns);
            if now_ns < earliest {
                return Decision::Throttled {
                    retry_after_ns: earliest - now_ns,
                };
            }
            let next = tat.max(now_ns).saturating_add(self.interval_ns);
            // Relaxed suffices: `tat` is the only shared datum and guards no other memory.
            match self
                .tat_ns
                .compare_exchange_weak(tat, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Decision::Allowed,
                Err(current) => tat = current,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    fn limiter(rate_per_sec: f64, burst: u32) -> Limiter {
        Limiter::new(Quota {
            rate_per_sec,
            burst,
        })
        .expect("a valid test quota")
    }

    #[test]
    fn refuses_bad_quotas() {
        let quota = |rate_per_sec, burst| {
            Limiter::new(Quota {
                rate_per_sec,
                burst,
            })
            .map(|_| ())
        };
        assert_eq!(quota(0.0, 1), Err(QuotaError::Rate(0.0)));
        assert_eq!(quota(-1.0, 1), Err(QuotaError::Rate(-1.0)));
        assert!(matches!(quota(f64::NAN, 1), Err(QuotaError::Rate(_))));
        assert!(matches!(quota(f64::INFINITY, 1), Err(QuotaError::Rate(_))));
        assert!(matches!(quota(1e10, 1), Err(QuotaError::Rate(_))));
        assert!(matches!(quota(1e-12, 1), Err(QuotaError::Rate(_))));
        assert_eq!(quota(5.0, 0), Err(QuotaError::Burst));
        assert!(matches!(
            quota(1e-9, 100),
            Err(QuotaError::Tolerance { .. })
        ));
        assert_eq!(quota(1e9, 1), Ok(()));
    }

    #[test]
    fn interval_and_tolerance_follow_the_quota() {
        let five = limiter(5.0, 5);
        assert_eq!(five.interval_ns(), 200_000_000);
        assert_eq!(five.tolerance_ns(), 800_000_000);
        assert_eq!(limiter(3.0, 1).interval_ns(), 333_333_333);
        assert_eq!(limiter(3.0, 1).tolerance_ns(), 0);
    }

    #[test]
    fn burst_is_allowed_at_one_instant_then_retry_after_says_when() {
        let limiter = limiter(5.0, 3);
        let now = 7 * SECOND;
        for _ in 0..3 {
            assert_eq!(limiter.check(now), Decision::Allowed);
        }
        assert_eq!(
            limiter.check(now),
            Decision::Throttled {
                retry_after_ns: 200_000_000
            }
        );
        // Throttled requests do not move the state.
        assert_eq!(
            limiter.check(now + 150_000_000),
            Decision::Throttled {
                retry_after_ns: 50_000_000
            }
        );
        assert_eq!(limiter.check(now + 200_000_000), Decision::Allowed);
    }

    #[test]
    fn strict_limit_spaces_requests_by_the_interval() {
        let limiter = limiter(5.0, 1);
        assert_eq!(limiter.check(0), Decision::Allowed);
        assert_eq!(
            limiter.check(199_999_999),
            Decision::Throttled { retry_after_ns: 1 }
        );
        assert_eq!(limiter.check(200_000_000), Decision::Allowed);
    }

    /// Requests every microsecond for 10 s: returns the times of the allowed ones.
    fn flood(burst: u32) -> Vec<u64> {
        let limiter = limiter(5.0, burst);
        (0..10 * SECOND)
            .step_by(1_000)
            .filter(|&now| limiter.check(now) == Decision::Allowed)
            .collect()
    }

    #[test]
    fn flood_allows_rate_times_window_plus_burst() {
        for burst in [1, 5] {
            let allowed = flood(burst).len() as i64;
            let expected = 5 * 10 + i64::from(burst);
            assert!(
                (allowed - expected).abs() <= 1,
                "burst {burst}: {allowed} allowed, expected {expected} +- 1"
            );
        }
    }

    #[test]
    fn strict_flood_keeps_every_gap_at_least_the_interval() {
        let times = flood(1);
        assert!(times.windows(2).all(|w| w[1] - w[0] >= 199_000_000));
    }

    #[test]
    fn threads_share_one_quota() {
        let limiter = limiter(1.0, 100);
        let allowed = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        (0..1_000)
                            .filter(|_| limiter.check(SECOND / 2) == Decision::Allowed)
                            .count()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .expect("the thread finished without panicking")
                })
                .sum::<usize>()
        });
        assert_eq!(allowed, 100);
    }
}
