//! `spotlab agent`'s command line, parsed once into checked types.

use std::time::Duration;

use clock::TimeScale;
use simtime::SimDuration;

/// Flags of `spotlab agent`. Every duration and rate is in virtual time.
#[derive(Debug, Clone, clap::Args)]
pub struct AgentArgs {
    /// The service to test (http://HOST:PORT/PATH). HTTPS is not supported.
    #[arg(long, env = "SPOTLAB_TARGET_URL")]
    pub url: String,
    /// Number of callers. Default: one per vCPU of the instance type read from the
    /// instance metadata, else one per CPU of this machine.
    #[arg(long)]
    pub callers: Option<u32>,
    /// Requests per second per caller.
    #[arg(long, default_value_t = 1.0, value_parser = parse_rate)]
    pub rate: f64,
    /// A request with no complete response after this long counts as a timeout.
    #[arg(long, default_value = "5s", value_parser = parse_span)]
    pub timeout: Duration,
    /// Stop after this long (default: run until a signal or an interruption notice).
    #[arg(long, value_parser = parse_span)]
    pub duration: Option<Duration>,
    /// A send that leaves more than this after its scheduled time is counted late.
    /// Default: a tenth of the interval between a caller's sends.
    #[arg(long, value_parser = parse_span)]
    pub late_after: Option<Duration>,
    /// Connections one caller may hold open at once; a send due when all are busy is
    /// skipped and counted.
    #[arg(long, default_value_t = 64)]
    pub max_connections_per_caller: u32,
    /// Where per-second reports go; repeat for several. `-` or `stdout` (JSON lines),
    /// a file path or `file://PATH` (JSON lines, appended), an `http://` URL of the
    /// control plane's metrics API (the report path is added to a bare host URL), or
    /// `cloudwatch[:NAMESPACE]` (PutMetricData in namespace `spotlab` by default; region,
    /// endpoint and credentials from the standard AWS SDK chain).
    #[arg(
        long = "report",
        value_name = "SINK",
        env = "SPOTLAB_REPORT_TO",
        value_delimiter = ','
    )]
    pub reports: Vec<String>,
    /// Instance metadata: `auto` (AWS_EC2_METADATA_SERVICE_ENDPOINT, else probe
    /// 169.254.169.254 once), `off`, or an endpoint URL.
    #[arg(long, default_value = "auto")]
    pub imds: String,
    /// How often to poll the instance metadata for interruption notices.
    #[arg(long, default_value = "5s", value_parser = parse_span)]
    pub imds_interval: Duration,
    /// Stop sending this long before an interruption's action time.
    #[arg(long, default_value = "20s", value_parser = parse_span)]
    pub drain_before: Duration,
    /// Also drain on a rebalance recommendation (default: log it and keep testing).
    #[arg(long)]
    pub drain_on_rebalance: bool,
    /// Where the checkpoint goes: an object_store URL (`file:///dir/`, `s3://bucket/prefix/`).
    /// Default: `file://` under the current directory's `checkpoints/`.
    #[arg(long, env = "SPOTLAB_CHECKPOINT_URL")]
    pub checkpoint: Option<String>,
    /// Fleet id to stamp on reports (default: the instance's `aws:ec2:fleet-id` tag from
    /// the instance metadata, when readable).
    #[arg(long, env = "SPOTLAB_FLEET_ID")]
    pub fleet_id: Option<String>,
    /// Instance id to stamp on reports (default: from the instance metadata).
    #[arg(long)]
    pub instance_id: Option<String>,
    /// Runtime worker threads (0: one per CPU).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Virtual seconds per real second.
    #[arg(long, env = clock::SCALE_ENV)]
    pub time_scale: Option<TimeScale>,
    /// Print the exit summary as JSON instead of text.
    #[arg(long)]
    pub summary_json: bool,
}

fn parse_span(text: &str) -> Result<Duration, String> {
    SimDuration::parse(text)
        .map(|d| Duration::from_millis(d.as_millis()))
        .ok_or_else(|| format!("{text:?} is not a duration such as 250ms, 5s or 2m"))
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 && rate <= 1_000_000.0 => Ok(rate),
        _ => Err(format!(
            "{text:?} is not a rate between 0 and 1000000 per second"
        )),
    }
}
