//! `spotlab run SCENARIO`, `spotlab demo` and `spotlab find-limit`: a test the way the
//! reference walkthrough runs one, end to end, with a live view, a verdict, a summary
//! and an HTML report.
//!
//! - `scenario`: the scenario file, checked (pure).
//! - `fleet_request`: CreateFleet JSON into aws-sdk-ec2's input.
//! - `cloud`: the embedded local cloud or a running endpoint, and the service under test.
//! - `probe`: every measurement, through the SDKs.
//! - `session`: the steps, the sampling, the expectations' checks.
//! - `expect`: what expectations need measured, and their judgement (pure).
//! - `collect`: the report's data; `live`: the terminal view; `junit`: JUnit XML.
//! - `limit`: `find-limit`.
//! - `queues`: on AWS, SQS queues that count what the topics deliver.

pub(crate) mod cloud;
mod collect;
pub(crate) mod dry_run;
mod expect;
pub(crate) mod fleet_request;
mod junit;
mod limit;
mod live;
pub(crate) mod probe;
mod queues;
pub(crate) mod scenario;
mod session;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};

pub use fleet_request::FleetRequest;

use crate::cli::{DemoArgs, FindLimitArgs, RunArgs, RunOptions};
use cloud::{Cloud, Service};
use live::Live;
use scenario::{Files, Scenario, Target};
use session::Session;

/// The reference walkthrough, built into the binary for `spotlab demo`.
const BUILTIN: [(&str, &str); 3] = [
    (
        "reference-walkthrough.toml",
        include_str!("../../../examples/reference-walkthrough.toml"),
    ),
    (
        "walkthrough-stack.toml",
        include_str!("../../../examples/walkthrough-stack.toml"),
    ),
    (
        "reference-fleet.json",
        include_str!("../../../examples/reference-fleet.json"),
    ),
];

/// Files beside a scenario on disk.
struct Disk(PathBuf);

impl Files for Disk {
    fn read(&self, name: &str) -> anyhow::Result<String> {
        let path = self.0.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    }
    fn describe(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

/// Files built into the binary.
struct Builtin;

impl Files for Builtin {
    fn read(&self, name: &str) -> anyhow::Result<String> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| (*text).to_owned())
            .with_context(|| format!("no built-in file {name}"))
    }
    fn describe(&self, name: &str) -> String {
        format!("examples/{name} (built in)")
    }
}

/// `spotlab run`.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("reading {}", args.scenario.display()))?;
    let dir = args
        .scenario
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let scenario = scenario::parse(&text, &Disk(dir))
        .with_context(|| format!("in {}", args.scenario.display()))?;
    execute(scenario, &args.options)
}

/// `spotlab demo`.
pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let scenario = scenario::parse(BUILTIN[0].1, &Builtin)
        .context("in the built-in examples/reference-walkthrough.toml")?;
    execute(scenario, &args.options)
}

/// `spotlab find-limit`.
pub fn find_limit(args: FindLimitArgs) -> anyhow::Result<()> {
    let scenario = match &args.scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            scenario::parse(&text, &Disk(dir)).with_context(|| format!("in {}", path.display()))?
        }
        None => scenario::parse(BUILTIN[0].1, &Builtin)
            .context("in the built-in examples/reference-walkthrough.toml")?,
    };
    let scenario = overridden(scenario, &args.options)?;
    if args.options.dry_run {
        return dry(&scenario, &args.options);
    }
    if args.options.aws {
        check_for_aws(&scenario)?;
    }
    let run_dir = run_dir(&args.options, &format!("{}-limit", scenario.name))?;
    runtime()?.block_on(limit::find(scenario, &args, &run_dir))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("spotlab-run")
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn overridden(mut scenario: Scenario, options: &RunOptions) -> anyhow::Result<Scenario> {
    scenario.limits = scenario::Limits {
        max_instances: options.max_instances,
        max_hourly_usd: options.max_hourly_usd,
    };
    scenario.agent_binary = options.agent_binary.clone();
    if let Some(scale) = options.time_scale {
        scenario.time_scale = scale;
    }
    if let Some(rate) = options.target_rate {
        match &mut scenario.target {
            Target::Builtin { rate: r, .. } => *r = rate,
            Target::Url(_) => {
                bail!("--target-rate: the scenario tests a URL, not spotlab's target")
            }
        }
    }
    if let Some(url) = &options.target_url {
        scenario.target = Target::Url(url.clone());
    }
    Ok(scenario)
}

/// The run's directory: `--out`, else `.spotlab/runs/NAME-TIMESTAMP`.
fn run_dir(options: &RunOptions, name: &str) -> anyhow::Result<PathBuf> {
    let dir = match &options.out {
        Some(dir) => dir.clone(),
        None => {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            let stamp = simtime::SimTime::from_millis(stamp)
                .to_iso_seconds()
                .replace([':', '-'], "");
            PathBuf::from(".spotlab/runs").join(format!("{name}-{stamp}"))
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::path::absolute(&dir).with_context(|| format!("locating {}", dir.display()))
}

/// `--dry-run`: the plan, on the embedded cloud's market or the endpoint's.
fn dry(scenario: &Scenario, options: &RunOptions) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let (cloud, scratch) = match &options.endpoint {
            _ if options.aws => (Cloud::aws(aws_of(options)), None),
            Some(endpoint) => (Cloud::running(endpoint).await?, None),
            None => {
                let dir = tempfile_dir()?;
                let cloud =
                    Cloud::embedded(dir.join("cloud"), scenario.time_scale, scenario.seed).await?;
                (cloud, Some(dir))
            }
        };
        let planned = dry_run::plan(scenario, &cloud).await;
        cloud.stop().await?;
        if let Some(dir) = scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
        planned
    })
}

/// A fresh directory for a dry run's embedded cloud, under the system's temporary
/// directory.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("spotlab-dry-run-{}-{stamp}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Where on AWS `--aws` runs.
fn aws_of(options: &RunOptions) -> cloud::Aws {
    cloud::Aws {
        region: options.region.clone(),
        profile: options.profile.clone(),
    }
}

/// What a scenario cannot do on AWS, said before anything is created there.
fn check_for_aws(scenario: &Scenario) -> anyhow::Result<()> {
    if let Target::Builtin { .. } = scenario.target {
        bail!(
            "on AWS the instances cannot reach a service on this machine: give the URL of \
             the service under test with --target-url (or [target] url in the scenario)"
        );
    }
    let interrupts = scenario
        .steps
        .iter()
        .position(|s| matches!(s.action, scenario::Action::Interrupt { .. }));
    if let Some(index) = interrupts {
        let stack = crate::stack::parse_for_teardown(&scenario.stack.0)
            .with_context(|| format!("in {}", scenario.stack.1))?;
        if stack.fault_injection_role.is_none() {
            bail!("step {}: {}", index + 1, cloud::INTERRUPT_ON_AWS);
        }
    }
    Ok(())
}

/// Starts what the scenario runs against.
async fn start(
    scenario: &Scenario,
    options: &RunOptions,
    run_dir: &Path,
    live: &Live,
) -> anyhow::Result<(Cloud, Service)> {
    let cloud = match &options.endpoint {
        _ if options.aws => Cloud::aws(aws_of(options)),
        Some(endpoint) => Cloud::running(endpoint).await?,
        None => Cloud::embedded(run_dir.join("cloud"), scenario.time_scale, scenario.seed).await?,
    };
    if cloud.on_aws().is_some() {
        live.line(&format!("on {} in real time", cloud.endpoint));
    } else {
        live.line(&format!(
            "local cloud at {} (time scale {}{})",
            cloud.endpoint,
            cloud.time_scale,
            if cloud.is_embedded() {
                ", embedded"
            } else {
                ""
            }
        ));
    }
    let service = match &scenario.target {
        Target::Builtin { rate, burst } => {
            Service::builtin(*rate, *burst, cloud.time_scale, &run_dir.join("target.log")).await?
        }
        Target::Url(url) => Service::external(url.clone()),
    };
    live.line(&format!("service under test at {}", service.url));
    Ok((cloud, service))
}

fn execute(scenario: Scenario, options: &RunOptions) -> anyhow::Result<()> {
    let scenario = overridden(scenario, options)?;
    if options.dry_run {
        return dry(&scenario, options);
    }
    if options.aws {
        check_for_aws(&scenario)?;
    }
    let run_dir = run_dir(options, &scenario.name)?;
    let began = Instant::now();
    let live = Live::new(options.quiet);
    let outcome = runtime()?.block_on(async {
        let (cloud, service) = start(&scenario, options, &run_dir, &live).await?;
        let endpoint = if cloud.is_embedded() {
            "embedded local cloud".to_owned()
        } else {
            cloud.endpoint.clone()
        };
        let mut session =
            match Session::begin(scenario.clone(), cloud, &service, &run_dir, live.clone()).await {
                Ok(session) => session,
                Err(error) => {
                    service.stop().await;
                    if options.aws {
                        teardown_after_failed_start(&scenario, options, &live).await;
                    }
                    return Err(error);
                }
            };
        let stopped = tokio::select! {
            result = session.run_steps() => result.err(),
            _ = tokio::signal::ctrl_c() => Some(anyhow::anyhow!("interrupted (Ctrl-C)")),
        };
        if let Some(error) = &stopped {
            live.line(&format!("the run stopped: {error:#}"));
        }
        if let Err(error) = session.fetch_checkpoints().await {
            live.line(&format!("the agents' checkpoints: {error:#}"));
        }
        let report = collect::report(&session, &scenario.name, &endpoint).await;
        cleanup(&mut session).await;
        live.finish();
        service.stop().await;
        session.cloud.stop().await?;
        Ok::<_, anyhow::Error>((report?, session.outcomes, stopped))
    });
    live.finish();
    let (report, outcomes, stopped) = outcome?;
    let wall = began.elapsed().as_secs_f64();
    let html = run_dir.join("report.html");
    std::fs::write(&html, report::html(&report))
        .with_context(|| format!("writing {}", html.display()))?;
    let json = run_dir.join("report.json");
    std::fs::write(&json, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", json.display()))?;
    let stopped_text = stopped.as_ref().map(|e| format!("{e:#}"));
    if let Some(path) = &options.junit {
        std::fs::write(
            path,
            junit::render(&scenario.name, &outcomes, stopped_text.as_deref(), wall),
        )
        .with_context(|| format!("writing {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", report::summary(&report))?;
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed).collect();
    for o in &failed {
        if let Some(message) = &o.message {
            writeln!(out, "FAILED {}: {message}", o.step)?;
        }
    }
    writeln!(out, "report: {}", html.display())?;
    writeln!(out, "wall time: {wall:.1} s")?;
    out.flush()?;
    if let Some(error) = stopped {
        return Err(error.context("the run did not finish"));
    }
    if !failed.is_empty() {
        bail!(
            "verdict: FAIL ({} of {} expectations did not hold)",
            failed.len(),
            outcomes.len()
        );
    }
    if outcomes.is_empty() {
        bail!("verdict: nothing was checked (the scenario has no expectations)");
    }
    Ok(())
}

/// After the run or a failure: nothing of the run's fleet is left running; on AWS,
/// nothing of the run is left at all (queues, then the whole stack).
async fn cleanup(session: &mut Session) {
    delete_fleet(session).await;
    if !session.experiments.is_empty() {
        let ids: Vec<String> = session
            .experiments
            .iter()
            .map(|e| e.template_id.clone())
            .collect();
        if let Err(error) =
            crate::stack::experiments::delete_templates(&session.clients, &session.stack, &ids)
                .await
        {
            session.live.line(&format!("cleaning up: {error:#}"));
        }
    }
    if session.cloud.on_aws().is_none() {
        return;
    }
    if let Some(queues) = &session.queues {
        for problem in queues.remove().await {
            session.live.line(&format!("cleaning up: {problem}"));
        }
    }
    teardown_stack(&session.clients, &session.stack, &session.live).await;
}

/// On AWS, when the run could not start: whatever of the stack was made goes.
async fn teardown_after_failed_start(scenario: &Scenario, options: &RunOptions, live: &Live) {
    let stack = match crate::stack::parse_for_teardown(&scenario.stack.0) {
        Ok(stack) => stack,
        Err(error) => {
            live.line(&format!("cleaning up: {error:#}"));
            return;
        }
    };
    let clients = Cloud::aws(aws_of(options)).clients().await;
    teardown_stack(&clients, &stack, live).await;
}

/// Deletes the whole stack, saying so; a failure is said, with how to finish the job.
async fn teardown_stack(
    clients: &crate::aws::Clients,
    stack: &crate::stack::spec::Stack,
    live: &Live,
) {
    live.line(&format!("cleaning up: deleting the stack {}", stack.name));
    if let Err(error) =
        crate::stack::teardown(clients, stack, std::time::Duration::from_secs(900)).await
    {
        live.line(&format!(
            "cleaning up the stack failed: {error:#}; `spotlab cleanup --aws --stack {}` \
             finds what is left",
            stack.name
        ));
    }
}

async fn delete_fleet(session: &mut Session) {
    let Some(id) = session.fleet_id.clone() else {
        return;
    };
    if let Ok(state) = probe::fleet(&session.clients, &id).await
        && state.state.starts_with("deleted")
    {
        return;
    }
    session
        .live
        .line(&format!("cleaning up: deleting fleet {id}"));
    let _ = session
        .clients
        .ec2
        .delete_fleets()
        .fleet_ids(&id)
        .terminate_instances(true)
        .send()
        .await;
}
