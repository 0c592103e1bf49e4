//! Command-line interface: every flag is parsed here, once, into checked types.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use market::{ZoneId, catalog};
use simtime::{SimDuration, SimTime};

/// Test a web service from a fleet of Spot instances.
#[derive(Debug, Parser)]
#[command(name = "spotlab", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a CreateFleet request on the simulated Spot market and print the timeline
    /// and a summary (instances per pool, interruptions, replacements, time below
    /// target, cost and savings). The same seed gives byte-identical output.
    Simulate(SimulateArgs),
    /// Serve a rate-limited HTTP service to test against: `200 Hello World!` within the
    /// limit, `429 Throttling!` beyond it (the reference walkthrough's service, done
    /// properly).
    Target(target::TargetArgs),
    /// Call a service from N callers at a fixed rate each, on an absolute schedule,
    /// report every second, and drain cleanly on a Spot interruption notice.
    Agent(agent::AgentArgs),
    /// Serve the local cloud in the foreground: an EC2 endpoint the AWS CLI and SDKs
    /// use, instances as local processes with their own metadata service, a simulated
    /// Spot market, durable state.
    Up(UpArgs),
    /// Print the local cloud's event bus (EventBridge envelopes): interruption
    /// warnings, rebalance recommendations, instance state changes, fleet changes,
    /// alarm state changes, PutEvents' events; once or as they happen.
    Events(EventsArgs),
    /// Show CloudWatch alarms: state, since when, metric or expression, condition and
    /// the reason of the last change; once or refreshed.
    Alarms(AlarmsArgs),
    /// Show SNS topics with their subscriptions (protocol, endpoint, confirmed or
    /// pending); once or refreshed.
    Topics(TopicsArgs),
    /// Inject faults into the local cloud, in the spirit of AWS FIS: Spot
    /// interruptions, rebalance recommendations, pool capacity drops.
    Fault(FaultArgs),
    /// Create or delete a stack (network, security group, launch template, instance
    /// role and profile, checkpoint bucket, topics, alarms, rules) described by one TOML
    /// file, through the AWS SDKs, idempotently: the walkthrough's CloudFormation stack
    /// in spotlab's terms.
    Stack(StackArgs),
    /// Find every stack by its tag (`spotlab:stack`) and delete all of it: fleets and
    /// their instances first, then rules, alarms, topics, launch templates, security
    /// groups, subnets, VPCs, instance profiles, roles and buckets (`stack cleanup`).
    Cleanup(CleanupArgs),
    /// Run the reference walkthrough end to end on an embedded local cloud: the 5 req/s
    /// service, the stack, the fleet at 4, 8 and 2 units, the alarm and both topics,
    /// interruptions and drains; a live view, a verdict, a summary and an HTML report.
    Demo(DemoArgs),
    /// Run a scenario file: stack, service under test, fleet, steps and expectations;
    /// exit status 0 only if every expectation held.
    Run(RunArgs),
    /// Step a fleet's capacity up until the alarm trips and report the highest request
    /// rate the service sustains.
    FindLimit(FindLimitArgs),
    /// EC2 Fleet's calls shaped like the AWS CLI's, on the local cloud or (with --aws)
    /// on AWS: create-fleet, modify-fleet, describe-fleets, describe-fleet-instances,
    /// describe-fleet-history, delete-fleets, describe-instances,
    /// describe-spot-price-history.
    Ec2(Ec2Args),
}

/// `spotlab ec2`.
#[derive(Debug, clap::Args)]
pub struct Ec2Args {
    /// The call.
    #[command(subcommand)]
    pub call: Ec2Call,
    /// The endpoint (ignored with --aws).
    #[arg(
        long,
        global = true,
        env = "AWS_ENDPOINT_URL",
        default_value = "http://127.0.0.1:4747"
    )]
    pub endpoint_url: String,
    /// Send the calls to AWS itself (credentials and region from the standard chain:
    /// environment, --profile, shared files).
    #[arg(long, global = true)]
    pub aws: bool,
    /// The region [default: the chain's, else us-east-1].
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// A profile of the shared credentials and config files (with --aws).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// How to print the answer.
    #[arg(long, global = true, value_enum, default_value_t = Ec2Output::Json)]
    pub output: Ec2Output,
}

/// The AWS CLI's output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Ec2Output {
    /// JSON, as the service's members.
    Json,
    /// Tab-separated lines.
    Text,
    /// Tables.
    Table,
}

/// One EC2 call.
#[derive(Debug, Subcommand)]
pub enum Ec2Call {
    /// CreateFleet from a request in the AWS CLI's JSON.
    CreateFleet {
        /// `file://request.json` (or a path, or `-` for standard input).
        #[arg(long)]
        cli_input_json: String,
    },
    /// ModifyFleet's total target capacity.
    ModifyFleet {
        /// The fleet.
        #[arg(long)]
        fleet_id: String,
        /// The new total target capacity (the AWS CLI's
        /// `--target-capacity-specification TotalTargetCapacity=N`).
        #[arg(long = "target-capacity-specification", value_parser = parse_total_capacity)]
        total_target_capacity: i32,
    },
    /// DescribeFleets.
    DescribeFleets {
        /// Only these fleets.
        #[arg(long, num_args = 1..)]
        fleet_ids: Vec<String>,
    },
    /// DescribeFleetInstances (the fleet's active instances).
    DescribeFleetInstances {
        /// The fleet.
        #[arg(long)]
        fleet_id: String,
    },
    /// DescribeFleetHistory.
    DescribeFleetHistory {
        /// The fleet.
        #[arg(long)]
        fleet_id: String,
        /// From when (e.g. 2026-01-01T00:00:00Z).
        #[arg(long)]
        start_time: String,
    },
    /// DeleteFleets.
    DeleteFleets {
        /// The fleets.
        #[arg(long, num_args = 1.., required = true)]
        fleet_ids: Vec<String>,
        /// Terminate their instances (the default).
        #[arg(long, conflicts_with = "no_terminate_instances")]
        terminate_instances: bool,
        /// Leave their instances running.
        #[arg(long)]
        no_terminate_instances: bool,
    },
    /// DescribeInstances.
    DescribeInstances {
        /// Only these instances.
        #[arg(long, num_args = 1..)]
        instance_ids: Vec<String>,
        /// `Name=NAME,Values=V1,V2`; repeat for several.
        #[arg(long, num_args = 1..)]
        filters: Vec<String>,
    },
    /// DescribeSpotPriceHistory.
    DescribeSpotPriceHistory {
        /// Instance types.
        #[arg(long, num_args = 1..)]
        instance_types: Vec<String>,
        /// One zone.
        #[arg(long)]
        availability_zone: Option<String>,
        /// e.g. `Linux/UNIX`.
        #[arg(long, num_args = 1..)]
        product_descriptions: Vec<String>,
        /// At most this many prices.
        #[arg(long)]
        max_items: Option<usize>,
    },
}

fn parse_total_capacity(text: &str) -> Result<i32, String> {
    text.strip_prefix("TotalTargetCapacity=")
        .unwrap_or(text)
        .parse::<i32>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("{text:?}: expected TotalTargetCapacity=N"))
}

/// What `run`, `demo` and `find-limit` share.
#[derive(Debug, clap::Args)]
pub struct RunOptions {
    /// Run against a running local cloud (`spotlab up`) instead of an embedded one.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Run on AWS itself: real EC2 Fleet, CloudWatch, SNS and EventBridge, in real time,
    /// credentials from the standard chain. The service under test must be a URL the
    /// instances reach (--target-url or the scenario's), and the stack and fleet are
    /// deleted when the run ends, fails or is interrupted.
    #[arg(long, conflicts_with_all = ["endpoint", "time_scale"])]
    pub aws: bool,
    /// With --aws: the region [default: the standard chain's, else us-east-1].
    #[arg(long, requires = "aws")]
    pub region: Option<String>,
    /// With --aws: the shared-config profile [default: the standard chain's].
    #[arg(long, requires = "aws")]
    pub profile: Option<String>,
    /// The binary the stack's bucket gets for the instances to run, when the bucket
    /// has an `AgentKey` [default: this spotlab]; see `spotlab stack up`.
    #[arg(long, value_name = "PATH")]
    pub agent_binary: Option<PathBuf>,
    /// Virtual seconds per real second of the embedded cloud [default: the scenario's].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub time_scale: Option<u32>,
    /// The run's directory (report, checkpoints, the embedded cloud's state)
    /// [default: .spotlab/runs/NAME-TIME].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write the verdict as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Run spotlab's target at this many requests per second instead of the scenario's.
    #[arg(long, value_name = "F")]
    pub target_rate: Option<f64>,
    /// Test this URL instead of the scenario's service.
    #[arg(long, value_name = "URL")]
    pub target_url: Option<String>,
    /// Events and verdicts only, no status line.
    #[arg(long)]
    pub quiet: bool,
    /// Print what the run would create and what its fleet would cost an hour at each
    /// capacity, at the Spot prices in force now; create nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse any capacity that could need more instances than this (every unit
    /// filled by the smallest instance type of the request).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_instances: u64,
    /// Refuse any capacity that could cost more than this many USD an hour (every
    /// instance at the highest price the request may pay).
    #[arg(long, value_name = "USD", default_value_t = 10.0)]
    pub max_hourly_usd: f64,
}

/// `spotlab demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Options.
    #[command(flatten)]
    pub options: RunOptions,
}

/// `spotlab run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario (TOML); see examples/reference-walkthrough.toml.
    pub scenario: PathBuf,
    /// Options.
    #[command(flatten)]
    pub options: RunOptions,
}

/// `spotlab find-limit`.
#[derive(Debug, clap::Args)]
pub struct FindLimitArgs {
    /// The scenario whose stack, service and fleet to use (its steps are ignored)
    /// [default: the built-in reference walkthrough].
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// First target capacity.
    #[arg(long, default_value_t = 1)]
    pub start: u32,
    /// Capacity added per step.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub step: u32,
    /// Highest target capacity tried.
    #[arg(long, default_value_t = 32)]
    pub max: u32,
    /// How long each step holds once its capacity is fulfilled (virtual).
    #[arg(long, default_value = "3m", value_parser = parse_duration)]
    pub hold: SimDuration,
    /// Options.
    #[command(flatten)]
    pub options: RunOptions,
}

/// `spotlab up`.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Address to listen on [default: where this state directory listened before, else
    /// 127.0.0.1:4747]. Loopback unless you mean it.
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// State directory: the cloud's database and its instances' directories.
    #[arg(long, default_value = ".spotlab/cloud")]
    pub state_dir: PathBuf,
    /// Forget the state directory's cloud and start a new one (its processes are killed).
    #[arg(long)]
    pub reset: bool,
    /// Seed of the market and of resource ids (a new cloud; random if not given).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Virtual seconds per real second (a new cloud; 1 if not given).
    #[arg(long, env = clock::SCALE_ENV)]
    pub time_scale: Option<clock::TimeScale>,
    /// Most instances the host runs at once; launches beyond fail with
    /// InsufficientInstanceCapacity, as on EC2.
    #[arg(long, default_value_t = 100)]
    pub max_instances: u32,
    /// Most vCPUs (of the instance types launched) the host runs at once.
    #[arg(long, default_value_t = 1024)]
    pub max_vcpus: u64,
    /// Multiply every pool's natural interruption rate (0 turns them off).
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    pub interruption_scale: f64,
    /// Virtual time from pending to running.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub boot_delay: SimDuration,
    /// Instance metadata requires IMDSv2 tokens unless a launch template says otherwise.
    #[arg(long)]
    pub imds_require_token: bool,
    /// Verify SigV4 signatures: only this ACCESS_KEY:SECRET is accepted.
    #[arg(long, value_name = "ACCESS_KEY:SECRET", value_parser = parse_credentials)]
    pub require_auth: Option<aws_wire::sigv4::Credentials>,
    /// Trust this certificate authority (PEM) for SNS `https` subscriptions, besides
    /// the system's; repeatable.
    #[arg(long, value_name = "PEM_FILE")]
    pub trust_ca: Vec<std::path::PathBuf>,
}

impl UpArgs {
    /// The control plane's configuration.
    pub fn config(&self) -> anyhow::Result<controlplane::UpConfig> {
        let mut config = controlplane::UpConfig::new(self.state_dir.clone());
        config.listen = self.listen;
        config.reset = self.reset;
        config.seed = self.seed;
        config.time_scale = self.time_scale;
        config.host = Some(ec2::HostLimits {
            instances: self.max_instances,
            vcpus: self.max_vcpus,
        });
        config.interruption_scale = self.interruption_scale;
        config.boot_delay = self.boot_delay;
        config.imds_tokens_required = self.imds_require_token;
        config.require_auth = self.require_auth.clone();
        config.trusted_cas = self.trust_ca.clone();
        config.spotlab_dir = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(std::path::Path::to_path_buf));
        Ok(config)
    }
}

fn parse_credentials(text: &str) -> Result<aws_wire::sigv4::Credentials, String> {
    let (key, secret) = text
        .split_once(':')
        .filter(|(k, s)| !k.is_empty() && !s.is_empty())
        .ok_or_else(|| "expected ACCESS_KEY:SECRET".to_owned())?;
    Ok(aws_wire::sigv4::Credentials {
        access_key_id: key.to_owned(),
        secret_access_key: secret.to_owned(),
    })
}

/// The local cloud to talk to.
#[derive(Debug, clap::Args)]
pub struct EndpointArg {
    /// The local cloud's endpoint.
    #[arg(
        long,
        env = "SPOTLAB_ENDPOINT",
        default_value = "http://127.0.0.1:4747"
    )]
    pub endpoint: url::Url,
}

/// `spotlab events`.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Which cloud.
    #[command(flatten)]
    pub endpoint: EndpointArg,
    /// Keep printing events as they happen.
    #[arg(long, short)]
    pub follow: bool,
    /// Only events after this sequence number.
    #[arg(long, default_value_t = 0)]
    pub after: u64,
    /// Only events this EventBridge event pattern matches (JSON, as a rule's
    /// EventPattern), e.g. '{"source":["aws.cloudwatch"]}'.
    #[arg(long, value_name = "JSON", value_parser = parse_pattern)]
    pub pattern: Option<EventFilter>,
    /// Output: one line per event, or the bus's JSON lines (`{"seq", "event"}`).
    #[arg(long, alias = "output", value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// An event pattern, checked when the command line is parsed.
#[derive(Clone, Debug)]
pub struct EventFilter(pub watch::pattern::Pattern);

fn parse_pattern(text: &str) -> Result<EventFilter, String> {
    watch::pattern::Pattern::parse(text)
        .map(EventFilter)
        .map_err(|e| e.to_string())
}

/// Where the commands that speak AWS's APIs send their calls.
#[derive(Clone, Debug, clap::Args)]
pub struct AwsArgs {
    /// The endpoint of every service (the local cloud serves them all on one).
    #[arg(
        long,
        env = "AWS_ENDPOINT_URL",
        default_value = "http://127.0.0.1:4747",
        value_parser = parse_endpoint
    )]
    pub endpoint: url::Url,
    /// The region [default: with --aws, the standard chain's (AWS_REGION, the
    /// profile's), else us-east-1].
    #[arg(long)]
    pub region: Option<String>,
    /// Send the calls to AWS itself (credentials from the standard chain; --endpoint
    /// is ignored).
    #[arg(long)]
    pub aws: bool,
}

impl AwsArgs {
    /// Where the calls go, for messages: `AWS (REGION)` or the endpoint.
    pub fn target(&self) -> String {
        if self.aws {
            format!(
                "AWS ({})",
                self.region.as_deref().unwrap_or("the default region")
            )
        } else {
            self.endpoint.to_string()
        }
    }
}

fn parse_endpoint(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!(
            "{text:?}: the endpoint must be http:// or https://"
        ));
    }
    Ok(url)
}

/// `spotlab alarms`.
#[derive(Debug, clap::Args)]
pub struct AlarmsArgs {
    /// Where to ask.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Only alarms whose name starts with this.
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Refresh every SECS seconds (real time) until interrupted.
    #[arg(long, value_name = "SECS", value_parser = parse_refresh)]
    pub watch: Option<std::time::Duration>,
    /// Output: a table, or JSON (one document; one line per refresh with --watch).
    #[arg(long, alias = "output", value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `spotlab topics`.
#[derive(Debug, clap::Args)]
pub struct TopicsArgs {
    /// Where to ask.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Refresh every SECS seconds (real time) until interrupted.
    #[arg(long, value_name = "SECS", value_parser = parse_refresh)]
    pub watch: Option<std::time::Duration>,
    /// Output: a list, or JSON (one document; one line per refresh with --watch).
    #[arg(long, alias = "output", value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

fn parse_refresh(text: &str) -> Result<std::time::Duration, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.1..=86_400.0).contains(&secs) => {
            Ok(std::time::Duration::from_secs_f64(secs))
        }
        _ => Err(format!(
            "{text:?} is not a number of seconds between 0.1 and 86400"
        )),
    }
}

/// `spotlab stack`.
#[derive(Debug, clap::Args)]
pub struct StackArgs {
    /// What to do with the stack.
    #[command(subcommand)]
    pub action: StackAction,
}

/// `spotlab stack up|down`.
#[derive(Debug, Subcommand)]
pub enum StackAction {
    /// Create what is missing of the stack (a second run creates nothing) and print
    /// its outputs as JSON. `${NAME}` in the file is replaced by the environment
    /// variable NAME (`${NAME:-default}` when it may be unset).
    Up(StackUpArgs),
    /// Delete the stack: fleets launched from its template (and their instances),
    /// rules, alarms, subscriptions and topics, the launch template, security group,
    /// subnets and VPC. Nothing to delete is not an error.
    Down(StackFileArgs),
    /// Without the file: find every stack by its tag (`spotlab:stack`) and delete all
    /// of it: fleets and their instances first, then rules, alarms, topics, launch
    /// templates, security groups, subnets, VPCs, instance profiles, roles and buckets.
    Cleanup(CleanupArgs),
}

/// `spotlab stack cleanup`.
#[derive(Debug, clap::Args)]
pub struct CleanupArgs {
    /// Only this stack [default: every stack found].
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
    /// Where to look.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// How long to wait for the fleets' instances to terminate (real time).
    #[arg(long, default_value = "10m", value_parser = parse_wait)]
    pub wait: std::time::Duration,
}

/// `spotlab stack up`.
#[derive(Debug, clap::Args)]
pub struct StackUpArgs {
    /// The stack file and where to apply it.
    #[command(flatten)]
    pub stack: StackFileArgs,
    /// The binary `up` puts in the stack's bucket for the instances to run, when the
    /// bucket has an `AgentKey` [default: this spotlab]. On AWS it must run on the
    /// instances' image (e.g. a static x86_64-unknown-linux-musl build).
    #[arg(long, value_name = "PATH")]
    pub agent_binary: Option<PathBuf>,
    /// List what the stack has and what its instances would cost an hour at the Spot
    /// prices in force now; create nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: price this CreateFleet request (the AWS CLI's JSON, with
    /// `${LAUNCH_TEMPLATE_ID}` and `${SUBNET_ID_N}` placeholders) at its target
    /// capacity, against the guardrails below.
    #[arg(long, value_name = "FILE", requires = "dry_run")]
    pub fleet: Option<PathBuf>,
    /// With --fleet: the most instances a capacity may need.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_instances: u64,
    /// With --fleet: the most USD an hour a capacity may cost.
    #[arg(long, value_name = "USD", default_value_t = 10.0)]
    pub max_hourly_usd: f64,
}

/// The stack file and where to apply it.
#[derive(Debug, clap::Args)]
pub struct StackFileArgs {
    /// The stack file (TOML; see examples/walkthrough-stack.toml).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to apply it.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// How long `down` waits for the instances of the stack's fleets to terminate
    /// (real time).
    #[arg(long, default_value = "10m", value_parser = parse_wait)]
    pub wait: std::time::Duration,
}

fn parse_wait(text: &str) -> Result<std::time::Duration, String> {
    SimDuration::parse(text)
        .map(|d| std::time::Duration::from_millis(d.as_millis()))
        .ok_or_else(|| format!("{text:?} is not a duration such as 90s or 10m"))
}

/// `spotlab fault`.
#[derive(Debug, clap::Args)]
pub struct FaultArgs {
    /// Which cloud.
    #[command(flatten)]
    pub endpoint: EndpointArg,
    /// What to inject.
    #[command(subcommand)]
    pub fault: Fault,
}

/// A fault.
#[derive(Debug, Subcommand)]
pub enum Fault {
    /// Spot interruptions (2-minute notice, then the fleet's interruption behaviour).
    Interrupt {
        /// Which instances.
        #[command(flatten)]
        targets: TargetArgs,
        /// With --fleet or --pool: the share of its live Spot instances to interrupt,
        /// chosen at random (rounded up).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100))]
        percent: u32,
        /// Time to the interruption (at least 2m); longer sends a rebalance
        /// recommendation now and the notice 2 minutes before, like FIS's
        /// durationBeforeInterruption.
        #[arg(long, value_parser = parse_duration)]
        before: Option<SimDuration>,
    },
    /// Rebalance recommendations.
    Rebalance {
        /// Which instances.
        #[command(flatten)]
        targets: TargetArgs,
        /// With --fleet or --pool: the share of its live Spot instances.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100))]
        percent: u32,
    },
    /// Drop a pool's Spot capacity: instances above LEVEL are reclaimed.
    DropCapacity {
        /// TYPE/ZONE, e.g. t2.small/us-east-1a.
        #[arg(long, value_parser = parse_pool)]
        pool: (String, String),
        /// Spot instances the pool can still hold.
        #[arg(long, default_value_t = 0)]
        level: u32,
        /// For how long (virtual); until restored if not given.
        #[arg(long = "for", value_parser = parse_duration)]
        duration: Option<SimDuration>,
    },
    /// Restore a pool's natural capacity.
    RestoreCapacity {
        /// TYPE/ZONE.
        #[arg(long, value_parser = parse_pool)]
        pool: (String, String),
    },
}

/// Which instances a fault acts on.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct TargetArgs {
    /// These instances (repeat).
    #[arg(long = "instance", value_name = "ID")]
    pub instances: Vec<String>,
    /// This fleet's live Spot instances (a share with --percent).
    #[arg(long, value_name = "FLEET_ID")]
    pub fleet: Option<String>,
    /// This pool's live Spot instances, TYPE/ZONE (a share with --percent).
    #[arg(long, value_parser = parse_pool)]
    pub pool: Option<(String, String)>,
}

fn parse_pool(text: &str) -> Result<(String, String), String> {
    let (kind, zone) = text
        .split_once('/')
        .ok_or_else(|| format!("{text:?}: expected TYPE/ZONE, e.g. t2.small/us-east-1a"))?;
    Ok((kind.to_owned(), zone.to_owned()))
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: lines and tables.
    Text,
    /// For programs: JSON.
    Json,
}

/// `spotlab simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// CreateFleet request as JSON (the AWS CLI's --cli-input-json shape).
    #[arg(long, value_name = "FILE")]
    pub fleet: PathBuf,
    /// Virtual hours to simulate.
    #[arg(long, conflicts_with = "duration", value_parser = parse_hours)]
    pub hours: Option<SimDuration>,
    /// Virtual time to simulate, e.g. 90m, 7d, 1h30m.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<SimDuration>,
    /// Seed of the market and of resource ids.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// When the simulation starts (UTC).
    #[arg(long, value_parser = parse_time, default_value = "2026-01-01T00:00:00Z")]
    pub start: SimTime,
    /// Map a subnet id of the fleet request to a zone: subnet-0abc=us-east-1a. Repeat.
    #[arg(long = "subnet", value_name = "ID=ZONE", value_parser = parse_subnet)]
    pub subnets: Vec<(String, ZoneId)>,
    /// Multiply every pool's interruption rate (0 turns natural interruptions off).
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    pub interruption_scale: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Leave Spot price changes out of the timeline.
    #[arg(long)]
    pub no_prices: bool,
}

impl SimulateArgs {
    /// The span to simulate: --hours or --duration, else 24 hours.
    pub fn span(&self) -> SimDuration {
        self.hours
            .or(self.duration)
            .unwrap_or(SimDuration::from_hours(24))
    }
}

fn parse_hours(text: &str) -> Result<SimDuration, String> {
    let hours: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of hours"))?;
    if !(hours.is_finite() && hours > 0.0 && hours <= 24.0 * 365.0 * 10.0) {
        return Err("hours must be positive and at most ten years".to_owned());
    }
    Ok(SimDuration::from_millis(
        (hours * 3_600_000.0).round() as u64
    ))
}

fn parse_duration(text: &str) -> Result<SimDuration, String> {
    SimDuration::parse(text)
        .filter(|d| *d > SimDuration::ZERO)
        .ok_or_else(|| format!("{text:?} is not a duration such as 90m, 24h or 7d"))
}

fn parse_time(text: &str) -> Result<SimTime, String> {
    SimTime::parse(text).map_err(|e| e.to_string())
}

fn parse_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{text:?} is not a non-negative number")),
    }
}

fn parse_subnet(text: &str) -> Result<(String, ZoneId), String> {
    let (id, zone) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected SUBNET_ID=ZONE, e.g. subnet-0abc=us-east-1a"))?;
    let zone_id = catalog().zone_by_name(zone).ok_or_else(|| {
        let zones: Vec<&str> = catalog().zones().map(|(_, z)| z.name).collect();
        format!("unknown zone {zone:?}; zones: {}", zones.join(", "))
    })?;
    Ok((id.to_owned(), zone_id))
}
