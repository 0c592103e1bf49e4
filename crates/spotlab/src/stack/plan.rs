//! `spotlab stack up --dry-run`: what the stack has, and what its instances would cost
//! an hour at the Spot prices in force now (DescribeSpotPriceHistory through the SDK, so
//! the local cloud's market or AWS's). With `--fleet`, a CreateFleet request is priced
//! at its target capacity against the guardrails. Nothing is created.

use std::io::Write as _;

use anyhow::Context as _;
use simtime::{SimDuration, SimTime};

use super::spec::Stack;
use crate::aws::Clients;
use crate::cli::StackUpArgs;
use crate::run::{dry_run, probe};

/// The endpoint's now: the local cloud's virtual time when it says (its health
/// answer), else the wall clock (AWS, moto).
async fn now(args: &StackUpArgs) -> SimTime {
    let wall = crate::run::cloud::wall_now();
    if args.stack.aws.aws {
        return wall;
    }
    crate::run::cloud::now_at(args.stack.aws.endpoint.as_str())
        .await
        .unwrap_or(wall)
}

/// Prints the plan.
pub async fn show(clients: &Clients, stack: &Stack, args: &StackUpArgs) -> anyhow::Result<()> {
    let now = now(args).await;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Dry run of stack {} at {}: nothing is created.\n\nThe stack has (each tagged spotlab:stack={}):",
        stack.name,
        args.stack.aws.target(),
        stack.name
    )?;
    for line in super::resources(stack) {
        writeln!(out, "  {line}")?;
    }
    writeln!(
        out,
        "\nThe VPC, subnets, security group, launch template, role and instance profile \
         cost nothing; the bucket, alarms, topics and rules bill by use; instances bill \
         by the second."
    )?;
    let zones: Vec<String> = stack
        .subnets
        .iter()
        .map(|s| s.availability_zone.clone())
        .collect();
    if let Some(kind) = stack
        .launch_template
        .as_ref()
        .and_then(|t| t.instance_type.clone())
    {
        writeln!(
            out,
            "\nAn instance of the launch template's type, an hour at {now} (USD):"
        )?;
        let mut rows = Vec::new();
        for zone in &zones {
            let prices =
                probe::spot_prices(clients, &kind, zone, now - SimDuration::from_hours(6), now)
                    .await?;
            rows.push(vec![
                kind.clone(),
                zone.clone(),
                prices
                    .last()
                    .map_or("-".to_owned(), |p| format!("{:.4}", p.1)),
                probe::on_demand(&kind).map_or("-".to_owned(), |p| format!("{p:.4}")),
            ]);
        }
        writeln!(
            out,
            "{}",
            crate::view::table(&["type", "zone", "Spot", "On-Demand"], &rows).trim_end()
        )?;
    }
    if let Some(path) = &args.fleet {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the fleet request {}", path.display()))?;
        let request = dry_run::planned_request(stack, &text)
            .with_context(|| format!("fleet request {}", path.display()))?;
        let pools = dry_run::price(clients, &request, now).await?;
        let capacity = u32::try_from(request.target_capacity()).unwrap_or(0);
        let limits = crate::run::scenario::Limits {
            max_instances: args.max_instances,
            max_hourly_usd: args.max_hourly_usd,
        };
        dry_run::write_costs(&mut out, &request, &pools, now, &[capacity], &limits)?;
    } else if stack.launch_template.is_some() {
        writeln!(
            out,
            "\n--fleet FILE prices a CreateFleet request on this stack at its target capacity."
        )?;
    }
    out.flush()?;
    Ok(())
}
