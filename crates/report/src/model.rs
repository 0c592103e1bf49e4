//! The input model: what the runner measured during one `spotlab run` or `spotlab demo`.
//!
//! Plain public data, since any value is valid: the renderers cope with empty series,
//! NaN and infinite values and zero-length time ranges rather than the model forbidding
//! them. Every time is in virtual seconds since the run started. The runner can write
//! the same value as JSON next to the report, so every type is serde both ways.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything one run measured, in the order the report shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The run's name, shown as the page title (e.g. `reference-walkthrough`).
    pub title: String,
    /// The scenario the run followed: a file path or a short description.
    pub scenario: String,
    /// The virtual time of t = 0, in RFC 3339.
    pub started_at: String,
    /// Virtual seconds per real second the run was driven at.
    pub time_scale: f64,
    /// Where the cloud was: `embedded local cloud` or the endpoint's URL.
    pub endpoint: String,
    /// The phases of the load, in order.
    pub phases: Vec<Phase>,
    /// What the scenario expected and what was measured, one row per check.
    pub expectations: Vec<Expectation>,
    /// The error-rate alarm's states and transitions, when the run watched one.
    pub alarm: Option<AlarmSeries>,
    /// Requests per second by outcome, sampled at a regular interval (e.g. every 10 s).
    pub requests: Vec<RatePoint>,
    /// The error rate (a ratio from 0 to 1) per 60 s window, at the window's end.
    pub error_rate: Vec<Point>,
    /// The fleet's capacity by pool, sampled whenever it changed or at an interval.
    pub capacity: Vec<CapacityPoint>,
    /// Spot interruptions of the fleet's instances, in time order.
    pub interruptions: Vec<Interruption>,
    /// Spot prices of the pools the fleet used.
    pub prices: Vec<PriceSeries>,
    /// What the fleet cost, when known.
    pub cost: Option<Cost>,
    /// How long the run lasted, in virtual seconds; the charts' time axis spans it.
    pub duration_s: f64,
}

/// How a run went overall: the header's badge and the summary's last line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every expectation held.
    Pass,
    /// At least one expectation failed.
    Fail,
    /// The scenario set no expectations, so there is nothing to pass or fail.
    NoExpectations,
}

impl Verdict {
    /// The word shown for the verdict: `PASS`, `FAIL` or `NO EXPECTATIONS`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::NoExpectations => "NO EXPECTATIONS",
        }
    }
}

impl RunReport {
    /// The run's verdict: it passes when every expectation held.
    pub fn verdict(&self) -> Verdict {
        if self.expectations.is_empty() {
            Verdict::NoExpectations
        } else if self.expectations.iter().all(|e| e.passed) {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }

    /// How many expectations held.
    pub fn passed_count(&self) -> usize {
        self.expectations.iter().filter(|e| e.passed).count()
    }

    /// Successful requests over all phases.
    pub fn successes(&self) -> u64 {
        self.phases.iter().map(|p| p.successes).sum()
    }

    /// Failed requests over all phases.
    pub fn errors(&self) -> u64 {
        self.phases.iter().map(|p| p.errors).sum()
    }
}

/// One phase of the load: a stretch of time at one fleet capacity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// The phase's name from the scenario (e.g. `steady`, `overload`).
    pub name: String,
    /// When the phase began, in virtual seconds since the run started.
    pub start_s: f64,
    /// When the phase ended, in virtual seconds since the run started.
    pub end_s: f64,
    /// The fleet's target capacity during the phase, in units, when it set one.
    pub target_capacity: Option<f64>,
    /// The capacity the fleet actually had (e.g. the mean over the phase), when known.
    pub fulfilled_capacity: Option<f64>,
    /// Requests that succeeded during the phase.
    pub successes: u64,
    /// Requests that failed during the phase (errors, throttles, timeouts).
    pub errors: u64,
    /// Median latency of the phase's requests, in milliseconds.
    pub p50_ms: Option<f64>,
    /// 99th-percentile latency of the phase's requests, in milliseconds.
    pub p99_ms: Option<f64>,
}

impl Phase {
    /// All requests of the phase, successful or not.
    pub fn requests(&self) -> u64 {
        self.successes.saturating_add(self.errors)
    }

    /// The phase's length in virtual seconds (never negative; zero when not finite).
    pub fn duration_s(&self) -> f64 {
        let d = self.end_s - self.start_s;
        if d.is_finite() && d > 0.0 { d } else { 0.0 }
    }

    /// The share of requests that failed, from 0 to 1; `None` without requests.
    pub fn error_rate(&self) -> Option<f64> {
        let requests = self.requests();
        (requests > 0).then(|| self.errors as f64 / requests as f64)
    }

    /// Requests per virtual second over the phase; `None` for a phase of no length.
    pub fn rate_per_s(&self) -> Option<f64> {
        let d = self.duration_s();
        (d > 0.0).then(|| self.requests() as f64 / d)
    }
}

/// One check the scenario asked for, and how it came out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    /// The scenario step the check belongs to (e.g. a phase name).
    pub step: String,
    /// What was checked, in words (e.g. `alarm state`).
    pub what: String,
    /// The expected value or condition, as the scenario states it.
    pub expected: String,
    /// What was measured, formatted for reading.
    pub measured: String,
    /// Whether the measurement met the expectation.
    pub passed: bool,
}

/// The error-rate alarm over the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlarmSeries {
    /// The alarm's name.
    pub name: String,
    /// The error rate (a ratio from 0 to 1) above which the alarm fires.
    pub threshold: f64,
    /// The alarm's state over time, as consecutive bands.
    pub states: Vec<StateBand>,
    /// Each state change, in time order.
    pub transitions: Vec<Transition>,
}

/// A stretch of time the alarm spent in one state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StateBand {
    /// When the state began, in virtual seconds.
    pub start_s: f64,
    /// When the state ended, in virtual seconds.
    pub end_s: f64,
    /// CloudWatch's state name: `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
}

/// One change of the alarm's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// When the state changed, in virtual seconds.
    pub t: f64,
    /// The state before.
    pub from: String,
    /// The state after.
    pub to: String,
    /// CloudWatch's reason text for the change.
    pub reason: String,
}

/// Requests per second by outcome at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RatePoint {
    /// The sample's time (the end of the interval it covers), in virtual seconds.
    pub t: f64,
    /// Successful requests per virtual second.
    pub success_per_s: f64,
    /// Failed requests per virtual second.
    pub error_per_s: f64,
}

/// One sample of a series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The sample's time, in virtual seconds.
    pub t: f64,
    /// The sample's value, in the series' unit.
    pub value: f64,
}

/// The fleet's capacity at one instant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CapacityPoint {
    /// The sample's time, in virtual seconds; the capacity holds until the next sample.
    pub t: f64,
    /// The fleet's target capacity, in units.
    pub target: f64,
    /// Fulfilled capacity in units by pool, keyed `instance-type zone`
    /// (e.g. `c5.large us-east-1a`).
    pub by_pool: BTreeMap<String, f64>,
}

/// A Spot interruption of one instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Interruption {
    /// When the interruption notice came, in virtual seconds.
    pub t: f64,
    /// The interrupted instance.
    pub instance_id: String,
    /// The instance's pool, `instance-type zone`.
    pub pool: String,
    /// Whether the instance's agent drained before the instance was reclaimed;
    /// `None` when unknown.
    pub drained: Option<bool>,
}

/// A pool's Spot price over the run, a step function in USD per hour.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceSeries {
    /// The pool, `instance-type zone`.
    pub pool: String,
    /// The instance type's On-Demand price in USD per hour, when known.
    pub on_demand: Option<f64>,
    /// Each price change: the price holds from its `t` until the next point.
    pub points: Vec<Point>,
}

/// What the fleet cost over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// What the fleet's instances cost at Spot prices, in USD.
    pub spot_usd: f64,
    /// What the same instance hours would have cost On-Demand, in USD.
    pub on_demand_usd: f64,
    /// Successful requests the fleet made, for the cost per request.
    pub successes: u64,
}

impl Cost {
    /// The share of the On-Demand cost that Spot saved (0.7 is 70% cheaper);
    /// `None` when the On-Demand cost is not a positive number.
    pub fn savings_ratio(&self) -> Option<f64> {
        let ratio = 1.0 - self.spot_usd / self.on_demand_usd;
        (self.on_demand_usd > 0.0 && ratio.is_finite()).then_some(ratio)
    }

    /// Spot USD per 1,000 successful requests; `None` without successes.
    pub fn per_thousand_successes(&self) -> Option<f64> {
        let per = self.spot_usd / self.successes as f64 * 1000.0;
        (self.successes > 0 && per.is_finite()).then_some(per)
    }
}
