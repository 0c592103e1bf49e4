//! The scenario file: one TOML document describing a test the way the reference
//! walkthrough runs one: the stack to create, the service under test, the fleet, the
//! agent's settings, and the steps with their expectations. Read once and checked into
//! a [`Scenario`]; the runner never re-checks. This module talks to no service.
//!
//! ```toml
//! name = "reference-walkthrough"
//! time_scale = 60
//! [target]                # spotlab's own target at 5 requests/s, or `url = "..."`
//! rate = 5
//! [stack]
//! file = "walkthrough-stack.toml"
//! [fleet]
//! file = "reference-fleet.json"   # or `request = { ...CreateFleet JSON... }`
//! [agent]
//! rate = 1.0
//! [[steps]]
//! phase = "4 units"
//! do = "create-fleet"
//! [[steps]]
//! do = "hold"
//! duration = "3m"
//! expect = { alarm = "OK", error_rate = [0, 0.01] }
//! ```

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context as _, bail, ensure};
use serde::Deserialize;
use simtime::SimDuration;

/// Where a scenario's referenced files come from: the file system (beside the
/// scenario) or files built into the binary (`spotlab demo`).
pub trait Files {
    /// The text of `name`, relative to the scenario.
    fn read(&self, name: &str) -> anyhow::Result<String>;
    /// How to name `name` in messages.
    fn describe(&self, name: &str) -> String;
}

/// A checked scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Its name (the run directory and the report are named after it).
    pub name: String,
    /// What it tests, in a sentence.
    pub description: Option<String>,
    /// Virtual seconds per real second of the embedded cloud.
    pub time_scale: u32,
    /// Seed of the embedded cloud's market.
    pub seed: u64,
    /// The service under test.
    pub target: Target,
    /// The stack file's text (placeholders not yet filled) and its name for messages.
    pub stack: (String, String),
    /// The CreateFleet request as JSON (placeholders not yet filled).
    pub fleet: String,
    /// Flags given to every instance's `spotlab agent` (`${AGENT_ARGS}` in user data).
    pub agent_args: Vec<String>,
    /// The alarm the expectations and the report follow (default: the stack's first).
    pub alarm: Option<String>,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// Guardrails: the most instances and USD per hour a capacity may need.
    pub limits: Limits,
    /// The binary the stack's bucket gets for the instances (`--agent-binary`; the
    /// running spotlab when `None`).
    pub agent_binary: Option<std::path::PathBuf>,
}

/// What a run refuses to exceed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Instances at once.
    pub max_instances: u64,
    /// USD per hour.
    pub max_hourly_usd: f64,
}

/// The service under test.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// `spotlab target` started for the run, at this many requests per second.
    Builtin {
        /// Requests allowed per virtual second.
        rate: f64,
        /// Requests allowed at once after an idle period.
        burst: Option<u32>,
    },
    /// Any HTTP service.
    Url(String),
}

/// One step.
#[derive(Clone, Debug)]
pub struct Step {
    /// Starts a phase of this name (phases group steps in the report).
    pub phase: Option<String>,
    /// What it does.
    pub action: Action,
    /// What must hold when it ends.
    pub expect: Vec<Expect>,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// CreateFleet with the scenario's request.
    CreateFleet,
    /// Wait until the fleet's fulfilled capacity reaches its target.
    WaitFulfilled {
        /// Give up after this long (virtual).
        timeout: SimDuration,
    },
    /// Let the test run.
    Hold {
        /// For this long (virtual).
        duration: SimDuration,
    },
    /// ModifyFleet's total target capacity.
    ModifyCapacity {
        /// The new target.
        capacity: u32,
    },
    /// Spot interruptions with a 2-minute notice (FIS-style, local cloud only).
    Interrupt {
        /// How many of the fleet's Spot instances (`None`: all).
        count: Option<u32>,
    },
    /// Wait until interrupted instances are replaced and capacity is back.
    WaitReplenished {
        /// Give up after this long (virtual).
        timeout: SimDuration,
    },
    /// Wait for the alarm to reach a state.
    WaitAlarm {
        /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
        state: String,
        /// Give up after this long (virtual).
        timeout: SimDuration,
    },
    /// DeleteFleets, terminating its instances, and wait until none is left.
    DeleteFleet {
        /// Give up waiting after this long (virtual).
        timeout: SimDuration,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::CreateFleet => write!(f, "create the fleet"),
            Action::WaitFulfilled { .. } => write!(f, "wait for fulfilment"),
            Action::Hold { duration } => write!(f, "hold {duration}"),
            Action::ModifyCapacity { capacity } => write!(f, "set target capacity to {capacity}"),
            Action::Interrupt { count: Some(n) } => write!(f, "interrupt {n} Spot instance(s)"),
            Action::Interrupt { count: None } => write!(f, "interrupt every Spot instance"),
            Action::WaitReplenished { .. } => write!(f, "wait for replenishment"),
            Action::WaitAlarm { state, .. } => write!(f, "wait for the alarm to be {state}"),
            Action::DeleteFleet { .. } => write!(f, "delete the fleet"),
        }
    }
}

/// An inclusive range a measured value must fall in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// Lowest allowed.
    pub min: f64,
    /// Highest allowed.
    pub max: f64,
}

impl Range {
    /// Whether `value` is inside.
    pub fn contains(self, value: f64) -> bool {
        value >= self.min && value <= self.max
    }
}

/// How many notifications a topic must have delivered in the phase.
#[derive(Clone, Debug, PartialEq)]
pub enum NotificationCount {
    /// Exactly this many.
    Exactly(u64),
    /// One per Spot instance the fleet removed with an interruption notice in the
    /// phase, each instance named once.
    PerInterruption,
}

/// One expectation, checked when its step ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// The alarm's state.
    Alarm(String),
    /// Errors / requests over the phase so far.
    ErrorRate(Range),
    /// Median latency over the phase, milliseconds.
    P50Ms(Range),
    /// 99th percentile latency over the phase, milliseconds.
    P99Ms(Range),
    /// Successful requests per second over the phase.
    SuccessRate(Range),
    /// The fleet's fulfilled capacity.
    Capacity(f64),
    /// Messages a topic delivered in the phase.
    Notifications {
        /// The topic's name.
        topic: String,
        /// How many.
        count: NotificationCount,
    },
    /// Spot instances removed with an interruption notice in the phase.
    Interruptions(Range),
    /// Every interrupted instance's agent drained and wrote its checkpoint.
    AllDrained,
    /// Requests the agents made (their checkpoints) minus those CloudWatch counted.
    LostRequests(u64),
    /// Instances still pending, running or shutting down.
    Running(u64),
    /// What the run's instances cost so far, USD.
    CostUsd(Range),
    /// USD per 1,000 successful requests so far.
    CostPerThousand(Range),
}

// ---- The file as written -------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: String,
    description: Option<String>,
    #[serde(default = "default_scale")]
    time_scale: u32,
    #[serde(default = "default_seed")]
    seed: u64,
    target: TargetFile,
    stack: FileRef,
    fleet: FleetFile,
    #[serde(default)]
    agent: BTreeMap<String, toml::Value>,
    alarm: Option<String>,
    steps: Vec<StepFile>,
}

fn default_scale() -> u32 {
    60
}

fn default_seed() -> u64 {
    11
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    rate: Option<f64>,
    burst: Option<u32>,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRef {
    file: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    file: Option<String>,
    request: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    phase: Option<String>,
    #[serde(rename = "do")]
    action: String,
    duration: Option<String>,
    timeout: Option<String>,
    capacity: Option<u32>,
    count: Option<u32>,
    state: Option<String>,
    #[serde(default)]
    expect: ExpectFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectFile {
    alarm: Option<String>,
    error_rate: Option<Vec<f64>>,
    p50_ms: Option<Vec<f64>>,
    p99_ms: Option<Vec<f64>>,
    success_rate: Option<Vec<f64>>,
    capacity: Option<f64>,
    #[serde(default)]
    notifications: Vec<NotificationsFile>,
    interruptions: Option<Vec<f64>>,
    all_drained: Option<bool>,
    lost_requests: Option<u64>,
    running: Option<u64>,
    cost_usd: Option<Vec<f64>>,
    cost_per_1000: Option<Vec<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationsFile {
    topic: String,
    count: toml::Value,
}

const ALARM_STATES: [&str; 3] = ["OK", "ALARM", "INSUFFICIENT_DATA"];

/// Parses and checks a scenario's text; referenced files are read through `files`.
pub fn parse(text: &str, files: &dyn Files) -> anyhow::Result<Scenario> {
    let file: File = toml::from_str(text)?;
    ensure!(
        (1..=10_000).contains(&file.time_scale),
        "time_scale must be between 1 and 10000, not {}",
        file.time_scale
    );
    let target = match (file.target.rate, file.target.url) {
        (Some(rate), None) => {
            ensure!(
                rate.is_finite() && rate > 0.0,
                "target.rate must be a positive number of requests per second"
            );
            Target::Builtin {
                rate,
                burst: file.target.burst,
            }
        }
        (None, Some(url)) => {
            ensure!(
                url.starts_with("http://"),
                "target.url must be an http:// URL (the agent does not speak HTTPS)"
            );
            Target::Url(url)
        }
        _ => bail!("[target] needs exactly one of `rate` (spotlab's own target) or `url`"),
    };
    let stack_text = files
        .read(&file.stack.file)
        .with_context(|| format!("reading the stack {}", files.describe(&file.stack.file)))?;
    let fleet = match (file.fleet.file, file.fleet.request) {
        (Some(name), None) => files
            .read(&name)
            .with_context(|| format!("reading the fleet request {}", files.describe(&name)))?,
        (None, Some(request)) => serde_json::to_string(&request)?,
        _ => bail!("[fleet] needs exactly one of `file` or `request`"),
    };
    let agent_args = agent_args(&file.agent)?;
    ensure!(!file.steps.is_empty(), "a scenario needs at least one step");
    let mut steps = Vec::with_capacity(file.steps.len());
    for (index, step) in file.steps.into_iter().enumerate() {
        let step = parse_step(step).with_context(|| format!("in steps[{index}]"))?;
        steps.push(step);
    }
    ensure!(
        steps
            .iter()
            .find(|s| !matches!(s.action, Action::Hold { .. }))
            .is_some_and(|s| s.action == Action::CreateFleet),
        "the first step other than `hold` must be `create-fleet`"
    );
    Ok(Scenario {
        name: file.name,
        description: file.description,
        time_scale: file.time_scale,
        seed: file.seed,
        target,
        stack: (stack_text, files.describe(&file.stack.file)),
        fleet,
        agent_args,
        alarm: file.alarm,
        steps,
        limits: Limits {
            max_instances: 64,
            max_hourly_usd: 10.0,
        },
        agent_binary: None,
    })
}

/// `[agent]` keys are `spotlab agent`'s flags with underscores: `drain_before = "20s"`
/// becomes `--drain-before 20s`, `drain_on_rebalance = true` becomes the bare flag.
fn agent_args(table: &BTreeMap<String, toml::Value>) -> anyhow::Result<Vec<String>> {
    const ALLOWED: [&str; 8] = [
        "callers",
        "rate",
        "timeout",
        "late_after",
        "max_connections_per_caller",
        "imds_interval",
        "drain_before",
        "drain_on_rebalance",
    ];
    let mut args = Vec::new();
    for (key, value) in table {
        ensure!(
            ALLOWED.contains(&key.as_str()),
            "[agent] has no setting {key:?}; settings: {}",
            ALLOWED.join(", ")
        );
        let flag = format!("--{}", key.replace('_', "-"));
        match value {
            toml::Value::Boolean(true) => args.push(flag),
            toml::Value::Boolean(false) => {}
            toml::Value::String(text) => {
                ensure!(
                    text.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".:_-".contains(c)),
                    "[agent] {key} = {text:?}: only letters, digits and . : _ - are allowed"
                );
                args.extend([flag, text.clone()]);
            }
            toml::Value::Integer(n) => args.extend([flag, n.to_string()]),
            toml::Value::Float(x) => args.extend([flag, x.to_string()]),
            other => bail!("[agent] {key} = {other}: expected a string, number or boolean"),
        }
    }
    Ok(args)
}

fn duration(text: Option<&str>, what: &str, default: Option<&str>) -> anyhow::Result<SimDuration> {
    let Some(text) = text.or(default) else {
        bail!("needs `{what}` (e.g. \"3m\")");
    };
    SimDuration::parse(text)
        .filter(|d| *d > SimDuration::ZERO)
        .ok_or_else(|| anyhow::anyhow!("{what} = {text:?} is not a duration such as 90s or 3m"))
}

fn parse_step(step: StepFile) -> anyhow::Result<Step> {
    let timeout = || duration(step.timeout.as_deref(), "timeout", Some("15m"));
    let action = match step.action.as_str() {
        "create-fleet" => Action::CreateFleet,
        "wait-fulfilled" => Action::WaitFulfilled {
            timeout: timeout()?,
        },
        "hold" => Action::Hold {
            duration: duration(step.duration.as_deref(), "duration", None)?,
        },
        "modify-capacity" => Action::ModifyCapacity {
            capacity: step
                .capacity
                .ok_or_else(|| anyhow::anyhow!("modify-capacity needs `capacity`"))?,
        },
        "interrupt" => Action::Interrupt { count: step.count },
        "wait-replenished" => Action::WaitReplenished {
            timeout: timeout()?,
        },
        "wait-alarm" => {
            let state = step
                .state
                .clone()
                .ok_or_else(|| anyhow::anyhow!("wait-alarm needs `state`"))?;
            ensure!(
                ALARM_STATES.contains(&state.as_str()),
                "state = {state:?}: expected one of {}",
                ALARM_STATES.join(", ")
            );
            Action::WaitAlarm {
                state,
                timeout: timeout()?,
            }
        }
        "delete-fleet" => Action::DeleteFleet {
            timeout: timeout()?,
        },
        other => bail!(
            "do = {other:?}: expected create-fleet, wait-fulfilled, hold, modify-capacity, \
             interrupt, wait-replenished, wait-alarm or delete-fleet"
        ),
    };
    Ok(Step {
        phase: step.phase,
        action,
        expect: expectations(step.expect)?,
    })
}

fn range(values: Vec<f64>, what: &str) -> anyhow::Result<Range> {
    match values.as_slice() {
        [min, max] if min.is_finite() && max.is_finite() && min <= max => Ok(Range {
            min: *min,
            max: *max,
        }),
        _ => bail!("{what} must be [min, max] with min <= max, not {values:?}"),
    }
}

fn expectations(file: ExpectFile) -> anyhow::Result<Vec<Expect>> {
    let mut out = Vec::new();
    if let Some(state) = file.alarm {
        ensure!(
            ALARM_STATES.contains(&state.as_str()),
            "expect.alarm = {state:?}: expected one of {}",
            ALARM_STATES.join(", ")
        );
        out.push(Expect::Alarm(state));
    }
    if let Some(r) = file.error_rate {
        let r = range(r, "expect.error_rate")?;
        ensure!(
            r.min >= 0.0 && r.max <= 1.0,
            "expect.error_rate is a ratio from 0 to 1"
        );
        out.push(Expect::ErrorRate(r));
    }
    if let Some(r) = file.p50_ms {
        out.push(Expect::P50Ms(range(r, "expect.p50_ms")?));
    }
    if let Some(r) = file.p99_ms {
        out.push(Expect::P99Ms(range(r, "expect.p99_ms")?));
    }
    if let Some(r) = file.success_rate {
        out.push(Expect::SuccessRate(range(r, "expect.success_rate")?));
    }
    if let Some(c) = file.capacity {
        out.push(Expect::Capacity(c));
    }
    for n in file.notifications {
        let count = match &n.count {
            toml::Value::Integer(c) if *c >= 0 => NotificationCount::Exactly(c.unsigned_abs()),
            toml::Value::String(s) if s == "per-interruption" => NotificationCount::PerInterruption,
            other => bail!(
                "expect.notifications.count = {other}: expected a number or \"per-interruption\""
            ),
        };
        out.push(Expect::Notifications {
            topic: n.topic,
            count,
        });
    }
    if let Some(r) = file.interruptions {
        out.push(Expect::Interruptions(range(r, "expect.interruptions")?));
    }
    if file.all_drained == Some(true) {
        out.push(Expect::AllDrained);
    }
    if let Some(n) = file.lost_requests {
        out.push(Expect::LostRequests(n));
    }
    if let Some(n) = file.running {
        out.push(Expect::Running(n));
    }
    if let Some(r) = file.cost_usd {
        out.push(Expect::CostUsd(range(r, "expect.cost_usd")?));
    }
    if let Some(r) = file.cost_per_1000 {
        out.push(Expect::CostPerThousand(range(r, "expect.cost_per_1000")?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoFiles;
    impl Files for NoFiles {
        fn read(&self, name: &str) -> anyhow::Result<String> {
            Ok(format!("# {name}"))
        }
        fn describe(&self, name: &str) -> String {
            name.to_owned()
        }
    }

    const MINIMAL: &str = r#"
name = "t"
[target]
rate = 5
[stack]
file = "s.toml"
[fleet]
file = "f.json"
[agent]
drain_before = "20s"
drain_on_rebalance = true
[[steps]]
phase = "4 units"
do = "create-fleet"
[[steps]]
do = "hold"
duration = "3m"
expect = { alarm = "OK", error_rate = [0, 0.01], notifications = [{ topic = "a", count = 0 }] }
"#;

    #[test]
    fn a_scenario_is_checked_into_steps_and_expectations() {
        let s = parse(MINIMAL, &NoFiles).expect("it parses");
        assert_eq!(s.time_scale, 60);
        assert_eq!(
            s.target,
            Target::Builtin {
                rate: 5.0,
                burst: None
            }
        );
        assert_eq!(s.fleet, "# f.json");
        assert_eq!(
            s.agent_args,
            ["--drain-before", "20s", "--drain-on-rebalance"]
        );
        assert_eq!(s.steps.len(), 2);
        assert_eq!(s.steps[0].phase.as_deref(), Some("4 units"));
        assert_eq!(
            s.steps[1].action,
            Action::Hold {
                duration: SimDuration::from_secs(180)
            }
        );
        assert_eq!(
            s.steps[1].expect,
            vec![
                Expect::Alarm("OK".into()),
                Expect::ErrorRate(Range {
                    min: 0.0,
                    max: 0.01
                }),
                Expect::Notifications {
                    topic: "a".into(),
                    count: NotificationCount::Exactly(0)
                },
            ]
        );
    }

    #[test]
    fn mistakes_are_reported_with_what_was_expected() {
        let cases = [
            (
                MINIMAL.replace("do = \"hold\"", "do = \"sleep\""),
                "do = \"sleep\"",
            ),
            (
                MINIMAL.replace("alarm = \"OK\"", "alarm = \"Ok\""),
                "expected one of OK",
            ),
            (MINIMAL.replace("[0, 0.01]", "[0.5, 0.1]"), "min <= max"),
            (MINIMAL.replace("rate = 5", "rate = -1"), "positive"),
            (
                MINIMAL.replace("drain_before", "drain_later"),
                "no setting \"drain_later\"",
            ),
            (MINIMAL.replace("duration = \"3m\"", ""), "needs `duration`"),
            (
                MINIMAL.replace("do = \"create-fleet\"", "do = \"delete-fleet\""),
                "must be `create-fleet`",
            ),
        ];
        for (text, want) in cases {
            let error = format!("{:#}", parse(&text, &NoFiles).unwrap_err());
            assert!(error.contains(want), "{error:?} should say {want:?}");
        }
    }
}
