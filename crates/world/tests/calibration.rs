//! Calibration of the whole simulator (the acceptance): over 30 simulated days,
//! the interruption frequency a maintain fleet sees in each pool falls in the pool's
//! Spot Advisor band. One diversified fleet keeps ~1,000 instances in each of five
//! us-east-1a pools, one per advisor band; per pool, interruptions per instance-month
//! (interruptions / (Spot instance-hours / 720)) must lie within `band.bounds()`.
//! Unlike `market/tests/calibration.rs`, which samples reclaim draws alone, this runs
//! the world: launches, replacements, capacity shortfalls and all. The measured table
//! is printed (`--nocapture`). The seed is fixed, not chosen to pass.

// A failed unwrap is a failed test. clippy.toml allows unwrap in `#[test]` functions but
// not in their helpers.
#![allow(clippy::unwrap_used)]

use fleet::wire::CreateFleetRequest;
use market::{InterruptionBand, MarketEvent, Pool, catalog};
use serde_json::json;
use simtime::SimDuration;
use world::{LogRecord, World, WorldConfig};

const SEED: u64 = 1;
const INSTANCES_PER_POOL: u32 = 1_000;
const ZONE: &str = "us-east-1a";
const HOURS_PER_MONTH: f64 = 720.0;

/// The pool of `band` the fleet uses: a type the advisor puts in that band, sold as Spot
/// in us-east-1a at some saving (diversified skips pools priced at On-Demand), with the
/// fewest vCPUs so that 1,000 instances fit in the pool's spare capacity (which the
/// market measures in vCPUs), then the first by name.
fn pool_of(band: InterruptionBand) -> Pool {
    let c = catalog();
    let zone = c.zone_by_name(ZONE).expect("zone in the catalogue");
    let (instance_type, _) = c
        .instance_types()
        .filter(|(_, t)| {
            t.spot_supported
                && t.advisor
                    .is_some_and(|a| a.band == band && a.savings_pct > 0)
        })
        .filter(|(id, _)| {
            c.is_offered(Pool {
                instance_type: *id,
                zone,
            })
        })
        .min_by_key(|(_, t)| (t.vcpus, t.name))
        .unwrap_or_else(|| panic!("a {} type in {ZONE}", band.label()));
    Pool {
        instance_type,
        zone,
    }
}

fn fleet_request(pools: &[Pool]) -> CreateFleetRequest {
    let target = INSTANCES_PER_POOL * pools.len() as u32;
    let overrides: Vec<_> = pools
        .iter()
        .map(|p| {
            json!({
                "InstanceType": p.type_name(),
                "AvailabilityZone": p.zone_name(),
                "WeightedCapacity": 1.0
            })
        })
        .collect();
    serde_json::from_value(json!({
        "Type": "maintain",
        "TargetCapacitySpecification": {
            "TotalTargetCapacity": target,
            "OnDemandTargetCapacity": 0,
            "SpotTargetCapacity": target,
            "DefaultTargetCapacityType": "spot"
        },
        "SpotOptions": {
            "AllocationStrategy": "diversified",
            "InstanceInterruptionBehavior": "terminate"
        },
        "LaunchTemplateConfigs": [{
            "LaunchTemplateSpecification": {
                "LaunchTemplateId": "lt-0a1b2c3d4e5f67890",
                "Version": "1"
            },
            "Overrides": overrides
        }]
    }))
    .expect("building the test fleet request")
}

#[test]
fn interruption_frequency_over_30_days_falls_in_each_advisor_band() {
    let bands = InterruptionBand::ALL;
    let pools: Vec<Pool> = bands.iter().map(|&b| pool_of(b)).collect();
    let mut world = World::new(WorldConfig::with_seed(SEED));
    world.create_fleet(&fleet_request(&pools)).unwrap();
    world.advance(SimDuration::from_days(30)).unwrap();
    let summary = world.summary();

    // Instances the market reclaimed because the pool's capacity fell below what we held
    // (as opposed to an instance's own reclaim draw), for the table.
    let shortfall = |pool: Pool| -> u32 {
        world
            .log()
            .iter()
            .filter_map(|e| match e.record {
                LogRecord::Market(MarketEvent::CapacityShortfall {
                    pool: p, excess, ..
                }) if p == pool => Some(excess),
                _ => None,
            })
            .sum()
    };

    eprintln!(
        "seed {SEED}, {} days, {INSTANCES_PER_POOL} instances per pool (target {})",
        30,
        INSTANCES_PER_POOL * pools.len() as u32
    );
    eprintln!(
        "{:<22} {:<7} {:>8} {:>5} {:>11} {:>8} {:>9} {:>10} {:>9} {:>13} {:>13}  ok",
        "pool",
        "band",
        "launched",
        "live",
        "inst-hours",
        "interr.",
        "shortfall",
        "expected",
        "per month",
        "excl. shortf.",
        "band bounds"
    );
    let mut failures = Vec::new();
    for (&band, &pool) in bands.iter().zip(&pools) {
        let row = summary
            .pools
            .iter()
            .find(|p| p.pool == pool && p.lifecycle == "spot")
            .unwrap_or_else(|| panic!("{pool} has Spot instances"));
        assert_eq!(row.band, band.label(), "{pool}");
        let months = row.instance_hours / HOURS_PER_MONTH;
        let rate = row.interruptions as f64 / months;
        let (low, high) = band.bounds();
        let ok = (low..=high).contains(&rate);
        let shortfall = shortfall(pool);
        // For diagnosis only: the rate of the instances' own reclaim draws, counting the
        // shortfall's victims out.
        let draws_only = row.interruptions.saturating_sub(shortfall as usize) as f64 / months;
        eprintln!(
            "{:<22} {:<7} {:>8} {:>5} {:>11.0} {:>8} {:>9} {:>10.1} {:>9.3} {:>13.3} {:>13}  {}",
            pool.to_string(),
            band.label(),
            row.launched,
            row.live,
            row.instance_hours,
            row.interruptions,
            shortfall,
            row.expected_interruptions,
            rate,
            draws_only,
            format!("[{low:.2}, {high:.2}]"),
            if ok { "yes" } else { "NO" }
        );
        if !ok {
            failures.push(format!(
                "{pool} ({}): {rate:.3} interruptions per instance-month, outside [{low}, {high}]",
                band.label()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
