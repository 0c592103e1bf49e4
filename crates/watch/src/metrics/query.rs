//! [`Series`] (what a query returns for math and alarms) and CloudWatch's rules for a
//! query's start time: [`align_start`] and [`period_allowed`] (fact sheet 2.3).

use simtime::{SimDuration, SimTime};

use super::id::Period;

/// Datapoints of one statistic at one period: `(bucket start, value)`, oldest first,
/// one point per timestamp, empty periods absent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// The period the points were computed at.
    pub period: Period,
    /// (timestamp, value), strictly increasing timestamps.
    pub points: Vec<(SimTime, f64)>,
}

impl Series {
    /// A series of `points` (must be sorted by timestamp) at `period`.
    pub fn new(period: Period, points: Vec<(SimTime, f64)>) -> Series {
        Series { period, points }
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The value at `timestamp`, if there is a point there.
    pub fn value_at(&self, timestamp: SimTime) -> Option<f64> {
        self.points
            .binary_search_by(|point| point.0.cmp(&timestamp))
            .ok()
            .map(|at| self.points[at].1)
    }
}

const MINUTE_MS: u64 = 60_000;

/// Rounds a query's StartTime down as CloudWatch does, given the time of the request:
/// less than 15 days old -> to the minute (to the period for periods below a minute
/// that divide it: 1, 5, 10, 20, 30 s); 15 to 63 days -> to 5 minutes; older -> to the
/// hour. Buckets then step by the period from the rounded start.
pub fn align_start(start: SimTime, now: SimTime, period: Period) -> SimTime {
    let age = now.saturating_since(start);
    let seconds = u64::from(period.seconds());
    let step_ms = if age < SimDuration::from_days(15) {
        if seconds < 60 && 60 % seconds == 0 {
            seconds * 1_000
        } else {
            MINUTE_MS
        }
    } else if age < SimDuration::from_days(63) {
        5 * MINUTE_MS
    } else {
        60 * MINUTE_MS
    };
    let ms = start.as_millis();
    SimTime::from_millis(ms - ms % step_ms)
}

/// Whether CloudWatch answers a query starting at `start` with `period` at all: data
/// older than 3 hours only at multiples of 60 s, older than 15 days of 300 s, older than
/// 63 days of 3600 s (otherwise it returns no datapoints).
pub fn period_allowed(start: SimTime, now: SimTime, period: Period) -> bool {
    let age = now.saturating_since(start);
    let seconds = period.seconds();
    let multiple_of = if age <= SimDuration::from_hours(3) {
        1
    } else if age <= SimDuration::from_days(15) {
        60
    } else if age <= SimDuration::from_days(63) {
        300
    } else {
        3600
    };
    seconds.is_multiple_of(multiple_of)
}
