//! The agent's life: set up, send on schedule, report every virtual second, and on a
//! stop trigger (interruption notice, signal, duration) drain, flush, checkpoint, exit.
//!
//! On a Spot interruption notice the agent keeps testing until `drain_before` ahead of
//! the action time, then stops sending, waits for in-flight requests (bounded so that it
//! is gone before the action time), sends its final report, writes its checkpoint and
//! returns. SIGTERM or SIGINT starts the same drain at once with a shorter bound; a
//! second signal abandons what is still in flight (counted as timeouts).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_wire::{Report, Source, StopReason};
use anyhow::{Context, bail};
use clock::Clock;
use simtime::{SimDuration, SimTime};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::caller::{Shared, Target, preconnect, run_caller};
use crate::checkpoint;
use crate::config::AgentArgs;
use crate::imds::{self, Identity, Imds, Notices};
use crate::schedule::Schedule;
use crate::sink::SinkSpec;
use crate::summary::Summary;
use crate::tally::Tally;

/// Longest in-flight wait after a signal, virtual.
const SIGNAL_DRAIN: Duration = Duration::from_secs(2);
/// Length of one report interval, virtual.
const INTERVAL: SimDuration = SimDuration::from_secs(1);

/// Runs `spotlab agent` to completion on its own runtime.
pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    let mut builder = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if args.threads > 1 {
            builder.worker_threads(args.threads);
        }
        builder
    };
    let runtime = builder
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let summary_json = args.summary_json;
    let to_stdout = !args
        .reports
        .iter()
        .any(|r| SinkSpec::parse(r).is_ok_and(|s| s.is_stdout()));
    let summary = runtime.block_on(run_agent(args))?;
    let text = if summary_json {
        serde_json::to_string_pretty(&summary).context("serialising the summary")? + "\n"
    } else {
        summary.to_text()
    };
    if to_stdout {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .context("writing the summary")?;
        stdout.flush().context("writing the summary")?;
    } else {
        eprint!("{text}");
    }
    Ok(())
}

/// What stops the run, and the latest real instant by which the agent must be gone.
struct Stop {
    reason: StopReason,
    /// In-flight requests still running then are abandoned (counted as timeouts).
    abandon_at: Instant,
    /// Undelivered reports are given up then.
    flush_by: Instant,
}

/// Runs the agent inside a runtime; returns its summary.
pub async fn run_agent(args: AgentArgs) -> anyhow::Result<Summary> {
    let clock = Clock::from_env(args.time_scale)?;
    let specs = args
        .reports
        .iter()
        .map(|text| SinkSpec::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    let target = Target::resolve(&args.url).await?;
    let imds = connect_imds(&args.imds).await?;
    let identity = match &imds {
        Some(imds) => with_retries("reading the instance identity", || imds.identity())
            .await
            .context("reading the instance identity")?,
        None => Identity::default(),
    };
    let callers = match args.callers {
        Some(0) => bail!("--callers must be at least 1"),
        Some(n) => n,
        None => default_callers(identity.instance_type.as_deref()),
    };
    let checkpoint_url = match args.checkpoint.clone() {
        Some(url) => url,
        None => checkpoint::default_url()?,
    };
    let source = Source {
        instance_id: args.instance_id.clone().or(identity.instance_id.clone()),
        fleet_id: args.fleet_id.clone().or(identity.fleet_id.clone()),
        instance_type: identity.instance_type.clone(),
        availability_zone: identity.availability_zone.clone(),
        run_id: new_run_id(),
    };
    let period_ns = ((1e9 / args.rate).round() as u64).max(1);
    let late_after_ns = match args.late_after {
        Some(span) => u64::try_from(span.as_nanos()).unwrap_or(u64::MAX),
        None => period_ns / 10,
    };

    let (deadline_tx, deadline_rx) = watch::channel(None);
    let (reports, sink_task) = crate::sink::spawn(&specs, deadline_rx).await?;

    // Connect every caller first, then start on a whole virtual second (at least a
    // little ahead) so that report intervals line up across agents.
    let connections = TaskTracker::new();
    let timeout = clock.to_real(args.timeout);
    let mut warm = preconnect(&target, &connections, callers, timeout).await;
    let connected = warm.iter().filter(|c| c.is_some()).count();
    if connected < warm.len() {
        tracing::warn!(
            connected,
            callers,
            "some connections failed before the start"
        );
    }
    let earliest = clock.now()
        + SimDuration::from_millis(
            u64::try_from(
                clock
                    .scale()
                    .to_virtual(Duration::from_millis(20))
                    .as_millis(),
            )
            .unwrap_or(u64::MAX),
        );
    let start = SimTime::from_millis(earliest.as_millis().div_ceil(1000) * 1000);
    let start_ns = clock.nanos_of(start);
    tracing::info!(
        url = %args.url, callers, rate = args.rate, scale = %clock.scale(),
        instance = ?source.instance_id, fleet = ?source.fleet_id, run = %source.run_id,
        start = %start, "agent starting"
    );

    let shared = Arc::new(Shared {
        clock,
        target,
        tally: Mutex::new(Tally::new(source, start)),
        timeout,
        late_after_ns,
        max_connections: usize::try_from(args.max_connections_per_caller.max(1)).unwrap_or(1),
        connections,
    });
    let stop_sending = CancellationToken::new();
    let abandon = CancellationToken::new();
    let callers_done = TaskTracker::new();
    // With a duration, each caller sends exactly the slots due before the end.
    let end_ns = args
        .duration
        .map(|span| start_ns.saturating_add(u64::try_from(span.as_nanos()).unwrap_or(u64::MAX)));
    for index in 0..callers {
        let schedule = Schedule::new(start_ns, period_ns, index, callers);
        callers_done.spawn(run_caller(
            shared.clone(),
            schedule,
            warm.pop().flatten(),
            end_ns,
            stop_sending.clone(),
            abandon.clone(),
        ));
    }
    callers_done.close();

    let finish_reports = CancellationToken::new();
    let reporter = tokio::spawn(report_loop(
        shared.clone(),
        start,
        reports,
        finish_reports.clone(),
    ));

    let (notice_tx, notice_rx) = mpsc::channel(8);
    let poller_stop = CancellationToken::new();
    if let Some(imds) = imds {
        tokio::spawn(poll_imds(
            imds,
            clock,
            args.imds_interval,
            notice_tx,
            poller_stop.clone(),
        ));
    }

    let mut signals = Signals::new()?;
    let stop = wait_for_stop(&args, &clock, start, notice_rx, &mut signals).await;
    poller_stop.cancel();
    if stop.reason != StopReason::Finished {
        // At the end of a duration the callers stop on their own after their last slot.
        stop_sending.cancel();
    }
    tracing::info!(reason = ?stop.reason, "draining");

    tokio::select! {
        () = callers_done.wait() => {}
        () = tokio::time::sleep_until(stop.abandon_at) => {
            tracing::warn!("abandoning requests still in flight");
            abandon.cancel();
            callers_done.wait().await;
        }
        name = signals.next() => {
            tracing::warn!(signal = name, "second signal: abandoning requests still in flight");
            abandon.cancel();
            callers_done.wait().await;
        }
    }
    finish_reports.cancel();
    reporter.await.context("the reporter task failed")?;
    let _ = deadline_tx.send(Some(stop.flush_by));
    let delivery = sink_task.await.context("the sink task failed")?;
    shared.connections.close();

    let checkpoint = shared
        .tally()
        .checkpoint(stop.reason, clock.now(), callers, args.rate);
    let location = checkpoint::write(&checkpoint_url, &checkpoint).await;
    match &location {
        Ok(location) => tracing::info!(%location, "checkpoint written"),
        Err(error) => tracing::error!(error = format!("{error:#}"), "checkpoint NOT written"),
    }
    Ok(Summary {
        checkpoint,
        checkpoint_location: location.map_err(|e| format!("{e:#}")),
        sinks: delivery.sinks,
    })
}

/// One caller per vCPU of `instance_type` (from the catalogue), else per CPU here.
fn default_callers(instance_type: Option<&str>) -> u32 {
    let catalog = market::catalog();
    instance_type
        .and_then(|name| catalog.instance_type_id(name))
        .map(|id| catalog.instance_type(id).vcpus)
        .unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(1))
        })
}

fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", nanos, std::process::id())
}

async fn connect_imds(setting: &str) -> anyhow::Result<Option<Imds>> {
    match setting {
        "off" => Ok(None),
        "auto" => {
            if std::env::var(imds::DISABLED_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("true")) {
                return Ok(None);
            }
            match std::env::var(imds::ENDPOINT_ENV) {
                Ok(endpoint) => with_retries("connecting to instance metadata", || {
                    Imds::connect(&endpoint)
                })
                .await
                .map(Some)
                .with_context(|| format!("{} is set", imds::ENDPOINT_ENV)),
                Err(_) => match Imds::connect(imds::DEFAULT_ENDPOINT).await {
                    Ok(imds) => Ok(Some(imds)),
                    Err(error) => {
                        tracing::info!(%error, "no instance metadata: not on EC2, interruption notices will not be seen");
                        Ok(None)
                    }
                },
            }
        }
        endpoint => with_retries("connecting to instance metadata", || {
            Imds::connect(endpoint)
        })
        .await
        .map(Some)
        .map_err(Into::into),
    }
}

/// Tries a request to a configured metadata service up to [`IMDS_ATTEMPTS`] times,
/// backing off (0.25 s, 0.5 s, 1 s, ... real time) while the failure is transient: at
/// boot a busy host may answer late, and the run should not fail for that.
async fn with_retries<T, F, Fut>(what: &str, mut attempt: F) -> Result<T, imds::ImdsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, imds::ImdsError>>,
{
    let mut delay = Duration::from_millis(250);
    let mut tries = 1;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) if error.is_transient() && tries < IMDS_ATTEMPTS => {
                tracing::warn!(%error, tries, "{what}: trying again");
                tokio::time::sleep(delay).await;
                delay *= 2;
                tries += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// How many times the agent tries its metadata service at start.
const IMDS_ATTEMPTS: u32 = 6;

async fn poll_imds(
    imds: Imds,
    clock: Clock,
    every: Duration,
    notices: mpsc::Sender<Notices>,
    stop: CancellationToken,
) {
    let mut last = Notices::default();
    let mut failing = false;
    loop {
        match imds.poll().await {
            Ok(found) => {
                if failing {
                    tracing::info!("instance metadata reachable again");
                    failing = false;
                }
                if found != last && (found.instance_action.is_some() || found.rebalance.is_some()) {
                    last = found.clone();
                    if notices.send(found).await.is_err() {
                        return;
                    }
                }
            }
            Err(error) if !failing => {
                tracing::warn!(%error, "polling instance metadata failed; retrying");
                failing = true;
            }
            Err(_) => {}
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = clock.sleep(every) => {}
        }
    }
}

/// SIGTERM and SIGINT as one stream.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Signals> {
        Ok(Signals {
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
        })
    }

    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

async fn wait_for_stop(
    args: &AgentArgs,
    clock: &Clock,
    start: SimTime,
    mut notices: mpsc::Receiver<Notices>,
    signals: &mut Signals,
) -> Stop {
    let request_timeout = clock.to_real(args.timeout);
    let end = args.duration.map(|d| {
        clock.instant_at(
            start + SimDuration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        )
    });
    // Set once an interruption notice arrives: when to stop sending, and its details.
    let mut interruption: Option<(Instant, String, SimTime)> = None;
    loop {
        let drain_at = interruption.as_ref().map(|(at, _, _)| *at);
        tokio::select! {
            () = sleep_until_opt(end) => {
                let now = Instant::now();
                return Stop {
                    reason: StopReason::Finished,
                    abandon_at: now + request_timeout,
                    flush_by: now + request_timeout + Duration::from_secs(5),
                };
            }
            name = signals.next() => {
                let now = Instant::now();
                let bound = request_timeout.min(clock.to_real(SIGNAL_DRAIN));
                return Stop {
                    reason: StopReason::Signal { signal: name.to_owned() },
                    abandon_at: now + bound,
                    flush_by: now + bound + clock.to_real(SIGNAL_DRAIN),
                };
            }
            () = sleep_until_opt(drain_at) => {
                let Some((_, action, time)) = interruption.take() else { continue };
                return interruption_stop(clock, request_timeout, action, time);
            }
            found = notices.recv(), if !notices.is_closed() => {
                let Some(found) = found else { continue };
                if let Some(action) = found.instance_action
                    && interruption.is_none()
                {
                    let drain_from = SimTime::from_millis(
                        action.time.as_millis().saturating_sub(
                            u64::try_from(args.drain_before.as_millis()).unwrap_or(u64::MAX),
                        ),
                    );
                    tracing::warn!(
                        action = %action.action, time = %action.time, drain_from = %drain_from,
                        "Spot interruption notice: testing until the drain deadline"
                    );
                    interruption = Some((clock.instant_at(drain_from), action.action, action.time));
                }
                if let Some(notice_time) = found.rebalance {
                    if args.drain_on_rebalance {
                        let now = Instant::now();
                        return Stop {
                            reason: StopReason::RebalanceRecommendation { notice_time },
                            abandon_at: now + request_timeout,
                            flush_by: now + request_timeout + Duration::from_secs(5),
                        };
                    }
                    tracing::warn!(%notice_time, "rebalance recommendation: continuing (use --drain-on-rebalance to drain)");
                }
            }
        }
    }
}

/// The drain bounds for an interruption at `time`: in-flight requests get half the time
/// left before the action (at most the request timeout), report delivery most of the
/// rest, leaving a quarter for the checkpoint and exit.
fn interruption_stop(
    clock: &Clock,
    request_timeout: Duration,
    action: String,
    time: SimTime,
) -> Stop {
    let now = Instant::now();
    let left = clock.instant_at(time).saturating_duration_since(now);
    let abandon_at = now + request_timeout.min(left / 2);
    let flush_by = (now + left * 3 / 4).max(abandon_at);
    Stop {
        reason: StopReason::SpotInterruption { action, time },
        abandon_at,
        flush_by,
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Closes one interval per virtual second until told to finish, then the last one.
async fn report_loop(
    shared: Arc<Shared>,
    start: SimTime,
    reports: mpsc::Sender<Report>,
    finish: CancellationToken,
) {
    let mut boundary = start + INTERVAL;
    loop {
        tokio::select! {
            biased;
            () = finish.cancelled() => break,
            () = shared.clock.sleep_until(boundary) => {
                let report = shared.tally().close(boundary, false);
                if reports.send(report).await.is_err() {
                    return;
                }
                boundary += INTERVAL;
            }
        }
    }
    let end = shared.clock.now().max(boundary - INTERVAL);
    let report = shared.tally().close(end, true);
    let _ = reports.send(report).await;
}
