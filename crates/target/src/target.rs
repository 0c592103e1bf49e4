//! The target's decisions: which route a path is, and what each request gets.
//!
//! [`Target::handle`] is the whole behaviour of the service as a function of the route,
//! the virtual time and an RNG; it counts what it decides in the [`Metrics`]. It reads
//! no clock itself and knows nothing of sockets or HTTP framing: the server turns a
//! [`Reply`] into a response and sleeps for its latency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clock::Clock;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::access_log::AccessLog;
use crate::config::{ErrorRatio, TargetConfig};
use crate::latency::Latency;
use crate::limiter::{Decision, Limiter, QuotaError};
use crate::metrics::{self, Metrics, Outcome, Settings, Snapshot};

/// Which behaviour a request path selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Every path but the two below: rate-limited, may be delayed or fail.
    Limited,
    /// `/health`: always 200, never limited, not counted as a limited request.
    Health,
    /// `/metrics`: the counters in Prometheus text; never limited nor counted.
    Metrics,
}

impl Route {
    /// The route of a request path (the query string excluded).
    pub fn of(path: &str) -> Route {
        match path {
            "/health" => Route::Health,
            "/metrics" => Route::Metrics,
            _ => Route::Limited,
        }
    }
}

/// What to answer one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `200 Hello World!`, after `latency` (virtual).
    Hello {
        /// Added latency, virtual.
        latency: Duration,
    },
    /// `500 Error!`, after `latency` (virtual): allowed, then failed by the error ratio.
    Error {
        /// Added latency, virtual.
        latency: Duration,
    },
    /// `429 Throttling!` with `Retry-After`.
    Throttled {
        /// Whole virtual seconds until a request would be allowed, rounded up, at least 1.
        retry_after_secs: u64,
    },
    /// `200 OK` from `/health`.
    Health,
    /// `200` with this Prometheus text from `/metrics`.
    Metrics(String),
}

impl Reply {
    /// The virtual delay before answering (zero for all but `Hello` and `Error`).
    pub fn latency(&self) -> Duration {
        match self {
            Reply::Hello { latency } | Reply::Error { latency } => *latency,
            Reply::Throttled { .. } | Reply::Health | Reply::Metrics(_) => Duration::ZERO,
        }
    }
}

/// The state of a running target, shared by every connection.
#[derive(Debug)]
pub struct Target {
    /// The rate limit of [`Route::Limited`].
    limiter: Limiter,
    /// Virtual time, for the limiter and for latency sleeps.
    clock: Clock,
    /// Added latency of allowed requests.
    latency: Latency,
    /// Share of allowed requests that fail.
    error_ratio: ErrorRatio,
    /// Root of every connection's random stream.
    seed: u64,
    /// Connections handed a random stream so far, so each gets its own.
    streams: AtomicU64,
    /// Request and connection counters.
    metrics: Metrics,
    /// Where answered requests are logged, if anywhere.
    access_log: Option<AccessLog>,
}

impl Target {
    /// A target behaving as `config` says, on `clock`; fails if the quota is invalid.
    pub fn new(config: TargetConfig, clock: Clock) -> Result<Target, QuotaError> {
        Ok(Target {
            limiter: Limiter::new(config.quota)?,
            clock,
            latency: config.latency,
            error_ratio: config.error_ratio,
            seed: config.seed,
            streams: AtomicU64::new(0),
            metrics: Metrics::default(),
            access_log: None,
        })
    }

    /// The same target, logging every answered request to `log`.
    pub fn with_access_log(mut self, log: AccessLog) -> Target {
        self.access_log = Some(log);
        self
    }

    /// The access log, if one is kept.
    pub fn access_log(&self) -> Option<&AccessLog> {
        self.access_log.as_ref()
    }

    /// The clock the target runs on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The fixed facts reported as gauges.
    pub fn settings(&self) -> Settings {
        Settings {
            quota: self.limiter.quota(),
            time_scale: self.clock.scale().factor(),
        }
    }

    /// The metrics page, rendered now.
    pub fn render_metrics(&self) -> String {
        metrics::render(&self.metrics.snapshot(), &self.settings())
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        self.metrics.snapshot()
    }

    /// The next connection's random stream: derived from the seed and the connection's
    /// number, so draws do not depend on how connections interleave.
    pub fn connection_rng(&self) -> ChaCha8Rng {
        let number = self.streams.fetch_add(1, Ordering::Relaxed);
        ChaCha8Rng::seed_from_u64(splitmix64(splitmix64(self.seed) ^ number))
    }

    /// Whether [`Target::handle`] ever draws from its RNG; if not, callers may pass any.
    pub fn needs_rng(&self) -> bool {
        self.latency.is_random() || (0.0 < self.error_ratio.get() && self.error_ratio.get() < 1.0)
    }

    /// Decides a request on `route` arriving at virtual `now_ns` (the clock's
    /// [`Clock::elapsed_nanos`]) and counts the outcome. Draws from `rng` only if
    /// [`Target::needs_rng`].
    pub fn handle<R: Rng + ?Sized>(&self, route: Route, now_ns: u64, rng: &mut R) -> Reply {
        match route {
            Route::Health => {
                self.metrics.record_health();
                Reply::Health
            }
            Route::Metrics => Reply::Metrics(self.render_metrics()),
            Route::Limited => match self.limiter.check(now_ns) {
                Decision::Throttled { retry_after_ns } => {
                    self.metrics.record(Outcome::Throttled);
                    Reply::Throttled {
                        retry_after_secs: retry_after_ns.div_ceil(1_000_000_000).max(1),
                    }
                }
                Decision::Allowed => {
                    let fails = self.fails(rng);
                    let latency = self.latency.sample(rng);
                    if fails {
                        self.metrics.record(Outcome::Error);
                        Reply::Error { latency }
                    } else {
                        self.metrics.record(Outcome::Allowed);
                        Reply::Hello { latency }
                    }
                }
            },
        }
    }

    /// Whether an allowed request fails; draws only for a ratio strictly inside (0, 1).
    fn fails<R: Rng + ?Sized>(&self, rng: &mut R) -> bool {
        let ratio = self.error_ratio.get();
        if ratio <= 0.0 {
            false
        } else if ratio >= 1.0 {
            true
        } else {
            rng.random::<f64>() < ratio
        }
    }
}

/// SplitMix64's finaliser: spreads nearby inputs over the whole range.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limiter::Quota;
    use clock::TimeScale;

    const SECOND: u64 = 1_000_000_000;

    fn target(config: TargetConfig) -> Target {
        let clock = Clock::starting_at(TimeScale::REAL, simtime::SimTime::EPOCH);
        Target::new(config, clock).expect("a valid test target")
    }

    fn quota(rate_per_sec: f64, burst: u32) -> TargetConfig {
        TargetConfig {
            quota: Quota {
                rate_per_sec,
                burst,
            },
            ..TargetConfig::default()
        }
    }

    #[test]
    fn routes_by_exact_path() {
        assert_eq!(Route::of("/"), Route::Limited);
        assert_eq!(Route::of("/anything/else"), Route::Limited);
        assert_eq!(Route::of("/health"), Route::Health);
        assert_eq!(Route::of("/health/"), Route::Limited);
        assert_eq!(Route::of("/metrics"), Route::Metrics);
    }

    #[test]
    fn limited_requests_are_allowed_then_throttled_with_retry_after() {
        let target = target(quota(0.5, 2));
        let mut rng = target.connection_rng();
        let mut at = |now| target.handle(Route::Limited, now, &mut rng);
        let hello = Reply::Hello {
            latency: Duration::ZERO,
        };
        assert_eq!(at(0), hello);
        assert_eq!(at(0), hello);
        // Interval 2 s: the next slot opens at 2 s.
        assert_eq!(
            at(0),
            Reply::Throttled {
                retry_after_secs: 2
            }
        );
        assert_eq!(
            at(SECOND / 2),
            Reply::Throttled {
                retry_after_secs: 2
            }
        );
        assert_eq!(
            at(SECOND),
            Reply::Throttled {
                retry_after_secs: 1
            }
        );
        assert_eq!(
            at(2 * SECOND - 1),
            Reply::Throttled {
                retry_after_secs: 1
            }
        );
        assert_eq!(at(2 * SECOND), hello);
        let snapshot = target.snapshot();
        assert_eq!((snapshot.allowed, snapshot.throttled), (3, 4));
    }

    #[test]
    fn health_and_metrics_bypass_the_limiter() {
        let target = target(quota(1e-3, 1));
        let mut rng = target.connection_rng();
        assert!(matches!(
            target.handle(Route::Limited, 0, &mut rng),
            Reply::Hello { .. }
        ));
        for _ in 0..10 {
            assert_eq!(target.handle(Route::Health, 0, &mut rng), Reply::Health);
            assert!(matches!(
                target.handle(Route::Metrics, 0, &mut rng),
                Reply::Metrics(_)
            ));
        }
        assert!(matches!(
            target.handle(Route::Limited, 0, &mut rng),
            Reply::Throttled { .. }
        ));
        let snapshot = target.snapshot();
        assert_eq!(
            (snapshot.allowed, snapshot.throttled, snapshot.health),
            (1, 1, 10)
        );
    }

    #[test]
    fn error_ratio_and_latency_apply_to_allowed_requests_only() {
        let target = target(TargetConfig {
            latency: Latency::Fixed(Duration::from_millis(20)),
            error_ratio: ErrorRatio::ALWAYS,
            ..quota(1.0, 1)
        });
        assert!(!target.needs_rng());
        let mut rng = target.connection_rng();
        let reply = target.handle(Route::Limited, 0, &mut rng);
        assert_eq!(
            reply,
            Reply::Error {
                latency: Duration::from_millis(20)
            }
        );
        assert_eq!(reply.latency(), Duration::from_millis(20));
        let throttled = target.handle(Route::Limited, 0, &mut rng);
        assert_eq!(throttled.latency(), Duration::ZERO);
        assert_eq!(target.snapshot().errors, 1);
    }

    #[test]
    fn error_ratio_is_a_share_and_seeded() {
        let config = TargetConfig {
            error_ratio: ErrorRatio::new(0.25).expect("a valid test input"),
            seed: 42,
            ..quota(1e9, 1)
        };
        let run = || {
            let target = target(config);
            let mut rng = target.connection_rng();
            (0..4_000u64)
                .map(|n| target.handle(Route::Limited, n, &mut rng))
                .map(|reply| matches!(reply, Reply::Error { .. }))
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run(), "same seed, same draws");
        let errors = first.iter().filter(|&&failed| failed).count();
        assert!((850..1_150).contains(&errors), "{errors} errors in 4000");
    }
}
