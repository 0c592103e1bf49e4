//! Synthetic but realistic reports for tests, examples and previews: a three-phase run
//! (4 units and OK, 8 units overloading the service into ALARM, 2 units with two Spot
//! interruptions) and a find-limit search. Deterministic: no randomness, so snapshots
//! of what renders them are stable.

use std::collections::BTreeMap;

use crate::limit::{LimitReport, LimitStep};
use crate::model::{
    AlarmSeries, CapacityPoint, Cost, Expectation, Interruption, Phase, Point, PriceSeries,
    RatePoint, RunReport, StateBand, Transition,
};

/// Requests per second one unit of capacity offers.
const PER_UNIT: f64 = 60.0;
/// Requests per second the service admits before throttling.
const LIMIT: f64 = 400.0;

const POOL_A: &str = "c5.large us-east-1a";
const POOL_B: &str = "c5.large us-east-1b";
const POOL_M: &str = "m5.large us-east-1a";

/// Capacity by pool at time `t`: (a, b, m).
fn pools_at(t: f64) -> (f64, f64, f64) {
    match t {
        t if t < 20.0 => (0.0, 0.0, 0.0),
        t if t < 300.0 => (2.0, 2.0, 0.0),
        t if t < 320.0 => (3.0, 2.0, 0.0),
        t if t < 600.0 => (3.0, 3.0, 2.0),
        // Scale-in to 2 units, then the two interruptions: a's instance is reclaimed
        // two minutes after its notice at 640, b's after its notice at 700, and the
        // fleet replaces each from m5.large a little later.
        t if t < 760.0 => (1.0, 1.0, 0.0),
        t if t < 790.0 => (0.0, 1.0, 0.0),
        t if t < 820.0 => (0.0, 1.0, 1.0),
        t if t < 840.0 => (0.0, 0.0, 1.0),
        _ => (0.0, 0.0, 2.0),
    }
}

fn target_at(t: f64) -> f64 {
    match t {
        t if t < 300.0 => 4.0,
        t if t < 600.0 => 8.0,
        _ => 2.0,
    }
}

/// Offered and successful requests per second at time `t`, with a gentle wobble.
fn rates_at(t: f64) -> (f64, f64) {
    let (a, b, m) = pools_at(t - 10.0);
    let wobble = 1.0 + 0.03 * (t / 37.0).sin() + 0.02 * (t / 11.0).cos();
    let offered = (a + b + m) * PER_UNIT * wobble;
    (
        offered,
        offered.min(LIMIT * (1.0 + 0.01 * (t / 23.0).sin())),
    )
}

/// A three-phase run report: 4 units and OK, 8 units and ALARM, 2 units with two
/// interruptions, over 15 virtual minutes.
pub fn run() -> RunReport {
    let duration_s = 900.0;
    let requests: Vec<RatePoint> = (0..=90)
        .map(|i| {
            let t = f64::from(i) * 10.0;
            let (offered, success) = rates_at(t);
            RatePoint {
                t,
                success_per_s: success,
                error_per_s: offered - success,
            }
        })
        .collect();
    let error_rate: Vec<Point> = (1..=15)
        .map(|minute| {
            let end = f64::from(minute) * 60.0;
            let window = requests.iter().filter(|p| p.t > end - 60.0 && p.t <= end);
            let (s, e) = window.fold((0.0, 0.0), |(s, e), p| {
                (s + p.success_per_s, e + p.error_per_s)
            });
            Point {
                t: end,
                value: if s + e > 0.0 { e / (s + e) } else { 0.0 },
            }
        })
        .collect();
    let capacity: Vec<CapacityPoint> = [0.0, 20.0, 300.0, 320.0, 600.0, 760.0, 790.0, 820.0, 840.0]
        .iter()
        .map(|&t| {
            let (a, b, m) = pools_at(t);
            let by_pool = BTreeMap::from([
                (POOL_A.to_owned(), a),
                (POOL_B.to_owned(), b),
                (POOL_M.to_owned(), m),
            ]);
            CapacityPoint {
                t,
                target: target_at(t),
                by_pool,
            }
        })
        .collect();
    let phase =
        |name: &str, start_s: f64, end_s: f64, target: f64, fulfilled: f64, p50: f64, p99: f64| {
            let (successes, errors) = requests
                .iter()
                .filter(|p| p.t > start_s && p.t <= end_s)
                .fold((0.0, 0.0), |(s, e), p| {
                    (s + p.success_per_s * 10.0, e + p.error_per_s * 10.0)
                });
            Phase {
                name: name.to_owned(),
                start_s,
                end_s,
                target_capacity: Some(target),
                fulfilled_capacity: Some(fulfilled),
                successes: successes.round() as u64,
                errors: errors.round() as u64,
                p50_ms: Some(p50),
                p99_ms: Some(p99),
            }
        };
    let phases = vec![
        phase("steady", 0.0, 300.0, 4.0, 3.73, 4.1, 11.8),
        phase("overload", 300.0, 600.0, 8.0, 7.93, 6.3, 48.5),
        phase("interrupted", 600.0, 900.0, 2.0, 1.6, 3.9, 9.7),
    ];
    let successes = phases.iter().map(|p| p.successes).sum();
    let reason = |value: f64, minute: u32, op: &str, to: &str| {
        format!(
            "Threshold Crossed: 1 out of the last 1 datapoints [{value:.4} (01/06/25 12:{minute:02}:00)] was {op} the threshold (0.05) (minimum 1 datapoint for {to} transition)."
        )
    };
    let alarm = AlarmSeries {
        name: "web-error-rate".to_owned(),
        threshold: 0.05,
        states: vec![
            StateBand {
                start_s: 0.0,
                end_s: 60.0,
                state: "INSUFFICIENT_DATA".to_owned(),
            },
            StateBand {
                start_s: 60.0,
                end_s: 360.0,
                state: "OK".to_owned(),
            },
            StateBand {
                start_s: 360.0,
                end_s: 660.0,
                state: "ALARM".to_owned(),
            },
            StateBand {
                start_s: 660.0,
                end_s: 900.0,
                state: "OK".to_owned(),
            },
        ],
        transitions: vec![
            Transition {
                t: 60.0,
                from: "INSUFFICIENT_DATA".to_owned(),
                to: "OK".to_owned(),
                reason: reason(0.0, 1, "not greater than", "ALARM -> OK"),
            },
            Transition {
                t: 360.0,
                from: "OK".to_owned(),
                to: "ALARM".to_owned(),
                reason: reason(0.1652, 6, "greater than", "OK -> ALARM"),
            },
            Transition {
                t: 660.0,
                from: "ALARM".to_owned(),
                to: "OK".to_owned(),
                reason: reason(0.0, 11, "not greater than", "ALARM -> OK"),
            },
        ],
    };
    let interruptions = vec![
        Interruption {
            t: 640.0,
            instance_id: "i-0a1b2c3d4e5f60718".to_owned(),
            pool: POOL_A.to_owned(),
            drained: Some(true),
        },
        Interruption {
            t: 700.0,
            instance_id: "i-0f9e8d7c6b5a40312".to_owned(),
            pool: POOL_B.to_owned(),
            drained: Some(false),
        },
    ];
    let series = |pool: &str, on_demand: f64, points: &[(f64, f64)]| PriceSeries {
        pool: pool.to_owned(),
        on_demand: Some(on_demand),
        points: points
            .iter()
            .map(|&(t, value)| Point { t, value })
            .collect(),
    };
    let prices = vec![
        series(
            POOL_A,
            0.085,
            &[(-1800.0, 0.0342), (400.0, 0.0361), (650.0, 0.0412)],
        ),
        series(POOL_B, 0.085, &[(-600.0, 0.0318), (500.0, 0.0331)]),
        series(POOL_M, 0.096, &[(-3600.0, 0.0384), (300.0, 0.0352)]),
    ];
    let expectations = vec![
        Expectation {
            step: "steady".to_owned(),
            what: "error rate".to_owned(),
            expected: "< 1%".to_owned(),
            measured: "0%".to_owned(),
            passed: true,
        },
        Expectation {
            step: "overload".to_owned(),
            what: "alarm web-error-rate".to_owned(),
            expected: "ALARM within 2:00".to_owned(),
            measured: "ALARM after 1:00".to_owned(),
            passed: true,
        },
        Expectation {
            step: "overload".to_owned(),
            what: "error rate".to_owned(),
            expected: "> 5%".to_owned(),
            measured: "16.5%".to_owned(),
            passed: true,
        },
        Expectation {
            step: "interrupted".to_owned(),
            what: "interruptions".to_owned(),
            expected: "2".to_owned(),
            measured: "2".to_owned(),
            passed: true,
        },
        Expectation {
            step: "interrupted".to_owned(),
            what: "agents drained".to_owned(),
            expected: "2 of 2".to_owned(),
            measured: "1 of 2".to_owned(),
            passed: false,
        },
    ];
    RunReport {
        title: "reference-walkthrough".to_owned(),
        scenario: "scenarios/reference-walkthrough.toml".to_owned(),
        started_at: "2025-06-01T12:00:00Z".to_owned(),
        time_scale: 60.0,
        endpoint: "embedded local cloud".to_owned(),
        phases,
        expectations,
        alarm: Some(alarm),
        requests,
        error_rate,
        capacity,
        interruptions,
        prices,
        cost: Some(Cost {
            spot_usd: 0.0213,
            on_demand_usd: 0.0561,
            successes,
        }),
        duration_s,
    }
}

/// A find-limit search that doubles capacity until the service throttles.
pub fn limit() -> LimitReport {
    let steps: Vec<LimitStep> = [1.0, 2.0, 4.0, 6.0, 8.0, 12.0]
        .iter()
        .map(|&capacity| {
            let offered_per_s: f64 = capacity * PER_UNIT;
            let success_per_s = offered_per_s.min(LIMIT);
            let error_rate = 1.0 - success_per_s / offered_per_s;
            let alarm = if error_rate > 0.05 { "ALARM" } else { "OK" };
            LimitStep {
                capacity,
                offered_per_s,
                success_per_s,
                error_rate,
                alarm: alarm.to_owned(),
            }
        })
        .collect();
    LimitReport {
        title: "find-limit web".to_owned(),
        steps,
        limit_per_s: Some(LIMIT),
        highest_clean_per_s: Some(360.0),
        alarm_name: Some("web-error-rate".to_owned()),
        threshold: 0.05,
        verdict: "The service sustains about 400 successful requests/s; at 480/s offered it throttles 17%.".to_owned(),
    }
}
