//! `--dry-run`: what a run would create, and what its fleet would cost an hour at each
//! capacity its steps ask for, at the Spot prices in force now (DescribeSpotPriceHistory
//! through the SDK, so on the local cloud's market or on AWS's). Nothing is created.

use std::io::Write as _;

use simtime::SimDuration;

use super::cloud::Cloud;
use super::fleet_request::FleetRequest;
use super::probe;
use super::scenario::{Action, Limits, Scenario};
use crate::aws::Clients;
use crate::stack;

/// A pool's price now and what one unit of capacity costs there.
pub struct Pool {
    instance_type: String,
    zone: String,
    weight: f64,
    spot: Option<f64>,
    on_demand: Option<f64>,
}

/// Prints the plan.
pub async fn plan(scenario: &Scenario, cloud: &Cloud) -> anyhow::Result<()> {
    let clients = cloud.clients().await;
    let lookup = |name: &str| match name {
        "TARGET_URL" => Some("http://SERVICE/".to_owned()),
        "AGENT_ARGS" => Some(String::new()),
        other => std::env::var(other).ok(),
    };
    let (text, file) = &scenario.stack;
    let stack = stack::parse(text, &lookup).map_err(|e| e.context(format!("in {file}")))?;
    let request = planned_request(&stack, &scenario.fleet)?;
    let now = cloud.now().await?;
    let pools = price(&clients, &request, now).await?;
    let mut capacities: Vec<u32> = vec![u32::try_from(request.target_capacity()).unwrap_or(0)];
    for step in &scenario.steps {
        if let Action::ModifyCapacity { capacity } = step.action
            && !capacities.contains(&capacity)
        {
            capacities.push(capacity);
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "Dry run of {}: nothing is created.", scenario.name)?;
    writeln!(out, "\nThe stack {} would have:", stack.name)?;
    for line in stack::resources(&stack) {
        writeln!(out, "  {line}")?;
    }
    write_costs(
        &mut out,
        &request,
        &pools,
        now,
        &capacities,
        &scenario.limits,
    )?;
    out.flush()?;
    Ok(())
}

/// A fleet request for a stack that does not exist yet: the template's id is a
/// stand-in and the subnets stand for their zones.
pub fn planned_request(stack: &stack::spec::Stack, fleet: &str) -> anyhow::Result<FleetRequest> {
    let zones: Vec<String> = stack
        .subnets
        .iter()
        .map(|s| s.availability_zone.clone())
        .collect();
    FleetRequest::parse(fleet, &|name: &str| match name {
        "LAUNCH_TEMPLATE_ID" => Some("lt-(the stack's)".to_owned()),
        "SUBNET_ID_1" => zones.first().cloned(),
        "SUBNET_ID_2" => zones.get(1).cloned(),
        "SUBNET_ID_3" => zones.get(2).cloned(),
        _ => None,
    })
}

/// Each of the request's pools with its Spot price at `now` (the last in the six hours
/// before) and its type's On-Demand price.
pub async fn price(
    clients: &Clients,
    request: &FleetRequest,
    now: simtime::SimTime,
) -> anyhow::Result<Vec<Pool>> {
    let mut pools = Vec::new();
    for (instance_type, zone, weight) in request.pools() {
        let prices = probe::spot_prices(
            clients,
            &instance_type,
            &zone,
            now - SimDuration::from_hours(6),
            now,
        )
        .await?;
        pools.push(Pool {
            on_demand: probe::on_demand(&instance_type),
            spot: prices.last().map(|p| p.1),
            instance_type,
            zone,
            weight,
        });
    }
    Ok(pools)
}

/// The pools' prices, then an hour of the fleet at each capacity with the guardrails'
/// verdict.
pub fn write_costs(
    out: &mut dyn std::io::Write,
    request: &FleetRequest,
    pools: &[Pool],
    now: simtime::SimTime,
    capacities: &[u32],
    limits: &Limits,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "\nThe fleet's pools, Spot prices at {now} (USD an hour):"
    )?;
    let rows: Vec<Vec<String>> = pools
        .iter()
        .map(|p| {
            vec![
                p.instance_type.clone(),
                p.zone.clone(),
                format!("{}", p.weight),
                p.spot.map_or("-".to_owned(), |s| format!("{s:.4}")),
                p.on_demand.map_or("-".to_owned(), |s| format!("{s:.4}")),
                p.spot
                    .map_or("-".to_owned(), |s| format!("{:.4}", s / p.weight)),
            ]
        })
        .collect();
    writeln!(
        out,
        "{}",
        crate::view::table(
            &[
                "type",
                "zone",
                "weight",
                "Spot",
                "On-Demand",
                "Spot per unit"
            ],
            &rows
        )
    )?;
    let cheapest = pools
        .iter()
        .filter_map(|p| p.spot.map(|s| s / p.weight))
        .fold(f64::INFINITY, f64::min);
    writeln!(out, "\nAn hour of the fleet at each capacity:")?;
    let mut rows = Vec::new();
    for &capacity in capacities {
        let (instances, worst) = request.worst_case(capacity, &probe::on_demand)?;
        let expected = if cheapest.is_finite() {
            format!("{:.4}", cheapest * f64::from(capacity))
        } else {
            "-".to_owned()
        };
        let refused = instances > limits.max_instances || worst > limits.max_hourly_usd;
        rows.push(vec![
            capacity.to_string(),
            expected,
            format!("{worst:.4}"),
            instances.to_string(),
            if refused { "refused" } else { "allowed" }.to_owned(),
        ]);
    }
    writeln!(
        out,
        "{}",
        crate::view::table(
            &[
                "capacity",
                "USD/h at the cheapest pool",
                "USD/h worst case",
                "most instances",
                "guardrails"
            ],
            &rows
        )
        .trim_end()
    )?;
    writeln!(
        out,
        "\nGuardrails: --max-instances {}, --max-hourly-usd {}.",
        limits.max_instances, limits.max_hourly_usd
    )?;
    Ok(())
}
