//! One run of a scenario: creates the stack, runs the steps, samples the fleet and the
//! alarm while they run, checks every step's expectations, and keeps what the report
//! shows. Every call to the cloud goes through the SDKs (`probe`), except fault
//! injection, which is the local cloud's own API.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use simtime::{SimDuration, SimTime};

use super::cloud::{Cloud, Service};
use super::expect::{self, Measured, Outcome};
use super::fleet_request::FleetRequest;
use super::live::{Live, Status};
use super::probe::{self, Instances};
use super::scenario::{Action, Scenario, Step};
use crate::aws::{Clients, Context as _};
use crate::stack;

/// A wait that ran out of time.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WaitTimeout(String);

/// A phase: consecutive steps under one name.
#[derive(Clone, Debug)]
pub struct PhaseRecord {
    /// Its name.
    pub name: String,
    /// When it started.
    pub start: SimTime,
    /// When it ended (the next phase's start, or the run's end).
    pub end: Option<SimTime>,
    /// Target capacity when it ended.
    pub target: Option<f64>,
    /// Fulfilled capacity when it ended.
    pub fulfilled: Option<f64>,
}

/// A capacity sample.
#[derive(Clone, Debug)]
pub struct Sample {
    /// When.
    pub at: SimTime,
    /// Target capacity.
    pub target: f64,
    /// Fulfilled capacity by pool.
    pub by_pool: BTreeMap<String, f64>,
}

/// A topic the run listens to (a `file` subscription in the run directory).
#[derive(Clone, Debug)]
pub struct Topic {
    /// Where its messages land.
    pub file: PathBuf,
}

/// A message a topic delivered.
#[derive(Clone, Debug)]
pub struct Message {
    /// When SNS published it.
    pub at: SimTime,
    /// The instance it is about, for EC2 events.
    pub instance_id: Option<String>,
}

/// Everything a run saw.
pub struct Session {
    /// The scenario.
    pub scenario: Scenario,
    /// The SDK clients.
    pub clients: Clients,
    /// The cloud.
    pub cloud: Cloud,
    /// The run's directory.
    pub run_dir: PathBuf,
    /// When the run started (virtual).
    pub start: SimTime,
    /// When it ended.
    pub end: SimTime,
    /// The fleet request, placeholders filled.
    pub request: FleetRequest,
    /// The fleet, once created.
    pub fleet_id: Option<String>,
    /// Weighted capacity of each instance type.
    pub weights: BTreeMap<String, f64>,
    /// The fleet's instances.
    pub instances: Instances,
    /// The alarm followed.
    pub alarm: Option<String>,
    /// Its threshold.
    pub threshold: Option<f64>,
    /// Its state at the last look.
    pub alarm_state: String,
    /// The stack's topics by name.
    pub topics: BTreeMap<String, Topic>,
    /// Phases so far.
    pub phases: Vec<PhaseRecord>,
    /// Capacity samples.
    pub samples: Vec<Sample>,
    /// Instances that left the fleet while it was running (interrupted or scaled
    /// in), when.
    pub removed: Vec<(SimTime, String)>,
    /// Whether the fleet is being deleted (instances leaving then are not
    /// interruptions).
    pub deleting: bool,
    /// Every expectation checked, in order.
    pub outcomes: Vec<Outcome>,
    /// The fleet's last state.
    pub fleet: probe::FleetState,
    /// The terminal view.
    pub live: Live,
    /// The cloud's virtual time at the last look.
    pub last_now: SimTime,
    /// The stack, as created (a run on AWS deletes it at the end).
    pub stack: crate::stack::spec::Stack,
    /// On AWS: the queues notifications are counted with.
    pub queues: Option<super::queues::Queues>,
    /// The stack's bucket, when it has one: the agents' checkpoints are there (under
    /// `checkpoints/`).
    pub checkpoint_bucket: Option<String>,
    /// The role Fault Injection Service assumes, when the stack has one: `interrupt`
    /// steps then go through FIS (on AWS, the only way).
    pub fault_injection_role: Option<String>,
    /// The interruption experiments started, whose templates go at the end.
    pub experiments: Vec<stack::experiments::Started>,
    /// Requests per second at the last look (success, error).
    rates: (f64, f64),
    last_rates: Option<Instant>,
}

impl Session {
    /// Creates the stack (each topic gets a `file` subscription in the run
    /// directory, so the run can count what it delivers) and returns a session ready
    /// for the steps.
    pub async fn begin(
        scenario: Scenario,
        cloud: Cloud,
        service: &Service,
        run_dir: &Path,
        live: Live,
    ) -> anyhow::Result<Session> {
        let clients = cloud.clients().await;
        let checkpoints = run_dir.join("checkpoints");
        std::fs::create_dir_all(&checkpoints)
            .with_context(|| format!("creating {}", checkpoints.display()))?;
        let mut agent_args = scenario.agent_args.clone();
        // A stack with a bucket has its user data send the agents' checkpoints there
        // (`examples/aws-stack.toml`), and the run copies them here; without one (only
        // possible on the local cloud, whose instances share this disk) the agents write
        // them where the run reads them.
        let has_bucket = stack::parse_for_teardown(&scenario.stack.0)
            .map(|s| s.bucket.is_some())
            .unwrap_or(false);
        if !has_bucket && cloud.on_aws().is_some() {
            live.line(
                "the stack has no [bucket]: the agents' checkpoints cannot come back from \
                 AWS, so all_drained and lost_requests will find none",
            );
        } else if !has_bucket {
            agent_args.extend([
                "--checkpoint".to_owned(),
                format!("file://{}/", checkpoints.display()),
            ]);
        }
        let target_url = service.url.clone();
        let lookup = move |name: &str| match name {
            "TARGET_URL" => Some(target_url.clone()),
            "AGENT_ARGS" => Some(agent_args.join(" ")),
            other => std::env::var(other).ok(),
        };
        let (stack_text, stack_name) = &scenario.stack;
        let stack =
            stack::parse(stack_text, &lookup).with_context(|| format!("in {stack_name}"))?;
        live.line(&format!("creating the stack {}", stack.name));
        let outputs = stack::apply(&clients, &stack, scenario.agent_binary.as_deref())
            .await
            .with_context(|| format!("creating the stack {} at {}", stack.name, cloud.endpoint))?;
        let notifications = run_dir.join("notifications");
        std::fs::create_dir_all(&notifications)
            .with_context(|| format!("creating {}", notifications.display()))?;
        let mut topics = BTreeMap::new();
        let mut queues = None;
        if cloud.on_aws().is_some() {
            let run = run_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "run".to_owned());
            queues = Some(
                super::queues::Queues::subscribe(
                    &clients,
                    &outputs.topic_arns,
                    &notifications,
                    &run,
                )
                .await?,
            );
            for name in outputs.topic_arns.keys() {
                let file = notifications.join(format!("{name}.jsonl"));
                topics.insert(name.clone(), Topic { file });
            }
        } else {
            for (name, arn) in &outputs.topic_arns {
                let file = notifications.join(format!("{name}.jsonl"));
                clients
                    .sns
                    .subscribe()
                    .topic_arn(arn)
                    .protocol("file")
                    .endpoint(file.display().to_string())
                    .send()
                    .await
                    .doing(|| format!("Subscribe to {name}"))?;
                topics.insert(name.clone(), Topic { file });
            }
        }
        let outputs_fis = outputs.fault_injection_role_arn.clone();
        let checkpoint_bucket = outputs.bucket.as_ref().map(|b| b.bucket_name.clone());
        let alarm = scenario
            .alarm
            .clone()
            .or_else(|| outputs.alarm_arns.keys().next().cloned());
        let template = outputs
            .network
            .launch_template
            .as_ref()
            .map(|t| t.launch_template_id.clone());
        let subnets = outputs.network.subnet_ids.clone();
        let fleet_lookup = |name: &str| match name {
            "LAUNCH_TEMPLATE_ID" => template.clone(),
            "SUBNET_ID_1" => subnets.first().cloned(),
            "SUBNET_ID_2" => subnets.get(1).cloned(),
            "SUBNET_ID_3" => subnets.get(2).cloned(),
            _ => None,
        };
        // Checked now, so a broken request fails before anything runs.
        let request = FleetRequest::parse(&scenario.fleet, &fleet_lookup)?;
        let weights = request.weights();
        let start = cloud.now().await?;
        let (alarm_state, threshold) = match &alarm {
            Some(name) => probe::alarm(&clients, name).await?,
            None => (String::new(), None),
        };
        Ok(Session {
            scenario,
            clients,
            cloud,
            run_dir: run_dir.to_path_buf(),
            start,
            end: start,
            request,
            fleet_id: None,
            weights,
            instances: Instances::default(),
            alarm,
            threshold,
            alarm_state,
            topics,
            phases: Vec::new(),
            samples: Vec::new(),
            removed: Vec::new(),
            deleting: false,
            outcomes: Vec::new(),
            fleet: probe::FleetState::default(),
            live,
            last_now: start,
            stack,
            queues,
            checkpoint_bucket,
            fault_injection_role: outputs_fis,
            experiments: Vec::new(),
            rates: (0.0, 0.0),
            last_rates: None,
        })
    }

    /// Runs every step; a step that cannot be carried out ends the run with an error
    /// (expectations that do not hold do not: they are outcomes).
    pub async fn run_steps(&mut self) -> anyhow::Result<()> {
        let steps = self.scenario.steps.clone();
        let total = steps.len();
        for (index, step) in steps.iter().enumerate() {
            let now = self.cloud.now().await?;
            if let Some(name) = &step.phase {
                self.begin_phase(name, now);
            } else if self.phases.is_empty() {
                self.phases.push(PhaseRecord {
                    name: "run".to_owned(),
                    start: now,
                    end: None,
                    target: None,
                    fulfilled: None,
                });
            }
            let phase = self
                .phases
                .last()
                .map(|p| p.name.clone())
                .unwrap_or_default();
            let label = format!("{phase}, step {}/{total} ({})", index + 1, step.action);
            self.live.step(&label);
            match self.act(step).await {
                Ok(()) => {}
                // A wait that runs out is a verdict, not a breakdown: it is recorded
                // and the run goes on, so every later expectation is judged too.
                Err(error) if error.is::<WaitTimeout>() => {
                    let outcome = Outcome {
                        step: label.clone(),
                        what: format!("{}", step.action),
                        expected: "done before the timeout".to_owned(),
                        measured: "timed out".to_owned(),
                        passed: false,
                        message: Some(error.to_string()),
                    };
                    self.live.outcome(&outcome);
                    self.outcomes.push(outcome);
                }
                Err(error) => return Err(error.context(format!("{label} failed"))),
            }
            self.check(step, &label).await?;
        }
        let now = self.cloud.now().await?;
        self.close_phase(now);
        self.end = now;
        Ok(())
    }

    /// Ends the current phase and starts one named `name`.
    pub fn begin_phase(&mut self, name: &str, now: SimTime) {
        self.close_phase(now);
        self.phases.push(PhaseRecord {
            name: name.to_owned(),
            start: now,
            end: None,
            target: None,
            fulfilled: None,
        });
        self.live.phase(name);
    }

    /// Ends the current phase, if one is open.
    pub fn close_phase(&mut self, now: SimTime) {
        let (target, fulfilled) = (self.fleet.target, self.fleet.fulfilled);
        if let Some(last) = self.phases.last_mut()
            && last.end.is_none()
        {
            last.end = Some(now);
            last.target = Some(target);
            last.fulfilled = Some(fulfilled);
        }
    }

    fn phase_start(&self) -> SimTime {
        self.phases.last().map_or(self.start, |p| p.start)
    }

    fn fleet_id(&self) -> anyhow::Result<String> {
        self.fleet_id
            .clone()
            .context("no fleet yet: the scenario must create one first")
    }

    /// Carries out one step's action.
    pub async fn act(&mut self, step: &Step) -> anyhow::Result<()> {
        match &step.action {
            Action::CreateFleet => {
                let capacity = u32::try_from(self.request.target_capacity()).unwrap_or(0);
                self.guard(capacity)?;
                let answer = self
                    .request
                    .apply(self.clients.ec2.create_fleet())
                    .send()
                    .await
                    .doing(|| "CreateFleet".to_owned())?;
                let id = crate::aws::required(answer.fleet_id(), "CreateFleet", "FleetId")?;
                if let Some(error) = answer.errors().first() {
                    self.live.line(&format!(
                        "CreateFleet: {}: {}",
                        error.error_code().unwrap_or_default(),
                        error.error_message().unwrap_or_default()
                    ));
                }
                self.fleet_id = Some(id.to_owned());
                self.live.line(&format!("fleet {id} created"));
                self.look().await
            }
            Action::WaitFulfilled { timeout } => {
                self.wait(*timeout, "the fleet's capacity to be fulfilled", |s| {
                    s.fleet.target > 0.0 && s.fleet.fulfilled >= s.fleet.target
                })
                .await
            }
            Action::Hold { duration } => {
                let started = self.cloud.now().await?;
                loop {
                    self.look().await?;
                    let held = self.last_now.saturating_since(started);
                    self.live.progress(held.as_secs(), duration.as_secs());
                    if held >= *duration {
                        return Ok(());
                    }
                    tokio::time::sleep(self.cloud.poll()).await;
                }
            }
            Action::ModifyCapacity { capacity } => {
                let id = self.fleet_id()?;
                self.guard(*capacity)?;
                let capacity = i32::try_from(*capacity).context("capacity too large")?;
                self.clients
                    .ec2
                    .modify_fleet()
                    .fleet_id(&id)
                    .target_capacity_specification(
                        aws_sdk_ec2::types::TargetCapacitySpecificationRequest::builder()
                            .total_target_capacity(capacity)
                            .build(),
                    )
                    .send()
                    .await
                    .doing(|| format!("ModifyFleet {id} to {capacity}"))?;
                self.live
                    .line(&format!("target capacity set to {capacity}"));
                self.look().await
            }
            Action::Interrupt { count } => {
                self.look().await?;
                let spot: Vec<String> = self
                    .instances
                    .active
                    .iter()
                    .filter(|id| self.instances.all.get(*id).is_some_and(|i| i.spot))
                    .cloned()
                    .collect();
                let take = count.map_or(spot.len(), |c| (c as usize).min(spot.len()));
                let chosen: Vec<String> = spot.into_iter().take(take).collect();
                if chosen.is_empty() {
                    bail!("the fleet has no Spot instance to interrupt");
                }
                match self.fault_injection_role.clone() {
                    Some(role) => {
                        let started = stack::experiments::interrupt(
                            &self.clients,
                            &self.stack,
                            &role,
                            &chosen,
                            self.cloud.poll(),
                        )
                        .await?;
                        self.live.line(&format!(
                            "Fault Injection Service experiment {} started",
                            started.experiment_id
                        ));
                        self.experiments.push(started);
                    }
                    None => self.cloud.interrupt(&chosen).await?,
                }
                self.live.line(&format!(
                    "interruption notices sent to {}",
                    chosen.join(", ")
                ));
                Ok(())
            }
            Action::WaitReplenished { timeout } => {
                let before = self.removed.len();
                self.wait(
                    *timeout,
                    "replacements for the interrupted instances",
                    |s| {
                        s.removed.len() > before
                            && s.fleet.target > 0.0
                            && s.fleet.fulfilled >= s.fleet.target
                            && s.instances
                                .active
                                .iter()
                                .all(|id| s.instances.all.get(id).is_some_and(|i| i.left.is_none()))
                    },
                )
                .await
            }
            Action::WaitAlarm { state, timeout } => {
                if self.alarm.is_none() {
                    bail!("the scenario has no alarm to wait for");
                }
                let state = state.clone();
                self.wait(*timeout, &format!("the alarm to be {state}"), move |s| {
                    s.alarm_state == state
                })
                .await
            }
            Action::DeleteFleet { timeout } => {
                let id = self.fleet_id()?;
                let answer = self
                    .clients
                    .ec2
                    .delete_fleets()
                    .fleet_ids(&id)
                    .terminate_instances(true)
                    .send()
                    .await
                    .doing(|| format!("DeleteFleets {id}"))?;
                if let Some(error) = answer.unsuccessful_fleet_deletions().first() {
                    bail!(
                        "DeleteFleets {id}: {:?}",
                        error.error().and_then(|e| e.message())
                    );
                }
                self.deleting = true;
                self.live.line(&format!("fleet {id} deleted"));
                let ids: Vec<String> = self.instances.all.keys().cloned().collect();
                let clients = self.clients.clone();
                let deadline = self.cloud.now().await? + *timeout;
                loop {
                    self.look().await?;
                    let running = probe::running(&clients, &ids).await?;
                    if running == 0 {
                        return Ok(());
                    }
                    if self.last_now >= deadline {
                        return Err(WaitTimeout(format!(
                            "{running} instance(s) still running {timeout} after DeleteFleets"
                        ))
                        .into());
                    }
                    tokio::time::sleep(self.cloud.poll()).await;
                }
            }
        }
    }

    /// Refuses a capacity that could exceed the run's limits.
    fn guard(&self, capacity: u32) -> anyhow::Result<()> {
        let limits = self.scenario.limits;
        let (instances, hourly) = self.request.worst_case(capacity, &probe::on_demand)?;
        if instances > limits.max_instances {
            bail!(
                "refusing capacity {capacity}: it could need {instances} instances, more than \
                 --max-instances {}",
                limits.max_instances
            );
        }
        if hourly > limits.max_hourly_usd {
            bail!(
                "refusing capacity {capacity}: it could cost ${hourly:.2} an hour, more than \
                 --max-hourly-usd {}",
                limits.max_hourly_usd
            );
        }
        Ok(())
    }

    /// Polls until `done` holds or `timeout` (virtual) passes.
    async fn wait(
        &mut self,
        timeout: SimDuration,
        what: &str,
        done: impl Fn(&Session) -> bool,
    ) -> anyhow::Result<()> {
        let started = self.cloud.now().await?;
        let deadline = started + timeout;
        loop {
            self.look().await?;
            if done(self) {
                self.live.progress(1, 1);
                return Ok(());
            }
            self.live.progress(
                self.last_now.saturating_since(started).as_secs(),
                timeout.as_secs(),
            );
            if self.last_now >= deadline {
                return Err(WaitTimeout(format!(
                    "gave up waiting for {what} after {timeout} (fleet at {} of {}, alarm {})",
                    self.fleet.fulfilled, self.fleet.target, self.alarm_state
                ))
                .into());
            }
            tokio::time::sleep(self.cloud.poll()).await;
        }
    }
}

impl Session {
    /// Looks at the cloud once: virtual time, the fleet and its instances by pool,
    /// the alarm, and (once a real second) the request rates; updates the live view.
    pub async fn look(&mut self) -> anyhow::Result<()> {
        let now = self.cloud.now().await?;
        self.last_now = now;
        if let Some(queues) = &self.queues {
            queues.drain().await?;
        }
        let mut by_pool = BTreeMap::new();
        if let Some(id) = self.fleet_id.clone() {
            self.fleet = probe::fleet(&self.clients, &id).await?;
            let left = probe::track(&self.clients, &id, &mut self.instances, now).await?;
            if !self.deleting {
                for instance in left {
                    self.removed.push((now, instance));
                }
            }
            by_pool = self.instances.capacity_by_pool(&self.weights);
            self.samples.push(Sample {
                at: now,
                target: self.fleet.target,
                by_pool: by_pool.clone(),
            });
        }
        if let Some(alarm) = self.alarm.clone() {
            let (state, _) = probe::alarm(&self.clients, &alarm).await?;
            if state != self.alarm_state && !self.alarm_state.is_empty() {
                self.live
                    .line(&format!("alarm {alarm}: {} -> {state}", self.alarm_state));
            }
            self.alarm_state = state;
        }
        if self
            .last_rates
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            self.last_rates = Some(Instant::now());
            // The last 10 whole virtual seconds (the newest is still filling).
            let end = SimTime::from_millis(now.as_millis() / 1_000 * 1_000);
            let start = end - SimDuration::from_secs(10);
            let counts = probe::counts(&self.clients, start, end, 1).await?;
            let (s, e) = counts.totals();
            self.rates = (s as f64 / 10.0, e as f64 / 10.0);
        }
        let total = self.rates.0 + self.rates.1;
        self.live.update(&Status {
            elapsed: now.saturating_since(self.start),
            phase: self
                .phases
                .last()
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            target: self.fleet.target,
            fulfilled: self.fleet.fulfilled,
            by_pool,
            success_per_s: self.rates.0,
            error_per_s: self.rates.1,
            error_rate: if total > 0.0 {
                self.rates.1 / total
            } else {
                0.0
            },
            threshold: self.threshold,
            alarm: self.alarm_state.clone(),
            interruptions: self.removed.len(),
        });
        Ok(())
    }

    /// Messages a topic delivered, oldest first.
    pub fn messages(&self, topic: &str) -> anyhow::Result<Vec<Message>> {
        let Some(topic) = self.topics.get(topic) else {
            bail!(
                "the stack has no topic {topic:?}; topics: {}",
                self.topics.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        };
        let text = match std::fs::read_to_string(&topic.file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", topic.file.display())),
        };
        let mut messages = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let envelope: serde_json::Value = serde_json::from_str(line)
                .with_context(|| format!("a message in {} is not JSON", topic.file.display()))?;
            if envelope.get("Type").and_then(|t| t.as_str()) != Some("Notification") {
                continue;
            }
            let at = envelope
                .get("Timestamp")
                .and_then(|t| t.as_str())
                .and_then(|t| SimTime::parse(t).ok())
                .unwrap_or(self.start);
            let instance_id = envelope
                .get("Message")
                .and_then(|m| m.as_str())
                .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
                .and_then(|event| {
                    event
                        .pointer("/detail/instance-id")
                        .and_then(|i| i.as_str())
                        .map(str::to_owned)
                });
            messages.push(Message { at, instance_id });
        }
        Ok(messages)
    }

    /// Checks a step's expectations now.
    async fn check(&mut self, step: &Step, label: &str) -> anyhow::Result<()> {
        if step.expect.is_empty() {
            return Ok(());
        }
        self.look().await?;
        self.fetch_checkpoints().await?;
        let measured = Measured::take(self, &step.expect).await?;
        for want in &step.expect {
            let outcome = expect::judge(want, &measured, label);
            self.live.outcome(&outcome);
            self.outcomes.push(outcome);
        }
        Ok(())
    }

    /// When the stack has a bucket: copies the agents' checkpoints from it
    /// (`checkpoints/<instance>/<run>.json`) into the run's `checkpoints/` directory,
    /// where the expectations and the report read them.
    pub async fn fetch_checkpoints(&self) -> anyhow::Result<()> {
        let Some(bucket) = &self.checkpoint_bucket else {
            return Ok(());
        };
        let dir = self.run_dir.join("checkpoints");
        let mut pages = self
            .clients
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix("checkpoints/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.doing(|| format!("listing the checkpoints in bucket {bucket}"))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let relative = &key["checkpoints/".len()..];
                // Only `<instance>/<file>.json`, nothing that climbs out of the directory.
                let parts: Vec<&str> = relative.split('/').collect();
                let [instance, file] = parts.as_slice() else {
                    continue;
                };
                if instance.is_empty()
                    || file.is_empty()
                    || instance.starts_with('.')
                    || file.starts_with('.')
                {
                    continue;
                }
                let path = dir.join(instance).join(file);
                if path.exists() {
                    continue;
                }
                let object = self
                    .clients
                    .s3
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .doing(|| format!("reading s3://{bucket}/{key}"))?;
                let body = object
                    .body
                    .collect()
                    .await
                    .with_context(|| format!("reading s3://{bucket}/{key}"))?
                    .into_bytes();
                std::fs::create_dir_all(dir.join(instance))
                    .with_context(|| format!("creating {}", dir.join(instance).display()))?;
                std::fs::write(&path, &body)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Ok(())
    }

    /// The phase so far: `[phase start, now)`.
    pub fn phase_window(&self) -> (SimTime, SimTime) {
        (self.phase_start(), self.last_now)
    }
}
