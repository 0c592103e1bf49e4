//! Fixtures shared by spotlab's benchmarks (`benches/core.rs`) and by the tests below
//! that keep them honest: CreateFleet requests over many real Spot pools, an allocation
//! input built from a validated spec and a market snapshot, and a world running a
//! maintain fleet.
//!
//! Everything here is deterministic: pools are taken in catalogue order, markets are
//! seeded. This crate measures the core; it changes nothing in it.

use std::collections::BTreeSet;

use fleet::allocate::{Allocation, Offerings, Request, Strategy, allocate};
use fleet::spec::{FleetSpec, PurchaseLimits, SpotAllocationStrategy, Units};
use fleet::validate::{StaticEnvironment, validate_create};
use fleet::wire::CreateFleetRequest;
use fleet::{FleetError, FleetId};
use market::{InstanceType, Market, MarketConfig, Pool, Price, catalog};
use simtime::SimDuration;
use world::{World, WorldConfig, WorldError};

/// The seed of every market the fixtures build.
pub const SEED: u64 = 1;

/// The launch template every request names; the simulator resolves any template.
const LAUNCH_TEMPLATE_ID: &str = "lt-0a1b2c3d4e5f67890";

/// Spot strategies to benchmark, each with its CreateFleet spelling.
pub const SPOT_STRATEGIES: [(&str, SpotAllocationStrategy); 4] = [
    ("lowest-price", SpotAllocationStrategy::LowestPrice),
    ("diversified", SpotAllocationStrategy::Diversified),
    (
        "capacity-optimized",
        SpotAllocationStrategy::CapacityOptimized,
    ),
    (
        "price-capacity-optimized",
        SpotAllocationStrategy::PriceCapacityOptimized,
    ),
];

/// `InstancePoolsToUseCount` for lowest-price (ignored by the other strategies).
pub const POOLS_TO_USE: u32 = 2;

/// The first `count` pools, in catalogue order, whose type is sold as Spot and has at
/// most `max_vcpus` vCPUs. Fewer if the catalogue has fewer.
pub fn spot_pools(count: usize, max_vcpus: u32) -> Vec<Pool> {
    first_pools(count, |info| info.spot_supported && info.vcpus <= max_vcpus)
}

/// Like [`spot_pools`], but only types the Spot Advisor shows a saving for: a type
/// with no saving is priced at On-Demand, and `diversified` skips such pools, which
/// would leave overrides unused.
pub fn discounted_spot_pools(count: usize, max_vcpus: u32) -> Vec<Pool> {
    first_pools(count, |info| {
        info.spot_supported && info.vcpus <= max_vcpus && info.advisor_or_default().savings_pct > 0
    })
}

fn first_pools(count: usize, keep: impl Fn(&InstanceType) -> bool) -> Vec<Pool> {
    catalog()
        .pools()
        .iter()
        .copied()
        .filter(|pool| keep(pool.instance_type_info()))
        .take(count)
        .collect()
}

/// How each override is weighted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weighting {
    /// Every instance is one unit.
    One,
    /// An instance is worth its type's vCPUs.
    Vcpus,
}

/// What a fixture's CreateFleet request asks for.
#[derive(Clone, Copy, Debug)]
pub struct FleetShape<'a> {
    /// `Type`: `maintain`, `request` or `instant`.
    pub fleet_type: &'a str,
    /// Spot `AllocationStrategy`, as CreateFleet spells it.
    pub strategy: &'a str,
    /// `TotalTargetCapacity`, all of it Spot.
    pub target: u32,
    /// One override per pool, with `InstanceType` and `AvailabilityZone`.
    pub pools: &'a [Pool],
    /// Override weights.
    pub weighting: Weighting,
}

/// The CreateFleet request for `shape`: one launch template config with one override
/// per pool, all capacity Spot.
pub fn create_fleet_request(
    shape: &FleetShape<'_>,
) -> Result<CreateFleetRequest, serde_json::Error> {
    let overrides: Vec<serde_json::Value> = shape
        .pools
        .iter()
        .map(|pool| {
            let weight = match shape.weighting {
                Weighting::One => 1,
                Weighting::Vcpus => pool.instance_type_info().vcpus,
            };
            serde_json::json!({
                "InstanceType": pool.type_name(),
                "AvailabilityZone": pool.zone_name(),
                "WeightedCapacity": f64::from(weight),
            })
        })
        .collect();
    let mut spot_options = serde_json::json!({ "AllocationStrategy": shape.strategy });
    // AWS rejects InstancePoolsToUseCount with any other strategy.
    if matches!(shape.strategy, "lowest-price" | "lowestPrice") {
        spot_options["InstancePoolsToUseCount"] = POOLS_TO_USE.into();
    }
    serde_json::from_value(serde_json::json!({
        "Type": shape.fleet_type,
        "TargetCapacitySpecification": {
            "TotalTargetCapacity": shape.target,
            "SpotTargetCapacity": shape.target,
            "OnDemandTargetCapacity": 0,
            "DefaultTargetCapacityType": "spot",
        },
        "SpotOptions": spot_options,
        "LaunchTemplateConfigs": [{
            "LaunchTemplateSpecification": {
                "LaunchTemplateId": LAUNCH_TEMPLATE_ID,
                "Version": "1",
            },
            "Overrides": overrides,
        }],
    }))
}

/// Why a fixture could not be built.
#[derive(Debug)]
pub enum FixtureError {
    /// The generated JSON is not a CreateFleet request.
    Wire(serde_json::Error),
    /// The request failed validation.
    Invalid(FleetError),
    /// The world refused it.
    World(WorldError),
}

impl std::fmt::Display for FixtureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FixtureError::Wire(e) => write!(f, "generated request does not parse: {e}"),
            FixtureError::Invalid(e) => write!(f, "generated request is invalid: {e}"),
            FixtureError::World(e) => write!(f, "the world refused the fleet: {e}"),
        }
    }
}

impl std::error::Error for FixtureError {}

/// Everything one call of [`allocate`] needs, built once so a benchmark times the
/// allocation alone.
#[derive(Debug)]
pub struct AllocationFixture {
    /// The validated fleet: its specs are the candidates.
    pub spec: FleetSpec,
    /// The market's offerings for every pool of the spec, at the market's start.
    pub offerings: Offerings,
    /// Units already running per spec: none (a fresh fleet).
    pub existing: Vec<Units>,
    /// The capacity to allocate.
    pub need: Units,
}

impl AllocationFixture {
    /// A Spot `request` fleet over `pools`, weighted by vCPUs, asking for `need` units
    /// with `strategy` (CreateFleet spelling), and a seeded market's offerings at start.
    pub fn new(pools: &[Pool], need: u32, strategy: &str) -> Result<Self, FixtureError> {
        let request = create_fleet_request(&FleetShape {
            fleet_type: "request",
            strategy,
            target: need,
            pools,
            weighting: Weighting::Vcpus,
        })
        .map_err(FixtureError::Wire)?;
        let spec = validate_create(&request, &StaticEnvironment::simulator())
            .map_err(FixtureError::Invalid)?;
        let config = MarketConfig {
            seed: SEED,
            ..MarketConfig::default()
        };
        let mut market = Market::new(config);
        let spec_pools: Vec<Pool> = spec.specs.iter().map(|s| s.pool).collect();
        let offerings = Offerings::new(market.offerings(&spec_pools, config.start));
        Ok(AllocationFixture {
            existing: vec![Units::ZERO; spec.specs.len()],
            need: Units::from_whole(spec.target.spot),
            spec,
            offerings,
        })
    }

    /// The allocation request: the spec's Spot strategy for the whole need, nothing
    /// running, no price cap, spilling to further pools when one runs dry.
    pub fn request(&self) -> Request<'_> {
        Request {
            strategy: Strategy::Spot(self.spec.spot.strategy, self.spec.spot.pools_to_use),
            need: self.need,
            specs: &self.spec.specs,
            existing: &self.existing,
            spend: Price::ZERO,
            limits: PurchaseLimits::default(),
            spill: true,
        }
    }

    /// Runs the allocation once.
    pub fn allocate(&self) -> Allocation {
        allocate(&self.request(), &self.offerings, &BTreeSet::new())
    }
}

/// A maintain fleet of `target` one-unit Spot instances spread over `pools` by the
/// diversified strategy.
pub fn maintain_request(pools: &[Pool], target: u32) -> Result<CreateFleetRequest, FixtureError> {
    create_fleet_request(&FleetShape {
        fleet_type: "maintain",
        strategy: "diversified",
        target,
        pools,
        weighting: Weighting::One,
    })
    .map_err(FixtureError::Wire)
}

/// A fresh world (seed [`SEED`], default interruption rates) that creates the fleet and
/// runs for `span`. Returns the world and the fleet's id.
pub fn simulate(
    request: &CreateFleetRequest,
    span: SimDuration,
) -> Result<(World, FleetId), FixtureError> {
    let mut world = World::new(WorldConfig::with_seed(SEED));
    let id = world.create_fleet(request).map_err(FixtureError::World)?;
    world.advance(span).map_err(FixtureError::World)?;
    Ok((world, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_fixture_meets_its_need_with_every_strategy() {
        let pools = spot_pools(30, u32::MAX);
        assert_eq!(pools.len(), 30);
        for (name, strategy) in SPOT_STRATEGIES {
            let fixture =
                AllocationFixture::new(&pools, 500, name).expect("the test's input is valid");
            assert_eq!(fixture.spec.spot.strategy, strategy);
            assert_eq!(fixture.spec.specs.len(), 30);
            let allocation = fixture.allocate();
            assert_eq!(allocation.unmet, Units::ZERO, "{name}");
            assert!(
                allocation.units(&fixture.spec.specs) >= Units::from_whole(500),
                "{name}"
            );
        }
    }

    #[test]
    fn the_full_size_allocation_fixture_meets_its_need() {
        let pools = spot_pools(300, u32::MAX);
        assert_eq!(pools.len(), 300);
        for (name, _) in SPOT_STRATEGIES {
            let fixture =
                AllocationFixture::new(&pools, 10_000, name).expect("the test's input is valid");
            assert_eq!(fixture.spec.specs.len(), 300);
            assert_eq!(fixture.need, Units::from_whole(10_000));
            assert_eq!(fixture.allocate().unmet, Units::ZERO, "{name}");
        }
    }

    #[test]
    fn simulated_fleet_is_at_target_after_a_day() {
        let pools = discounted_spot_pools(10, 2);
        assert_eq!(pools.len(), 10);
        let request = maintain_request(&pools, 40).expect("the test's input is valid");
        let (mut world, id) =
            simulate(&request, SimDuration::from_days(1)).expect("the test's input is valid");
        let summary = world.summary();
        let fleet = summary
            .fleets
            .iter()
            .find(|f| f.fleet_id == id.to_string())
            .expect("the test's input is valid");
        assert_eq!(fleet.target, 40);
        assert!(fleet.fulfilled >= 40.0, "fulfilled {}", fleet.fulfilled);
        // Diversified spreads over every pool.
        assert_eq!(summary.pools.len(), 10);
    }
}
