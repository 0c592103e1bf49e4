//! `spotlab simulate`: the shell around [`world::World`]. Reads the fleet file, runs the
//! world for the requested span and prints the timeline and summary.

use std::io::Write;

use anyhow::{Context, bail};
use fleet::wire::CreateFleetRequest;
use serde::Serialize;
use world::{LogRecord, World, WorldConfig};

use crate::cli::{Format, SimulateArgs};

/// The JSON form of a run.
#[derive(Serialize)]
struct JsonOutput<'a> {
    seed: u64,
    start: simtime::SimTime,
    duration: simtime::SimDuration,
    fleet_id: &'a str,
    timeline: Vec<&'a world::LogEntry>,
    summary: &'a world::Summary,
}

/// Runs the command.
pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.fleet)
        .with_context(|| format!("reading {}", args.fleet.display()))?;
    let request: CreateFleetRequest = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid CreateFleet request",
            args.fleet.display()
        )
    })?;

    let mut config = WorldConfig::with_seed(args.seed);
    config.market.start = args.start;
    config.market.interruption_scale = args.interruption_scale;
    let mut world = World::new(config);
    for (subnet, zone) in &args.subnets {
        world.add_subnet(subnet, *zone);
    }
    let fleet_id = match world.create_fleet(&request) {
        Ok(id) => id,
        Err(error) => {
            let hint = if error.to_string().contains("InvalidSubnetID") {
                "\nhint: map the request's subnets to zones with --subnet SUBNET_ID=us-east-1a"
            } else {
                ""
            };
            bail!("CreateFleet failed: {error}{hint}");
        }
    };
    let span = args.span();
    world.advance(span).context("advancing the simulation")?;
    let summary = world.summary();

    let timeline: Vec<&world::LogEntry> = world
        .log()
        .iter()
        .filter(|e| {
            !(args.no_prices
                && matches!(
                    e.record,
                    LogRecord::Market(market::MarketEvent::PriceChanged { .. })
                ))
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Text => {
            writeln!(
                out,
                "Simulating {} for {span} from {} (seed {})",
                args.fleet.display(),
                args.start,
                args.seed
            )?;
            writeln!(out)?;
            for entry in &timeline {
                writeln!(out, "{entry}")?;
            }
            writeln!(out)?;
            write!(out, "{summary}")?;
        }
        Format::Json => {
            let document = JsonOutput {
                seed: args.seed,
                start: args.start,
                duration: span,
                fleet_id: fleet_id.as_str(),
                timeline,
                summary: &summary,
            };
            serde_json::to_writer_pretty(&mut out, &document)?;
            writeln!(out)?;
        }
    }
    Ok(())
}
