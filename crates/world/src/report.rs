//! The summary of a run: per fleet and per pool, what was launched, interrupted and
//! replaced, how long fleets ran below target, what it cost and what it saved against
//! On-Demand, and how many interruptions the advisor bands predicted for the same
//! instance-hours. Text and JSON forms.

use std::collections::BTreeMap;
use std::fmt;

use fleet::spec::Lifecycle;
use fleet::{Instance, InterruptionReason};
use market::{Cost, Pool, Price};
use serde::Serialize;
use simtime::{SimDuration, SimTime};

use crate::World;

/// One fleet's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetSummary {
    /// Fleet id.
    pub fleet_id: String,
    /// `maintain`, `request` or `instant`.
    pub fleet_type: &'static str,
    /// Spot allocation strategy as echoed.
    pub spot_strategy: &'static str,
    /// Final state.
    pub state: &'static str,
    /// Final target.
    pub target: u32,
    /// Final fulfilled capacity.
    pub fulfilled: f64,
    /// Instances launched in all.
    pub launched: usize,
    /// Of those, replacements of lost capacity.
    pub replacements: usize,
    /// Interruptions (capacity, price or injected; scale-down notices excluded).
    pub interruptions: usize,
    /// Scale-down notices.
    pub scale_down_notices: usize,
    /// Time its running capacity spent below target while active.
    pub time_below_target: SimDuration,
    /// What it cost.
    pub cost: Cost,
    /// What the same instance-hours would have cost On-Demand.
    pub on_demand_cost: Cost,
}

/// One pool's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoolSummary {
    /// The pool.
    pub pool: Pool,
    /// Spot or On-Demand instances (a pool can appear twice).
    pub lifecycle: &'static str,
    /// The advisor's interruption band for the type.
    pub band: &'static str,
    /// Instances launched.
    pub launched: usize,
    /// Instances live at the end.
    pub live: usize,
    /// Interruptions (not counting scale-down notices).
    pub interruptions: usize,
    /// Interruptions the band's rate predicts for these Spot instance-hours.
    pub expected_interruptions: f64,
    /// Instance-hours running.
    pub instance_hours: f64,
    /// What they cost.
    pub cost: Cost,
    /// The pool's price at the end (Spot or On-Demand).
    pub price_now: Price,
}

/// A run's summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// The seed.
    pub seed: u64,
    /// Start of the run.
    pub start: SimTime,
    /// End of the run.
    pub end: SimTime,
    /// Per fleet.
    pub fleets: Vec<FleetSummary>,
    /// Per pool and purchase option, pools used only.
    pub pools: Vec<PoolSummary>,
    /// Total cost.
    pub cost: Cost,
    /// On-Demand cost of the same instance-hours.
    pub on_demand_cost: Cost,
    /// Savings against On-Demand, percent.
    pub savings_pct: f64,
}

fn interrupted(instance: &Instance) -> bool {
    instance
        .notice
        .is_some_and(|n| n.reason != InterruptionReason::ScaleDown)
}

/// Builds the summary of a world (costs must have been accrued to its `now`).
pub fn summarize(world: &mut World) -> Summary {
    let now = world.now();
    let engine = world.engine();
    let instances = engine.instance_map();
    let mut fleets = Vec::new();
    for fleet in engine.fleets() {
        let members: Vec<&Instance> = fleet
            .instances
            .iter()
            .filter_map(|id| instances.get(id))
            .collect();
        let replacements = world
            .log()
            .iter()
            .filter(|e| {
                matches!(&e.record, crate::LogRecord::Fleet(fleet::Event::Launched { fleet: f, replacement: true, .. }) if *f == fleet.id)
            })
            .count();
        fleets.push(FleetSummary {
            fleet_id: fleet.id.to_string(),
            fleet_type: fleet.spec.fleet_type.as_str(),
            spot_strategy: fleet.spec.spot.strategy.echo(),
            state: fleet.state.as_str(),
            target: fleet.spec.target.total,
            fulfilled: fleet.fulfilled(instances).as_f64(),
            launched: members.len(),
            replacements,
            interruptions: members.iter().filter(|i| interrupted(i)).count(),
            scale_down_notices: members
                .iter()
                .filter(|i| {
                    i.notice
                        .is_some_and(|n| n.reason == InterruptionReason::ScaleDown)
                })
                .count(),
            time_below_target: world
                .stats()
                .get(&fleet.id)
                .map(|s| s.below_target)
                .unwrap_or_default(),
            cost: members.iter().map(|i| i.cost).sum(),
            on_demand_cost: members.iter().map(|i| i.on_demand_cost).sum(),
        });
    }
    let mut by_pool: BTreeMap<(Pool, Lifecycle), Vec<Instance>> = BTreeMap::new();
    for instance in instances.values() {
        by_pool
            .entry((instance.pool, instance.lifecycle))
            .or_default()
            .push(instance.clone());
    }
    let mut pools = Vec::new();
    for ((pool, lifecycle), members) in by_pool {
        let hours: f64 = members.iter().map(|i| i.running_time.as_hours_f64()).sum();
        let rate = world.market_mut().monthly_reclaim_rate(pool);
        let price_now = match lifecycle {
            Lifecycle::Spot => world.spot_price(pool),
            Lifecycle::OnDemand => pool.instance_type_info().on_demand,
        };
        pools.push(PoolSummary {
            pool,
            lifecycle: lifecycle.as_str(),
            band: world.market_mut().band(pool).label(),
            launched: members.len(),
            live: members.iter().filter(|i| i.state.is_live()).count(),
            interruptions: members.iter().filter(|i| interrupted(i)).count(),
            expected_interruptions: if lifecycle == Lifecycle::Spot {
                hours * rate / (30.0 * 24.0)
            } else {
                0.0
            },
            instance_hours: hours,
            cost: members.iter().map(|i| i.cost).sum(),
            price_now,
        });
    }
    let cost: Cost = fleets.iter().map(|f| f.cost).sum();
    let on_demand_cost: Cost = fleets.iter().map(|f| f.on_demand_cost).sum();
    let savings_pct = if on_demand_cost.raw() == 0 {
        0.0
    } else {
        100.0 * (1.0 - cost.as_dollars_f64() / on_demand_cost.as_dollars_f64())
    };
    Summary {
        seed: world.config().market.seed,
        start: world.config().market.start,
        end: now,
        fleets,
        pools,
        cost,
        on_demand_cost,
        savings_pct,
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let span = self.end.saturating_since(self.start);
        writeln!(
            f,
            "Summary: {span} simulated from {} (seed {})",
            self.start, self.seed
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<62} {:<9} {:>6} {:>9} {:>8} {:>8} {:>8} {:>12} {:>10}",
            "fleet",
            "type",
            "target",
            "fulfilled",
            "launched",
            "interr.",
            "replaced",
            "below target",
            "cost"
        )?;
        for fleet in &self.fleets {
            writeln!(
                f,
                "{:<62} {:<9} {:>6} {:>9} {:>8} {:>8} {:>8} {:>12} {:>10}",
                format!("{} ({})", fleet.fleet_id, fleet.state),
                fleet.fleet_type,
                fleet.target,
                format!("{:.1}", fleet.fulfilled),
                fleet.launched,
                fleet.interruptions,
                fleet.replacements,
                fleet.time_below_target.to_string(),
                fleet.cost.to_string(),
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:<28} {:<9} {:<7} {:>8} {:>5} {:>9} {:>9} {:>10} {:>10} {:>11}",
            "pool",
            "lifecycle",
            "band",
            "launched",
            "live",
            "interr.",
            "expected",
            "inst-hours",
            "cost",
            "price now"
        )?;
        for pool in &self.pools {
            writeln!(
                f,
                "{:<28} {:<9} {:<7} {:>8} {:>5} {:>9} {:>9.3} {:>10.1} {:>10} {:>11}",
                pool.pool.to_string(),
                pool.lifecycle,
                pool.band,
                pool.launched,
                pool.live,
                pool.interruptions,
                pool.expected_interruptions,
                pool.instance_hours,
                pool.cost.to_string(),
                format!("{}/h", pool.price_now),
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "Cost {} vs {} On-Demand for the same instance-hours: {:.1}% saved.",
            self.cost, self.on_demand_cost, self.savings_pct
        )
    }
}
