//! When alarms are evaluated and over which periods (see the parent module's docs for
//! the contract): the schedule of ticks, the window of each evaluation, and turning the
//! store's datapoints into the evaluation range `watch::alarm::evaluate` judges.

use simtime::{SimDuration, SimTime};
use watch::alarm::{Evaluation, EvaluationConfig, Point, evaluate, evaluation_range};

use super::definition::{self, Definition, Target};
use super::{AlarmData, Alarms, Statistic, Transition};

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
        let due: Vec<(SimTime, String)> = self
            .schedule
            .iter()
            .take_while(|(at, _)| *at <= now)
            .cloned()
            .collect();
        let mut transitions = Vec::new();
        for (at, name) in due {
            self.schedule.remove(&(at, name.clone()));
            let Some(alarm) = self.alarms.get_mut(&name) else {
                continue;
            };
            let period = alarm.definition.target.period();
            let tick = latest_tick(now, period);
            let next = next_tick(tick, period);
            alarm.next_evaluation = Some(next);
            self.schedule.insert((next, name.clone()));
            transitions.extend(self.evaluate_alarm(&name, tick, data));
        }
        transitions.sort_by(|a, b| (a.timestamp, &a.alarm_name).cmp(&(b.timestamp, &b.alarm_name)));
        transitions
    }

    /// Evaluates alarm `name` at `tick`; a change of state if there is one.
    fn evaluate_alarm(
        &mut self,
        name: &str,
        tick: SimTime,
        data: &dyn AlarmData,
    ) -> Option<Transition> {
        let alarm = self.alarms.get(name)?;
        let definition = &alarm.definition;
        let period = definition.target.period();
        let period_ms = u64::from(period) * 1000;
        let end = window_end(tick, period);
        let length = evaluation_range(definition.evaluation_periods);
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
        for datapoint in data.datapoints(&definition.target.query(), start, end) {
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
        let config = evaluation_config(definition);
        let Ok(Evaluation::Decided(decision)) = evaluate(&config, &points, tick) else {
            return None;
        };
        if decision.state == alarm.state {
            return None;
        }
        self.change_state(
            name,
            decision.state,
            decision.reason,
            Some(decision.reason_data),
            tick,
        )
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
