//! `spotlab find-limit`: performance testing as the walkthrough's summary describes
//! it, "incrementally scale up a fleet to test the limits of your service". The fleet
//! steps its target capacity up, holding each step, until the alarm trips (or the
//! error rate crosses its threshold, or the bound is hit). The service's limit is
//! the highest rate of successful requests it sustained over a step: once offered
//! more than it can serve, that is what it serves.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use report::{LimitReport, LimitStep};
use simtime::SimDuration;

use super::live::Live;
use super::probe;
use super::scenario::{Action, Scenario, Step};
use super::session::Session;
use crate::cli::FindLimitArgs;

/// Runs the search.
pub async fn find(scenario: Scenario, args: &FindLimitArgs, run_dir: &Path) -> anyhow::Result<()> {
    let live = Live::new(args.options.quiet);
    let (cloud, service) = super::start(&scenario, &args.options, run_dir, &live).await?;
    let name = scenario.name.clone();
    let scenario_copy = scenario.clone();
    let result = match Session::begin(scenario, cloud, &service, run_dir, live.clone()).await {
        Ok(mut session) => {
            let result = tokio::select! {
                result = climb(&mut session, args) => result,
                _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted (Ctrl-C)")),
            };
            super::cleanup(&mut session).await;
            live.finish();
            session.cloud.stop().await?;
            result
        }
        Err(error) => {
            if args.options.aws {
                super::teardown_after_failed_start(&scenario_copy, &args.options, &live).await;
            }
            Err(error)
        }
    };
    service.stop().await;
    live.finish();
    let limit = result?;
    let limit = LimitReport {
        title: format!("{name}: find-limit"),
        ..limit
    };
    let html = run_dir.join("limit.html");
    std::fs::write(&html, report::limit_html(&limit))
        .with_context(|| format!("writing {}", html.display()))?;
    std::fs::write(
        run_dir.join("limit.json"),
        serde_json::to_vec_pretty(&limit)?,
    )?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", report::limit_summary(&limit))?;
    writeln!(out, "report: {}", html.display())?;
    match limit.limit_per_s {
        Some(rate) => writeln!(out, "limit: {rate:.2} requests per second")?,
        None => writeln!(out, "limit: not reached")?,
    }
    out.flush()?;
    if limit.limit_per_s.is_none() {
        anyhow::bail!(
            "the alarm never tripped up to capacity {}: raise --max",
            args.max
        );
    }
    Ok(())
}

async fn climb(session: &mut Session, args: &FindLimitArgs) -> anyhow::Result<LimitReport> {
    let threshold = session.threshold.unwrap_or(0.1);
    let hold = args.hold;
    let mut steps = Vec::new();
    let mut capacity = args.start;
    let mut tripped = false;
    while capacity <= args.max {
        let now = session.cloud.now().await?;
        session.begin_phase(&format!("{capacity} units"), now);
        let action = if session.fleet_id.is_none() {
            session.request.set_total_target_capacity(capacity);
            Action::CreateFleet
        } else {
            Action::ModifyCapacity { capacity }
        };
        for action in [
            action,
            Action::WaitFulfilled {
                timeout: SimDuration::from_mins(15),
            },
        ] {
            session
                .act(&Step {
                    phase: None,
                    action,
                    expect: Vec::new(),
                })
                .await?;
        }
        // Measured over the hold only, once the capacity is there.
        let from = session.cloud.now().await?;
        session
            .act(&Step {
                phase: None,
                action: Action::Hold { duration: hold },
                expect: Vec::new(),
            })
            .await?;
        let to = session.last_now;
        // The newest second is still filling: measure whole seconds.
        let to = simtime::SimTime::from_millis(to.as_millis() / 1_000 * 1_000);
        let (s, e) = probe::counts(&session.clients, from, to, 1).await?.totals();
        let secs = to.saturating_since(from).as_millis() as f64 / 1_000.0;
        let error_rate = if s + e > 0 {
            e as f64 / (s + e) as f64
        } else {
            0.0
        };
        let step = LimitStep {
            capacity: f64::from(capacity),
            offered_per_s: (s + e) as f64 / secs.max(1.0),
            success_per_s: s as f64 / secs.max(1.0),
            error_rate,
            alarm: session.alarm_state.clone(),
        };
        session.live.line(&format!(
            "{capacity} units: {:.2} offered/s, {:.2} successful/s, {:.1}% errors, alarm {}",
            step.offered_per_s,
            step.success_per_s,
            error_rate * 100.0,
            step.alarm
        ));
        let alarmed = step.alarm == "ALARM" || error_rate >= threshold;
        steps.push(step);
        if alarmed {
            tripped = true;
            break;
        }
        capacity += args.step;
    }
    let now = session.cloud.now().await?;
    session.close_phase(now);
    let highest_clean = steps
        .iter()
        .filter(|s| s.alarm != "ALARM" && s.error_rate < threshold)
        .map(|s| s.offered_per_s)
        .fold(None, |best: Option<f64>, r| {
            Some(best.map_or(r, |b| b.max(r)))
        });
    let limit = tripped.then(|| {
        steps
            .iter()
            .map(|s| s.success_per_s)
            .fold(0.0_f64, f64::max)
    });
    let verdict = match (limit, steps.last()) {
        (Some(limit), Some(last)) => format!(
            "The service sustains {limit:.2} successful requests per second. At {} units \
             ({:.2} requests/s offered) {:.1}% failed and the alarm was {}; below that, up to \
             {:.2} requests/s were served cleanly.",
            last.capacity,
            last.offered_per_s,
            last.error_rate * 100.0,
            last.alarm,
            highest_clean.unwrap_or(0.0)
        ),
        _ => format!(
            "The alarm never tripped up to {} units; the service's limit is above {:.2} requests/s.",
            args.max,
            highest_clean.unwrap_or(0.0)
        ),
    };
    Ok(LimitReport {
        title: String::new(),
        steps,
        limit_per_s: limit,
        highest_clean_per_s: highest_clean,
        alarm_name: session.alarm.clone(),
        threshold,
        verdict,
    })
}
