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
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A timeline, one event per line, then a summary table.
    Text,
    /// One JSON document: configuration, timeline and summary.
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
