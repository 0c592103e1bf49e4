//! The target's counters, cheap on the hot path, and their Prometheus text rendering.
//!
//! Each counter is split into shards, one cache line each; a thread always adds to the
//! same shard (picked once per thread), so worker threads never write to a shared cache
//! line and all updates are `Relaxed`. Reading sums the shards, so a snapshot taken while
//! requests are in flight is a consistent-enough view, not an atomic one. This module
//! knows nothing of HTTP or routing; it only counts what it is told.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::limiter::Quota;

/// Shards per counter: enough that runtimes with this many worker threads or fewer
/// give each thread its own.
const SHARDS: usize = 16;

/// What became of one rate-limited request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Within the quota, answered 200.
    Allowed,
    /// Over the quota, answered 429.
    Throttled,
    /// Within the quota, answered 500 by the error ratio.
    Error,
}

/// One thread's share of every counter, alone on its cache line(s).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard {
    /// Requests allowed and answered 200.
    allowed: AtomicU64,
    /// Requests answered 429.
    throttled: AtomicU64,
    /// Requests allowed but answered 500.
    errors: AtomicU64,
    /// `/health` requests.
    health: AtomicU64,
    /// Connections accepted.
    opened: AtomicU64,
    /// Connections finished.
    closed: AtomicU64,
}

/// The target's counters. Every method takes `&self` and never blocks.
#[derive(Debug)]
pub struct Metrics {
    /// One shard per thread slot.
    shards: Box<[Shard]>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
        }
    }
}

/// The counters' values at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Requests allowed and answered 200.
    pub allowed: u64,
    /// Requests answered 429.
    pub throttled: u64,
    /// Requests allowed but answered 500.
    pub errors: u64,
    /// `/health` requests.
    pub health: u64,
    /// Connections accepted.
    pub connections_total: u64,
    /// Connections accepted and not yet finished.
    pub connections_open: u64,
}

/// Fixed facts about the target, rendered as gauges beside the counters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// The rate limit.
    pub quota: Quota,
    /// The time scale's factor.
    pub time_scale: u32,
}

thread_local! {
    /// This thread's shard, assigned on first use.
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Hands out shard slots to threads in turn.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

fn shard_index() -> usize {
    SHARD.with(|slot| {
        let index = slot.get();
        if index != usize::MAX {
            return index;
        }
        let index = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
        slot.set(index);
        index
    })
}

impl Metrics {
    /// This thread's shard.
    fn shard(&self) -> &Shard {
        // `shards` always has `SHARDS` entries; the modulo keeps the index in bounds.
        &self.shards[shard_index() % self.shards.len()]
    }

    /// Counts one rate-limited request.
    pub fn record(&self, outcome: Outcome) {
        let shard = self.shard();
        let counter = match outcome {
            Outcome::Allowed => &shard.allowed,
            Outcome::Throttled => &shard.throttled,
            Outcome::Error => &shard.errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one `/health` request.
    pub fn record_health(&self) {
        self.shard().health.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an accepted connection.
    pub fn connection_opened(&self) {
        self.shard().opened.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a finished connection.
    pub fn connection_closed(&self) {
        self.shard().closed.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters summed over every shard.
    pub fn snapshot(&self) -> Snapshot {
        let sum = |field: fn(&Shard) -> &AtomicU64| -> u64 {
            self.shards
                .iter()
                .map(|shard| field(shard).load(Ordering::Relaxed))
                .fold(0, u64::wrapping_add)
        };
        let opened = sum(|shard| &shard.opened);
        let closed = sum(|shard| &shard.closed);
        Snapshot {
            allowed: sum(|shard| &shard.allowed),
            throttled: sum(|shard| &shard.throttled),
            errors: sum(|shard| &shard.errors),
            health: sum(|shard| &shard.health),
            connections_total: opened,
            // Shards are read one after another, so a close may be seen before its open.
            connections_open: opened.saturating_sub(closed),
        }
    }
}

/// The Content-Type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The counters and settings in the Prometheus text exposition format, version 0.0.4.
pub fn render(snapshot: &Snapshot, settings: &Settings) -> String {
    let mut out = String::with_capacity(1_536);
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, String)]| {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    metric(
        "spotlab_target_requests_total",
        "counter",
        "Rate-limited requests by outcome (error: allowed, then failed by the error ratio).",
        &[
            (r#"{outcome="allowed"}"#, snapshot.allowed.to_string()),
            (r#"{outcome="throttled"}"#, snapshot.throttled.to_string()),
            (r#"{outcome="error"}"#, snapshot.errors.to_string()),
        ],
    );
    metric(
        "spotlab_target_health_requests_total",
        "counter",
        "Requests to /health, never rate-limited.",
        &[("", snapshot.health.to_string())],
    );
    metric(
        "spotlab_target_connections_total",
        "counter",
        "TCP connections accepted.",
        &[("", snapshot.connections_total.to_string())],
    );
    metric(
        "spotlab_target_connections_open",
        "gauge",
        "TCP connections currently open.",
        &[("", snapshot.connections_open.to_string())],
    );
    metric(
        "spotlab_target_rate_limit_per_second",
        "gauge",
        "Requests allowed per virtual second in the long run.",
        &[("", settings.quota.rate_per_sec.to_string())],
    );
    metric(
        "spotlab_target_burst",
        "gauge",
        "Requests allowed at one instant after an idle period.",
        &[("", settings.quota.burst.to_string())],
    );
    metric(
        "spotlab_target_time_scale",
        "gauge",
        "How many times faster virtual time runs than real time.",
        &[("", settings.time_scale.to_string())],
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sum_over_threads() {
        let metrics = Metrics::default();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..1_000 {
                        metrics.record(Outcome::Allowed);
                    }
                    metrics.record(Outcome::Throttled);
                    metrics.record(Outcome::Error);
                    metrics.record_health();
                    metrics.connection_opened();
                });
            }
        });
        metrics.connection_closed();
        let expected = Snapshot {
            allowed: 4_000,
            throttled: 4,
            errors: 4,
            health: 4,
            connections_total: 4,
            connections_open: 3,
        };
        assert_eq!(metrics.snapshot(), expected);
    }

    #[test]
    fn renders_prometheus_text() {
        let snapshot = Snapshot {
            allowed: 10,
            throttled: 3,
            errors: 1,
            health: 2,
            connections_total: 5,
            connections_open: 1,
        };
        let settings = Settings {
            quota: Quota {
                rate_per_sec: 2.5,
                burst: 5,
            },
            time_scale: 60,
        };
        expect_test::expect![[r#"
            # HELP spotlab_target_requests_total Rate-limited requests by outcome (error: allowed, then failed by the error ratio).
            # TYPE spotlab_target_requests_total counter
            spotlab_target_requests_total{outcome="allowed"} 10
            spotlab_target_requests_total{outcome="throttled"} 3
            spotlab_target_requests_total{outcome="error"} 1
            # HELP spotlab_target_health_requests_total Requests to /health, never rate-limited.
            # TYPE spotlab_target_health_requests_total counter
            spotlab_target_health_requests_total 2
            # HELP spotlab_target_connections_total TCP connections accepted.
            # TYPE spotlab_target_connections_total counter
            spotlab_target_connections_total 5
            # HELP spotlab_target_connections_open TCP connections currently open.
            # TYPE spotlab_target_connections_open gauge
            spotlab_target_connections_open 1
            # HELP spotlab_target_rate_limit_per_second Requests allowed per virtual second in the long run.
            # TYPE spotlab_target_rate_limit_per_second gauge
            spotlab_target_rate_limit_per_second 2.5
            # HELP spotlab_target_burst Requests allowed at one instant after an idle period.
            # TYPE spotlab_target_burst gauge
            spotlab_target_burst 5
            # HELP spotlab_target_time_scale How many times faster virtual time runs than real time.
            # TYPE spotlab_target_time_scale gauge
            spotlab_target_time_scale 60
        "#]]
        .assert_eq(&render(&snapshot, &settings));
    }
}
