//! Expectations: what a step's expectations need measured (`Measured::take`, only what
//! they ask for), and the judgement of each against it (`judge`, pure), with a message
//! that says by how much a failed one missed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use simtime::{SimDuration, SimTime};

use super::probe;
use super::scenario::{Expect, NotificationCount, Range};
use super::session::Session;

/// One expectation's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The step it belongs to.
    pub step: String,
    /// What was expected, as a phrase (`error rate`).
    pub what: String,
    /// The expected value or range.
    pub expected: String,
    /// The measured value.
    pub measured: String,
    /// Whether it held.
    pub passed: bool,
    /// For a failure: how it missed.
    pub message: Option<String>,
}

/// What the expectations of a step were measured against.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    /// The alarm's state.
    pub alarm: Option<String>,
    /// Successes and errors in the phase.
    pub counts: (u64, u64),
    /// Length of the phase so far, seconds.
    pub phase_secs: f64,
    /// Median and 99th percentile latency, ms.
    pub percentiles: (Option<f64>, Option<f64>),
    /// Fulfilled capacity.
    pub capacity: f64,
    /// Per topic: messages in the phase, and the instances they name.
    pub notifications: BTreeMap<String, (u64, Vec<String>)>,
    /// Spot instances that left the fleet in the phase.
    pub interrupted: BTreeSet<String>,
    /// Interrupted instances (any phase) without a drained checkpoint.
    pub undrained: Vec<String>,
    /// Requests in checkpoints and requests CloudWatch counted over the run.
    pub requests: Option<(u64, u64)>,
    /// Instances still pending, running or shutting down.
    pub running: u64,
    /// Spot and On-Demand cost of the run so far, and successes so far.
    pub cost: Option<(f64, f64, u64)>,
}

impl Measured {
    /// Measures what `session`'s current step's expectations need.
    pub async fn take(session: &Session, wants: &[Expect]) -> anyhow::Result<Measured> {
        let (start, now) = session.phase_window();
        let mut m = Measured {
            alarm: Some(session.alarm_state.clone()).filter(|s| !s.is_empty()),
            capacity: session.fleet.fulfilled,
            phase_secs: now.saturating_since(start).as_millis() as f64 / 1_000.0,
            ..Measured::default()
        };
        let any = |f: fn(&Expect) -> bool| wants.iter().any(f);
        if any(|w| matches!(w, Expect::ErrorRate(_) | Expect::SuccessRate(_))) {
            m.counts = probe::counts(&session.clients, start, now, 1)
                .await?
                .totals();
        }
        if any(|w| matches!(w, Expect::P50Ms(_) | Expect::P99Ms(_))) {
            m.percentiles = probe::percentiles(&session.clients, start, now).await?;
        }
        m.interrupted = session
            .removed
            .iter()
            .filter(|(at, id)| {
                *at >= start && session.instances.all.get(id).is_some_and(|i| i.spot)
            })
            .map(|(_, id)| id.clone())
            .collect();
        for want in wants {
            if let Expect::Notifications { topic, .. } = want {
                let messages = session.messages(topic)?;
                let in_phase: Vec<_> = messages.iter().filter(|m| m.at >= start).collect();
                m.notifications.insert(
                    topic.clone(),
                    (
                        in_phase.len() as u64,
                        in_phase
                            .iter()
                            .filter_map(|m| m.instance_id.clone())
                            .collect(),
                    ),
                );
            }
        }
        if any(|w| matches!(w, Expect::AllDrained)) {
            let interrupted: Vec<&String> = session
                .removed
                .iter()
                .filter(|(_, id)| session.instances.all.get(id).is_some_and(|i| i.spot))
                .map(|(_, id)| id)
                .collect();
            let checkpoints = session.run_dir.join("checkpoints");
            for id in interrupted {
                if !drained(&checkpoints.join(id))? {
                    m.undrained.push(id.clone());
                }
            }
        }
        if any(|w| matches!(w, Expect::LostRequests(_))) {
            m.requests = Some(requests(session).await?);
        }
        if any(|w| matches!(w, Expect::Running(_))) {
            let ids: Vec<String> = session.instances.all.keys().cloned().collect();
            m.running = probe::running(&session.clients, &ids).await?;
        }
        if any(|w| matches!(w, Expect::CostUsd(_) | Expect::CostPerThousand(_))) {
            let (spot, on_demand, _) = cost(session, now).await?;
            let (successes, _) = probe::counts(
                &session.clients,
                session.start - SimDuration::from_mins(1),
                now,
                60,
            )
            .await?
            .totals();
            m.cost = Some((spot, on_demand, successes));
        }
        Ok(m)
    }
}

/// Whether an instance's agent wrote a checkpoint after a Spot interruption notice.
fn drained(dir: &Path) -> anyhow::Result<bool> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        if let Ok(checkpoint) = serde_json::from_str::<agent_wire::Checkpoint>(&text)
            && matches!(
                checkpoint.reason,
                agent_wire::StopReason::SpotInterruption { .. }
            )
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Every checkpoint under `dir`.
pub fn checkpoints(dir: &Path) -> anyhow::Result<Vec<agent_wire::Checkpoint>> {
    let mut out = Vec::new();
    let instances = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for instance in instances {
        let instance = instance?.path();
        if !instance.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&instance)? {
            let path = file?.path();
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let checkpoint = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a checkpoint", path.display()))?;
            out.push(checkpoint);
        }
    }
    Ok(out)
}

/// Requests the agents' checkpoints record, and those CloudWatch counted over the
/// run; asked again for a few seconds while they differ (the last reports may still
/// be on their way).
async fn requests(session: &Session) -> anyhow::Result<(u64, u64)> {
    let mut last = (0, 0);
    for _ in 0..40 {
        let made: u64 = checkpoints(&session.run_dir.join("checkpoints"))?
            .iter()
            .map(|c| c.totals.completed())
            .sum();
        let now = session.cloud.now().await?;
        let (s, e) = probe::counts(
            &session.clients,
            session.start - SimDuration::from_mins(1),
            now + SimDuration::from_mins(1),
            60,
        )
        .await?
        .totals();
        last = (made, s + e);
        if made == s + e {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(last)
}

/// Spot and On-Demand cost of the run's instances up to `now`, and the Spot prices
/// of each pool used (`type zone`).
pub async fn cost(
    session: &Session,
    now: SimTime,
) -> anyhow::Result<(f64, f64, BTreeMap<String, Vec<(SimTime, f64)>>)> {
    let mut prices: BTreeMap<String, Vec<(SimTime, f64)>> = BTreeMap::new();
    let (mut spot, mut on_demand) = (0.0, 0.0);
    let from = session.start - SimDuration::from_hours(1);
    for instance in session.instances.all.values() {
        let pool = instance.pool();
        if !prices.contains_key(&pool) {
            let history = probe::spot_prices(
                &session.clients,
                &instance.instance_type,
                &instance.zone,
                from,
                now,
            )
            .await?;
            prices.insert(pool.clone(), history);
        }
        let end = instance.left.unwrap_or(now);
        let od = probe::on_demand(&instance.instance_type).unwrap_or(0.0);
        let hours = end.saturating_since(instance.launched).as_millis() as f64 / 3_600_000.0;
        on_demand += od * hours;
        spot += if instance.spot {
            probe::cost(
                prices.get(&pool).map_or(&[], Vec::as_slice),
                instance.launched,
                end,
            )
        } else {
            od * hours
        };
    }
    Ok((spot, on_demand, prices))
}

fn range_text(r: Range, unit: &str, scale: f64, decimals: usize) -> String {
    format!(
        "{:.decimals$}{unit}..{:.decimals$}{unit}",
        r.min * scale,
        r.max * scale
    )
}

fn judge_range(
    step: &str,
    what: &str,
    r: Range,
    value: Option<f64>,
    unit: &str,
    scale: f64,
    decimals: usize,
) -> Outcome {
    let expected = range_text(r, unit, scale, decimals);
    let Some(value) = value.filter(|v| v.is_finite()) else {
        return Outcome {
            step: step.to_owned(),
            what: what.to_owned(),
            expected,
            measured: "no data".to_owned(),
            passed: false,
            message: Some(format!("{what}: no data was measured")),
        };
    };
    let measured = format!("{:.decimals$}{unit}", value * scale);
    let passed = r.contains(value);
    let message = (!passed).then(|| {
        let (side, by) = if value < r.min {
            ("below", r.min - value)
        } else {
            ("above", value - r.max)
        };
        format!(
            "{what} was {measured}, {:.decimals$}{unit} {side} the expected {expected}",
            by * scale
        )
    });
    Outcome {
        step: step.to_owned(),
        what: what.to_owned(),
        expected,
        measured,
        passed,
        message,
    }
}

fn judge_exact(step: &str, what: &str, expected: String, measured: String) -> Outcome {
    let passed = expected == measured;
    Outcome {
        step: step.to_owned(),
        what: what.to_owned(),
        message: (!passed).then(|| format!("{what} was {measured}, expected {expected}")),
        expected,
        measured,
        passed,
    }
}

/// Judges one expectation against what was measured.
pub fn judge(want: &Expect, m: &Measured, step: &str) -> Outcome {
    match want {
        Expect::Alarm(state) => judge_exact(
            step,
            "alarm state",
            state.clone(),
            m.alarm.clone().unwrap_or_else(|| "no alarm".to_owned()),
        ),
        Expect::ErrorRate(r) => {
            let (s, e) = m.counts;
            let rate = (s + e > 0).then(|| e as f64 / (s + e) as f64);
            let mut o = judge_range(step, "error rate", *r, rate, "%", 100.0, 1);
            o.measured = format!("{} ({e} of {} requests)", o.measured, s + e);
            o
        }
        Expect::SuccessRate(r) => {
            let rate = (m.phase_secs > 0.0).then(|| m.counts.0 as f64 / m.phase_secs);
            judge_range(
                step,
                "successful requests per second",
                *r,
                rate,
                "/s",
                1.0,
                2,
            )
        }
        Expect::P50Ms(r) => judge_range(step, "p50 latency", *r, m.percentiles.0, " ms", 1.0, 1),
        Expect::P99Ms(r) => judge_range(step, "p99 latency", *r, m.percentiles.1, " ms", 1.0, 1),
        Expect::Capacity(c) => judge_exact(
            step,
            "fulfilled capacity",
            format!("{c}"),
            format!("{}", m.capacity),
        ),
        Expect::Notifications { topic, count } => {
            let (got, named) = m.notifications.get(topic).cloned().unwrap_or_default();
            match count {
                NotificationCount::Exactly(n) => judge_exact(
                    step,
                    &format!("notifications on {topic}"),
                    n.to_string(),
                    got.to_string(),
                ),
                NotificationCount::PerInterruption => {
                    let named_set: BTreeSet<String> = named.iter().cloned().collect();
                    let expected = m.interrupted.len();
                    let passed = got as usize == expected
                        && named.len() == named_set.len()
                        && named_set == m.interrupted;
                    let what = format!("notifications on {topic}");
                    Outcome {
                        step: step.to_owned(),
                        what: what.clone(),
                        expected: format!("{expected} (one per interrupted instance)"),
                        measured: got.to_string(),
                        passed,
                        message: (!passed).then(|| {
                            let missing: Vec<_> = m.interrupted.difference(&named_set).collect();
                            format!(
                                "{what}: {got} message(s) for {expected} interrupted instance(s); \
                                 instances without a message: {missing:?}; messages: {named:?}"
                            )
                        }),
                    }
                }
            }
        }
        Expect::Interruptions(r) => judge_range(
            step,
            "interrupted Spot instances",
            *r,
            Some(m.interrupted.len() as f64),
            "",
            1.0,
            0,
        ),
        Expect::AllDrained => Outcome {
            step: step.to_owned(),
            what: "interrupted instances drained and checkpointed".to_owned(),
            expected: "all".to_owned(),
            measured: if m.undrained.is_empty() {
                "all".to_owned()
            } else {
                format!("{} without a checkpoint", m.undrained.len())
            },
            passed: m.undrained.is_empty(),
            message: (!m.undrained.is_empty()).then(|| {
                format!(
                    "these interrupted instances left no drained checkpoint: {}",
                    m.undrained.join(", ")
                )
            }),
        },
        Expect::LostRequests(n) => {
            let (made, counted) = m.requests.unwrap_or_default();
            let lost = made.abs_diff(counted);
            let mut o = judge_exact(
                step,
                "requests lost or double-counted",
                n.to_string(),
                lost.to_string(),
            );
            o.measured = format!("{lost} ({made} made, {counted} counted by CloudWatch)");
            o.passed = lost == *n && made > 0;
            if made == 0 {
                o.message = Some("no agent checkpoint recorded any request".to_owned());
            }
            o
        }
        Expect::Running(n) => judge_exact(
            step,
            "instances still running",
            n.to_string(),
            m.running.to_string(),
        ),
        Expect::CostUsd(r) => judge_range(step, "cost (USD)", *r, m.cost.map(|c| c.0), "", 1.0, 4),
        Expect::CostPerThousand(r) => judge_range(
            step,
            "cost per 1,000 successful requests (USD)",
            *r,
            m.cost
                .filter(|c| c.2 > 0)
                .map(|c| c.0 * 1_000.0 / c.2 as f64),
            "",
            1.0,
            5,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_range_says_by_how_much() {
        let m = Measured {
            counts: (100, 0),
            ..Measured::default()
        };
        let o = judge(
            &Expect::ErrorRate(Range { min: 0.2, max: 0.5 }),
            &m,
            "8 units",
        );
        assert!(!o.passed);
        assert_eq!(
            o.message.as_deref(),
            Some("error rate was 0.0%, 20.0% below the expected 20.0%..50.0%")
        );
        assert_eq!(o.measured, "0.0% (0 of 100 requests)");
    }

    #[test]
    fn notifications_per_interruption_name_each_instance_once() {
        let mut m = Measured {
            interrupted: ["i-1".to_owned(), "i-2".to_owned()].into(),
            ..Measured::default()
        };
        let want = Expect::Notifications {
            topic: "t".into(),
            count: NotificationCount::PerInterruption,
        };
        m.notifications
            .insert("t".into(), (2, vec!["i-1".into(), "i-2".into()]));
        assert!(judge(&want, &m, "s").passed);
        m.notifications
            .insert("t".into(), (2, vec!["i-1".into(), "i-1".into()]));
        let o = judge(&want, &m, "s");
        assert!(!o.passed);
        assert!(o.message.expect("a failure has a message").contains("i-2"));
    }

    #[test]
    fn no_data_fails_rather_than_passes() {
        let o = judge(
            &Expect::P99Ms(Range {
                min: 0.0,
                max: 50.0,
            }),
            &Measured::default(),
            "s",
        );
        assert!(!o.passed);
        assert_eq!(o.measured, "no data");
    }
}
