//! [`Report`] (one interval of one agent run), [`Checkpoint`] (what a stopping agent
//! persists) and the metrics API's request and response.

use serde::{Deserialize, Serialize};
use simtime::SimTime;

use crate::{Counts, Latency};

/// Path of the control plane's metrics API that takes reports: `POST` a JSON array of
/// [`Report`]s, get an [`IngestResponse`]. Receivers must accept a report they have
/// already seen (same [`Source::run_id`] and [`Report::seq`]) and ignore it, so senders
/// may retry freely.
pub const REPORTS_PATH: &str = "/spotlab/v1/reports";

/// Who sent a report.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    /// The EC2 instance the agent runs on, when it runs on one.
    pub instance_id: Option<String>,
    /// The EC2 Fleet that launched the instance, when known.
    pub fleet_id: Option<String>,
    /// The instance type, when known.
    #[serde(default)]
    pub instance_type: Option<String>,
    /// The availability zone, when known.
    #[serde(default)]
    pub availability_zone: Option<String>,
    /// Unique per agent process, so that an agent restarted on the same instance starts a
    /// new sequence instead of colliding with the old one.
    pub run_id: String,
}

/// One interval of one agent run: everything sent and completed in `[start, end)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Who sent it.
    pub source: Source,
    /// 0, 1, 2, ... within a run, with no gaps: a receiver that sees 3 after 1 knows 2
    /// is missing.
    pub seq: u64,
    /// Start of the interval, virtual time.
    pub start: SimTime,
    /// End of the interval, virtual time (exclusive).
    pub end: SimTime,
    /// What was sent and what completed in the interval.
    pub counts: Counts,
    /// Latency of the requests that completed in the interval, measured from their
    /// *scheduled* send time (free of coordinated omission).
    pub latency_scheduled: Latency,
    /// Latency of the same requests measured from their actual send time.
    pub latency_actual: Latency,
    /// Whether this is the run's last report.
    #[serde(default)]
    pub last: bool,
}

/// The metrics API's answer to a batch of reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResponse {
    /// Reports stored for the first time.
    pub accepted: u64,
    /// Reports already stored before (ignored).
    pub duplicates: u64,
}

/// Why an agent stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StopReason {
    /// The instance metadata announced a Spot interruption.
    SpotInterruption {
        /// `terminate`, `stop` or `hibernate`.
        action: String,
        /// When EC2 will act, virtual time.
        time: SimTime,
    },
    /// A rebalance recommendation, when the agent was told to drain on one.
    RebalanceRecommendation {
        /// When the recommendation was issued.
        notice_time: SimTime,
    },
    /// A signal (SIGTERM or SIGINT).
    Signal {
        /// The signal's name.
        signal: String,
    },
    /// The configured duration elapsed.
    Finished,
}

/// What an agent persists when it stops: the run's cumulative results.
///
/// `totals` and the histograms are exactly the sums of every report the run produced,
/// so a checkpoint alone reconstructs the run even if some reports never reached a sink.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Who wrote it.
    pub source: Source,
    /// Why the run stopped.
    pub reason: StopReason,
    /// Number of reports produced (the last one has `seq == reports - 1`).
    pub reports: u64,
    /// The sum of every report's counts.
    pub totals: Counts,
    /// Every completed request's latency from its scheduled send time.
    pub latency_scheduled: Latency,
    /// Every completed request's latency from its actual send time.
    pub latency_actual: Latency,
    /// When the run started, virtual time.
    pub started: SimTime,
    /// When the first request was sent.
    pub first_send: Option<SimTime>,
    /// When the last request was sent.
    pub last_send: Option<SimTime>,
    /// When the checkpoint was written.
    pub written: SimTime,
    /// Callers the run used.
    pub callers: u32,
    /// Requests per second per caller.
    pub rate_per_caller: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_json_is_stable() {
        let mut latency = Latency::new();
        latency.record_micros(1_500);
        let report = Report {
            source: Source {
                instance_id: Some("i-0123456789abcdef0".into()),
                fleet_id: Some("fleet-0123".into()),
                instance_type: None,
                availability_zone: None,
                run_id: "r1".into(),
            },
            seq: 7,
            start: SimTime::from_millis(1_000),
            end: SimTime::from_millis(2_000),
            counts: Counts {
                sent: 1,
                success: 1,
                ..Counts::default()
            },
            latency_scheduled: latency.clone(),
            latency_actual: latency,
            last: false,
        };
        let json = serde_json::to_value(&report).expect("serialises to JSON");
        assert_eq!(json["seq"], 7);
        assert_eq!(json["start"], "1970-01-01T00:00:01.000Z");
        assert_eq!(json["counts"]["success"], 1);
        assert!(
            json["latency_scheduled"]
                .as_str()
                .expect("the test's input is valid")
                .starts_with("HISTF")
        );
        let back: Report = serde_json::from_value(json).expect("deserialises from JSON");
        assert_eq!(back, report);
    }

    #[test]
    fn stop_reasons_are_tagged() {
        let reason = StopReason::SpotInterruption {
            action: "terminate".into(),
            time: SimTime::from_millis(0),
        };
        let json = serde_json::to_string(&reason).expect("serialises to JSON");
        assert_eq!(
            json,
            r#"{"kind":"spot_interruption","action":"terminate","time":"1970-01-01T00:00:00.000Z"}"#
        );
    }
}
