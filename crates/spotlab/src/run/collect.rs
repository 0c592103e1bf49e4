//! After the steps: everything the report shows, gathered from the session and the
//! cloud (timelines from CloudWatch, the alarm's history, Spot prices) into the
//! `report` crate's model.

use std::collections::BTreeMap;

use report::{
    AlarmSeries, CapacityPoint, Cost, Expectation, Interruption, Phase, Point, PriceSeries,
    RatePoint, RunReport, StateBand, Transition,
};
use simtime::{SimDuration, SimTime};

use super::expect::{self, checkpoints};
use super::probe;
use super::session::Session;

/// Most capacity samples kept for the chart.
const MAX_SAMPLES: usize = 600;

fn secs(session: &Session, t: SimTime) -> f64 {
    t.as_millis() as f64 / 1_000.0 - session.start.as_millis() as f64 / 1_000.0
}

/// The report of a finished (or stopped) run.
pub async fn report(
    session: &Session,
    scenario_name: &str,
    endpoint: &str,
) -> anyhow::Result<RunReport> {
    let end = session.last_now.max(session.end);
    let mut phases = Vec::new();
    for phase in &session.phases {
        let phase_end = phase.end.unwrap_or(end);
        let (successes, errors) = probe::counts(&session.clients, phase.start, phase_end, 1)
            .await?
            .totals();
        let (p50, p99) = probe::percentiles(&session.clients, phase.start, phase_end).await?;
        phases.push(Phase {
            name: phase.name.clone(),
            start_s: secs(session, phase.start),
            end_s: secs(session, phase_end),
            target_capacity: phase.target,
            fulfilled_capacity: phase.fulfilled,
            successes,
            errors,
            p50_ms: p50,
            p99_ms: p99,
        });
    }
    let requests = probe::counts(&session.clients, session.start, end, 10)
        .await?
        .points
        .iter()
        .map(|(t, s, e)| RatePoint {
            t: secs(session, *t),
            success_per_s: s / 10.0,
            error_per_s: e / 10.0,
        })
        .collect();
    let error_rate = probe::counts(
        &session.clients,
        session.start - SimDuration::from_mins(1),
        end,
        60,
    )
    .await?
    .points
    .iter()
    .filter(|(_, s, e)| s + e > 0.0)
    .map(|(t, s, e)| Point {
        // Each minute is drawn at its end, when CloudWatch can first judge it.
        t: secs(session, *t + SimDuration::from_mins(1)).max(0.0),
        value: e / (s + e),
    })
    .collect();
    let alarm = match &session.alarm {
        Some(name) => Some(alarm_series(session, name, end).await?),
        None => None,
    };
    let step = session.samples.len().div_ceil(MAX_SAMPLES).max(1);
    let capacity = session
        .samples
        .iter()
        .step_by(step)
        .chain(session.samples.last())
        .map(|s| CapacityPoint {
            t: secs(session, s.at),
            target: s.target,
            by_pool: s.by_pool.clone(),
        })
        .collect();
    let drained: BTreeMap<String, bool> = checkpoints(&session.run_dir.join("checkpoints"))?
        .into_iter()
        .filter_map(|c| {
            let id = c.source.instance_id.clone()?;
            Some((
                id,
                matches!(c.reason, agent_wire::StopReason::SpotInterruption { .. }),
            ))
        })
        .collect();
    // Marked when the warning was published, when a topic carried it; else when the
    // instance left the fleet.
    let mut warned: BTreeMap<String, SimTime> = BTreeMap::new();
    for topic in session.topics.keys() {
        for message in session.messages(topic)? {
            if let Some(id) = message.instance_id {
                let at = warned.entry(id).or_insert(message.at);
                *at = (*at).min(message.at);
            }
        }
    }
    let interruptions = session
        .removed
        .iter()
        .filter_map(|(at, id)| {
            let instance = session.instances.all.get(id)?;
            instance.spot.then(|| Interruption {
                t: secs(session, warned.get(id).copied().unwrap_or(*at)),
                instance_id: id.clone(),
                pool: instance.pool(),
                drained: Some(drained.get(id).copied().unwrap_or(false)),
            })
        })
        .collect();
    let (spot_usd, on_demand_usd, prices) = expect::cost(session, end).await?;
    let prices = prices
        .into_iter()
        .map(|(pool, points)| {
            let instance_type = pool.split(' ').next().unwrap_or_default().to_owned();
            PriceSeries {
                on_demand: probe::on_demand(&instance_type),
                pool,
                points: points
                    .iter()
                    .map(|(t, p)| Point {
                        t: secs(session, *t).max(0.0),
                        value: *p,
                    })
                    .collect(),
            }
        })
        .collect();
    let successes = phases.iter().map(|p: &Phase| p.successes).sum();
    Ok(RunReport {
        title: scenario_name.to_owned(),
        scenario: session
            .scenario
            .description
            .clone()
            .unwrap_or_else(|| session.scenario.name.clone()),
        started_at: session.start.to_iso_seconds(),
        time_scale: session.cloud.time_scale,
        endpoint: endpoint.to_owned(),
        phases,
        expectations: session
            .outcomes
            .iter()
            .map(|o| Expectation {
                step: o.step.clone(),
                what: o.what.clone(),
                expected: o.expected.clone(),
                measured: o.measured.clone(),
                passed: o.passed,
            })
            .collect(),
        alarm,
        requests,
        error_rate,
        capacity,
        interruptions,
        prices,
        cost: Some(Cost {
            spot_usd,
            on_demand_usd,
            successes,
        }),
        duration_s: secs(session, end),
    })
}

async fn alarm_series(session: &Session, name: &str, end: SimTime) -> anyhow::Result<AlarmSeries> {
    // The report does without the transitions when the endpoint cannot say (moto has no
    // DescribeAlarmHistory): the alarm then shows its last state for the whole run.
    let history = match probe::alarm_history(&session.clients, name, session.start, end).await {
        Ok(history) => history,
        Err(error) => {
            session
                .live
                .line(&format!("the report has no alarm transitions: {error:#}"));
            Vec::new()
        }
    };
    let mut states = Vec::new();
    let mut state = history
        .first()
        .map(|c| c.from.clone())
        .unwrap_or_else(|| session.alarm_state.clone());
    let mut since = 0.0;
    let mut transitions = Vec::new();
    for change in &history {
        let t = secs(session, change.at).max(0.0);
        states.push(StateBand {
            start_s: since,
            end_s: t,
            state: state.clone(),
        });
        transitions.push(Transition {
            t,
            from: change.from.clone(),
            to: change.to.clone(),
            reason: change.summary.clone(),
        });
        state = change.to.clone();
        since = t;
    }
    states.push(StateBand {
        start_s: since,
        end_s: secs(session, end),
        state,
    });
    Ok(AlarmSeries {
        name: name.to_owned(),
        threshold: session.threshold.unwrap_or(0.0),
        states,
        transitions,
    })
}
