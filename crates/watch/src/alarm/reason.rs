//! `StateReason` and `StateReasonData` in CloudWatch's words (fact sheet 3.3 and the
//! captures behind it):
//!
//! - `Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19
//!   16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM
//!   transition).` when the alarm sets `DatapointsToAlarm`;
//! - `Threshold Crossed: 1 datapoint [21.5 (26/10/23 16:42:00)] was greater than the
//!   threshold (2.0).` when it does not;
//! - ` and 19 missing datapoints were treated as [NonBreaching]` when filled periods were
//!   judged, and `no datapoints were received for 2 periods and 2 missing datapoints were
//!   treated as [Breaching]` when no real point is on the deciding side;
//! - `Insufficient Data: 5 datapoints were unknown.`
//!
//! The datapoints listed are the real ones on the deciding side (breaching for ALARM, not
//! breaching for OK), newest first; the OK direction's minimum is N − M + 1.

use serde::Serialize;
use simtime::SimTime;

use super::format::{cloudwatch_time, java_double, reason_time};
use super::{AlarmState, EvaluationConfig, Fill, Judged};

/// `Insufficient Data: 5 datapoints were unknown.`
pub(super) fn unknown(count: usize) -> String {
    format!(
        "Insufficient Data: {count} {} unknown.",
        noun_verb(count, "datapoint")
    )
}

/// The `Threshold Crossed: ...` reason for a decision to `state`.
pub(super) fn crossed(
    config: &EvaluationConfig,
    state: AlarmState,
    evaluated: &[Judged],
    fill: Option<Fill>,
) -> String {
    let to_alarm = state == AlarmState::Alarm;
    let n = config.evaluation_periods as usize;
    let m = config.datapoints_to_alarm() as usize;
    let explicit = config.datapoints_to_alarm.is_some();
    let listed: Vec<&Judged> = evaluated
        .iter()
        .rev()
        .filter(|j| j.value.is_some() && j.breaching == Some(to_alarm))
        .collect();
    let mut text = String::from("Threshold Crossed: ");
    if listed.is_empty() {
        let received = evaluated.iter().filter(|j| j.value.is_some()).count();
        let subject = match received {
            0 => "no datapoints were".to_owned(),
            count => format!("{count} {}", noun_verb(count, "datapoint")),
        };
        text.push_str(&format!("{subject} received for {n} period{}", plural(n)));
    } else {
        let k = listed.len();
        let points: Vec<String> = listed
            .iter()
            .map(|j| {
                format!(
                    "{} ({})",
                    java_double(j.value.unwrap_or_default()),
                    reason_time(j.timestamp)
                )
            })
            .collect();
        let counted = if explicit {
            format!("{k} out of the last {n} datapoints")
        } else {
            format!("{k} datapoint{}", plural(k))
        };
        text.push_str(&format!(
            "{counted} [{}] {} {}{} the threshold ({})",
            points.join(", "),
            if k == 1 { "was" } else { "were" },
            if to_alarm { "" } else { "not " },
            config.operator.words().unwrap_or_default(),
            java_double(config.threshold)
        ));
    }
    let filled = evaluated
        .iter()
        .filter(|j| j.value.is_none() && j.breaching.is_some())
        .count();
    if let (Some(fill), true) = (fill, filled > 0) {
        let treated = match fill {
            Fill::Breaching => "Breaching",
            Fill::NotBreaching => "NonBreaching",
        };
        text.push_str(&format!(
            " and {filled} missing {} treated as [{treated}]",
            noun_verb(filled, "datapoint")
        ));
    }
    if explicit {
        let (minimum, direction) = if to_alarm {
            (m, "OK -> ALARM")
        } else {
            (n + 1 - m, "ALARM -> OK")
        };
        text.push_str(&format!(
            " (minimum {minimum} datapoint{} for {direction} transition)",
            plural(minimum)
        ));
    }
    text.push('.');
    text
}

/// `StateReasonData`: `{"version":"1.0","queryDate":…,"startDate":…,"unit":…,
/// "statistic":…,"period":…,"recentDatapoints":[…],"threshold":…,
/// "evaluatedDatapoints":[…]}`, keys in AWS's order. `recentDatapoints` are the judged
/// real values, oldest first, and `startDate` the oldest one's period (absent when there
/// is none); `evaluatedDatapoints` are the judged periods newest first, missing ones with
/// their timestamp only.
pub(super) fn data(config: &EvaluationConfig, evaluated: &[Judged], now: SimTime) -> String {
    let reals: Vec<&Judged> = evaluated.iter().filter(|j| j.value.is_some()).collect();
    let document = ReasonData {
        version: "1.0",
        query_date: cloudwatch_time(now),
        start_date: reals.first().map(|j| cloudwatch_time(j.timestamp)),
        unit: config.unit.as_deref(),
        statistic: config.statistic.as_deref(),
        period: config.period_seconds,
        recent_datapoints: reals.iter().filter_map(|j| j.value).collect(),
        threshold: config.threshold,
        evaluated_datapoints: evaluated
            .iter()
            .rev()
            .map(|j| EvaluatedDatapoint {
                timestamp: cloudwatch_time(j.timestamp),
                sample_count: j.sample_count,
                value: j.value,
            })
            .collect(),
    };
    // Serialising plain strings and numbers cannot fail.
    serde_json::to_string(&document).unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReasonData<'a> {
    version: &'static str,
    query_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<&'a str>,
    period: u32,
    recent_datapoints: Vec<f64>,
    threshold: f64,
    evaluated_datapoints: Vec<EvaluatedDatapoint>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EvaluatedDatapoint {
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
}

/// `1 datapoint was` / `3 datapoints were`.
fn noun_verb(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{noun} was")
    } else {
        format!("{noun}s were")
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
