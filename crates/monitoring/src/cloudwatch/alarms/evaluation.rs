//! When alarms are evaluated and over which periods (see the parent module's docs for
//! the contract): the schedule of ticks, the window of each evaluation, turning the
//! store's datapoints into the evaluation range `watch::alarm::judge` judges, and what
//! of a definition evaluations use, worked out once per PutMetricAlarm ([`Prepared`]).
//!
//! An evaluation that leaves the state as it is changes nothing (AWS keeps
//! `StateReason`, `StateReasonData` and `StateUpdatedTimestamp` until the state
//! changes), so the reason texts and data are written only for a change.

use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};
use watch::alarm::{Decision, EvaluationConfig, Point, evaluation_range, judge};

use super::definition::{self, Definition, Target};
use super::{Alarm, AlarmData, AlarmQuery, Alarms, Statistic, Transition};
use crate::cloudwatch::metrics::{self, MetricQueries, QueryKind};

/// What evaluating an alarm takes from its definition.
#[derive(Clone, Debug)]
pub(super) struct Prepared {
    /// What to ask the metric store for.
    query: AlarmQuery,
    /// The same in the store's terms ([`store_query`]).
    store_query: Option<metrics::AlarmQuery>,
    /// The settings `watch::alarm::judge` takes.
    config: EvaluationConfig,
}

impl Prepared {
    pub(super) fn new(definition: &Definition) -> Prepared {
        let query = definition.target.query();
        Prepared {
            store_query: store_query(&query),
            query,
            config: evaluation_config(definition),
        }
    }
}

impl Alarms {
    /// When the next evaluation is due, if any alarm is evaluated.
    pub fn next_evaluation(&self) -> Option<SimTime> {
        self.schedule.first().map(|(due, _)| *due)
    }

    /// Evaluates every alarm due at or before `now` over `data` (cadence and windows as
    /// the `cloudwatch::alarms` module docs say), and returns the state changes, in time
    /// then name order.
    pub fn evaluate_due(&mut self, now: SimTime, data: &dyn AlarmData) -> Vec<Transition> {
        self.forget_old_history(now);
        let mut transitions = Vec::new();
        // Each alarm due goes back in at a tick after `now`, so this visits every alarm
        // due once, in (due, name) order.
        while self.schedule.first().is_some_and(|(at, _)| *at <= now) {
            let Some((_, name)) = self.schedule.pop_first() else {
                break;
            };
            let Some(alarm) = self.alarms.get_mut(&name) else {
                continue;
            };
            let period = alarm.definition.target.period();
            let tick = latest_tick(now, period);
            let next = next_tick(tick, period);
            alarm.next_evaluation = Some(next);
            if let Some(decision) = decide(alarm, tick, data) {
                let reason_data = Some(decision.reason_data);
                let transition =
                    self.change_state(&name, decision.state, decision.reason, reason_data, tick);
                transitions.extend(transition);
            }
            self.schedule.insert((next, name));
        }
        transitions.sort_by(|a, b| (a.timestamp, &a.alarm_name).cmp(&(b.timestamp, &b.alarm_name)));
        transitions
    }
}

/// Evaluates `alarm` at `tick`: the decision, put into words, if it changes the state.
fn decide(alarm: &Alarm, tick: SimTime, data: &dyn AlarmData) -> Option<Decision> {
    let prepared = &alarm.prepared;
    let period = prepared.query.period();
    let period_ms = u64::from(period) * 1000;
    let end = window_end(tick, period);
    let length = evaluation_range(prepared.config.evaluation_periods);
    let start = SimTime::from_millis(
        end.as_millis()
            .saturating_sub(u64::from(length) * period_ms),
    );
    let mut points: Vec<Point> = (0..u64::from(length))
        .map(|i| Point {
            timestamp: start + SimDuration::from_millis(i * period_ms),
            value: None,
            sample_count: None,
        })
        .collect();
    let datapoints =
        data.prepared_datapoints(&prepared.query, prepared.store_query.as_ref(), start, end);
    for datapoint in datapoints {
        if datapoint.timestamp < start || datapoint.timestamp >= end {
            continue;
        }
        let slot = (datapoint.timestamp.as_millis() - start.as_millis()) / period_ms;
        if let Some(point) = usize::try_from(slot).ok().and_then(|s| points.get_mut(s))
            && point.value.is_none()
        {
            point.value = Some(datapoint.value);
            point.sample_count = datapoint.sample_count;
        }
    }
    let judgement = judge(&prepared.config, &points).ok()?;
    if judgement.state().is_none_or(|state| state == alarm.state) {
        return None;
    }
    judgement.decision(&prepared.config, tick)
}

/// An alarm's query in the metric store's terms, through the same checks GetMetricData
/// applies (the alarm's configuration passed PutMetricAlarm's, so this only fails for a
/// configuration the store cannot serve, which then has no data).
pub fn store_query(query: &AlarmQuery) -> Option<metrics::AlarmQuery> {
    match query {
        AlarmQuery::Metric(metric) => {
            let dimensions: Vec<Value> = metric
                .dimensions
                .iter()
                .map(|d| json!({"Name": d.name, "Value": d.value}))
                .collect();
            let mut stat = json!({
                "Metric": {
                    "Namespace": metric.namespace,
                    "MetricName": metric.metric_name,
                    "Dimensions": dimensions,
                },
                "Period": metric.period,
                "Stat": metric.statistic.name(),
            });
            if let (Some(unit), Some(object)) = (&metric.unit, stat.as_object_mut()) {
                object.insert("Unit".to_owned(), json!(unit));
            }
            let list = json!([{"Id": "m1", "MetricStat": stat, "ReturnData": true}]);
            let parsed = MetricQueries::parse(&list, "Metrics").ok()?;
            match parsed.queries().first().map(|q| &q.kind) {
                Some(QueryKind::Metric(metric)) => {
                    Some(metrics::AlarmQuery::Metric(metric.clone()))
                }
                _ => None,
            }
        }
        AlarmQuery::Math { metrics: list, .. } => MetricQueries::parse(list, "Metrics")
            .ok()
            .map(metrics::AlarmQuery::Math),
    }
}

/// The settings `watch::alarm::evaluate` needs.
fn evaluation_config(definition: &Definition) -> EvaluationConfig {
    let (statistic, percentile, unit) = match &definition.target {
        Target::Metric(metric) => (
            Some(metric.statistic.name().to_owned()),
            match &metric.statistic {
                Statistic::Extended(name) => definition::percentile(name),
                Statistic::Standard(_) => None,
            },
            metric.unit.clone(),
        ),
        Target::Math { .. } => (None, None, None),
    };
    EvaluationConfig {
        period_seconds: definition.target.period(),
        evaluation_periods: definition.evaluation_periods,
        datapoints_to_alarm: definition.datapoints_to_alarm,
        threshold: definition.threshold.unwrap_or_default(),
        operator: definition.operator,
        treat_missing_data: definition.treat_missing_data.unwrap_or_default(),
        low_sample_count: definition.low_sample_count.unwrap_or_default(),
        percentile,
        statistic,
        unit,
    }
}

/// The evaluation cadence of an alarm with `period` seconds: a minute, or 10 s for
/// high-resolution periods.
fn cadence_ms(period: u32) -> u64 {
    if period >= 60 { 60_000 } else { 10_000 }
}

/// The first tick strictly after `t`.
pub(super) fn next_tick(t: SimTime, period: u32) -> SimTime {
    let cadence = cadence_ms(period);
    SimTime::from_millis((t.as_millis() / cadence + 1) * cadence)
}

/// The latest tick at or before `t`.
fn latest_tick(t: SimTime, period: u32) -> SimTime {
    let cadence = cadence_ms(period);
    SimTime::from_millis(t.as_millis() / cadence * cadence)
}

/// Where the evaluation range of a tick ends: the tick rounded down to a whole minute
/// (periods of a minute or more) or to a whole period, less that unit, which leaves data
/// time to arrive before its period is judged: AWS's own reason data shows a query at
/// 15:31:44 evaluating the period that began at 15:29:00.
fn window_end(tick: SimTime, period: u32) -> SimTime {
    let unit = if period >= 60 {
        60_000
    } else {
        u64::from(period) * 1000
    };
    let rounded = tick.as_millis() / unit * unit;
    SimTime::from_millis(rounded.saturating_sub(unit))
}
