//! Property tests of allocation (`fleet::allocate`): random offerings over 1 to 30 real
//! catalogue pools, random Spot prices (never above On-Demand), capacities, weights,
//! `MaxPrice`s, unavailable pools and needs, under every Spot and On-Demand strategy.
//! They check the invariants of section 3 of the EC2 Fleet fact sheet: no launch in a
//! pool that is unavailable, priced above its maximum or out of capacity; `MaxTotalPrice`
//! is never exceeded; lowest-price with `InstancePoolsToUseCount` N uses the N cheapest
//! pools; the need is met whenever the eligible pools can meet it, with less overshoot
//! than one instance; diversified spreads evenly; and the same inputs give the same
//! allocation. Launch specs come from CreateFleet JSON through `validate_create`, as in
//! the engine. They do not check the engine or the world around the allocation.

// A failed unwrap is a failed test. clippy.toml allows unwrap in `#[test]` functions but
// not in their helpers.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

use fleet::allocate::Strategy as AllocationStrategy;
use fleet::allocate::{Allocation, Offerings, Request, allocate};
use fleet::spec::{
    LaunchSpec, OnDemandAllocationStrategy, PurchaseLimits, SpotAllocationStrategy, Units,
};
use fleet::validate::{StaticEnvironment, validate_create};
use fleet::wire::CreateFleetRequest;
use market::{Offering, Pool, Price, catalog};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

/// Cases per property. Each case is one allocation over at most 30 pools: microseconds.
const CASES: u32 = 256;

fn config() -> Config {
    Config {
        cases: CASES,
        // Failures are reported with their minimal case; no regression files are
        // written into the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Every offered pool whose type AWS sells as Spot, in catalogue order.
fn spot_pools() -> &'static [Pool] {
    static POOLS: OnceLock<Vec<Pool>> = OnceLock::new();
    POOLS.get_or_init(|| {
        catalog()
            .pools()
            .iter()
            .copied()
            .filter(|p| p.instance_type_info().spot_supported)
            .collect()
    })
}

/// One pool of a generated case: its market figures and its override's terms.
#[derive(Clone)]
struct PoolCase {
    /// Index into [`spot_pools`].
    pool: usize,
    /// The Spot price as a percentage of the On-Demand price (100: equal to it).
    spot_percent: u64,
    /// Spot instances the pool can still take.
    spot_capacity: u32,
    /// On-Demand instances the pool can still take.
    on_demand_capacity: u32,
    /// `WeightedCapacity`, whole units.
    weight: u32,
    /// `MaxPrice` as a percentage of the On-Demand price (at least $0.001, AWS's
    /// minimum), if the override sets one.
    max_price_percent: Option<u64>,
    /// `Priority`, if the override sets one.
    priority: Option<u32>,
    /// The pool is among those the fleet avoids.
    unavailable: bool,
    /// Units the fleet already runs from this spec.
    existing: u32,
}

/// One allocation problem.
#[derive(Clone, Debug)]
struct Case {
    /// Distinct pools (duplicates are dropped when the case is built).
    pools: Vec<PoolCase>,
    strategy: AllocationStrategy,
    /// Units to add.
    need: u32,
    /// Hourly spend of the running instances, micro-dollars.
    spend: u64,
    /// `MaxTotalPrice`, micro-dollars per hour.
    max_total_price: Option<u64>,
    single_instance_type: bool,
    single_availability_zone: bool,
    min_target_capacity: Option<u32>,
    spill: bool,
}

impl fmt::Debug for PoolCase {
    /// With the pool's name and the resulting prices, so a minimal case reads alone.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolCase")
            .field("pool", &format_args!("{} (#{})", self.pool(), self.pool))
            .field("spot_percent", &self.spot_percent)
            .field("spot_price", &format_args!("{}", self.spot_price()))
            .field(
                "on_demand_price",
                &format_args!("{}", self.on_demand_price()),
            )
            .field("spot_capacity", &self.spot_capacity)
            .field("on_demand_capacity", &self.on_demand_capacity)
            .field("weight", &self.weight)
            .field("max_price_percent", &self.max_price_percent)
            .field("max_price", &self.max_price().map(|p| p.to_string()))
            .field("priority", &self.priority)
            .field("unavailable", &self.unavailable)
            .field("existing", &self.existing)
            .finish()
    }
}

impl PoolCase {
    fn pool(&self) -> Pool {
        spot_pools()[self.pool]
    }
    fn on_demand_price(&self) -> Price {
        self.pool().instance_type_info().on_demand
    }
    fn spot_price(&self) -> Price {
        let price = self.on_demand_price().scale(self.spot_percent, 100);
        price.max(Price::from_micros(1)).min(self.on_demand_price())
    }
    fn max_price(&self) -> Option<Price> {
        self.max_price_percent.map(|percent| {
            let price = self.on_demand_price().scale(percent, 100);
            // Round to whole micro-dollars as the wire does; AWS's minimum is $0.001.
            price.max(Price::from_micros(1_000))
        })
    }
    fn offering(&self) -> Offering {
        let info = self.pool().instance_type_info();
        Offering {
            pool: self.pool(),
            spot_price: self.spot_price(),
            on_demand_price: info.on_demand,
            spot_capacity: self.spot_capacity,
            on_demand_capacity: self.on_demand_capacity,
            capacity_score: u64::from(self.spot_capacity) * u64::from(info.vcpus),
            band: info.advisor_or_default().band,
        }
    }
}

impl Case {
    fn is_spot(&self) -> bool {
        matches!(self.strategy, AllocationStrategy::Spot(..))
    }

    /// The launch specs, through the CreateFleet validation the engine uses.
    fn specs(&self) -> Vec<LaunchSpec> {
        let overrides: Vec<Value> = self
            .pools
            .iter()
            .map(|p| {
                let mut o = json!({
                    "InstanceType": p.pool().type_name(),
                    "AvailabilityZone": p.pool().zone_name(),
                    "WeightedCapacity": f64::from(p.weight),
                });
                if let Some(max) = p.max_price() {
                    o["MaxPrice"] = json!(max.to_aws_string());
                }
                if let Some(priority) = p.priority {
                    o["Priority"] = json!(f64::from(priority));
                }
                o
            })
            .collect();
        let request: CreateFleetRequest = serde_json::from_value(json!({
            "Type": "maintain",
            "TargetCapacitySpecification": {
                "TotalTargetCapacity": 1,
                "DefaultTargetCapacityType": "spot"
            },
            "LaunchTemplateConfigs": [{
                "LaunchTemplateSpecification": {
                    "LaunchTemplateId": "lt-0a1b2c3d4e5f67890",
                    "Version": "1"
                },
                "Overrides": overrides
            }]
        }))
        .expect("valid generated fleet spec");
        let specs = validate_create(&request, &StaticEnvironment::simulator())
            .expect("valid generated fleet spec")
            .specs;
        assert_eq!(specs.len(), self.pools.len());
        for (spec, p) in specs.iter().zip(&self.pools) {
            assert_eq!(spec.pool, p.pool());
            assert_eq!(spec.max_price, p.max_price());
        }
        specs
    }

    fn offerings(&self) -> Offerings {
        Offerings::new(self.pools.iter().map(PoolCase::offering))
    }

    fn unavailable(&self) -> BTreeSet<Pool> {
        self.pools
            .iter()
            .filter(|p| p.unavailable)
            .map(PoolCase::pool)
            .collect()
    }

    fn existing(&self) -> Vec<Units> {
        self.pools
            .iter()
            .map(|p| Units::from_whole(p.existing))
            .collect()
    }

    /// Runs the allocation.
    fn allocate(&self) -> (Vec<LaunchSpec>, Allocation) {
        let specs = self.specs();
        let existing = self.existing();
        let allocation = allocate(
            &self.request(&specs, &existing),
            &self.offerings(),
            &self.unavailable(),
        );
        (specs, allocation)
    }

    fn request<'a>(&self, specs: &'a [LaunchSpec], existing: &'a [Units]) -> Request<'a> {
        Request {
            strategy: self.strategy,
            need: Units::from_whole(self.need),
            specs,
            existing,
            spend: Price::from_micros(self.spend),
            limits: PurchaseLimits {
                max_total_price: self.max_total_price.map(Price::from_micros),
                single_instance_type: self.single_instance_type,
                single_availability_zone: self.single_availability_zone,
                min_target_capacity: self.min_target_capacity,
            },
            spill: self.spill,
        }
    }

    /// The price an instance launched from pool `i` pays.
    fn price(&self, i: usize) -> Price {
        if self.is_spot() {
            self.pools[i].spot_price()
        } else {
            self.pools[i].on_demand_price()
        }
    }

    /// Instances pool `i` can take.
    fn capacity(&self, i: usize) -> u32 {
        if self.is_spot() {
            self.pools[i].spot_capacity
        } else {
            self.pools[i].on_demand_capacity
        }
    }

    /// Whether the strategy may use pool `i` at all: available, and for Spot priced at
    /// or below its maximum (default On-Demand); diversified also skips pools whose
    /// Spot price is not below On-Demand.
    fn eligible(&self, i: usize) -> bool {
        let p = &self.pools[i];
        if p.unavailable {
            return false;
        }
        match self.strategy {
            AllocationStrategy::OnDemand(_) => true,
            AllocationStrategy::Spot(strategy, _) => {
                let max = p.max_price().unwrap_or(p.on_demand_price());
                p.spot_price() <= max
                    && (strategy != SpotAllocationStrategy::Diversified
                        || p.spot_price() < p.on_demand_price())
            }
        }
    }

    fn eligible_pools(&self) -> Vec<usize> {
        (0..self.pools.len())
            .filter(|&i| self.eligible(i))
            .collect()
    }
}

/// Instances per spec index.
fn counts(case: &Case, allocation: &Allocation) -> Vec<u32> {
    let mut counts = vec![0; case.pools.len()];
    for launch in &allocation.launches {
        counts[launch.spec] += launch.count;
    }
    counts
}

// ---------------------------------------------------------------------------------------
// Generators.

fn pool_case(existing: bool) -> impl Strategy<Value = PoolCase> {
    (
        0..spot_pools().len(),
        1u64..=100,
        0u32..50,
        0u32..50,
        1u32..=8,
        prop::option::weighted(0.3, 10u64..=150),
        prop::option::weighted(0.5, 0u32..10),
        prop::bool::weighted(0.2),
        if existing { 0u32..=10 } else { 0u32..=0 },
    )
        .prop_map(
            |(
                pool,
                spot_percent,
                spot_capacity,
                on_demand_capacity,
                weight,
                max_price_percent,
                priority,
                unavailable,
                existing,
            )| PoolCase {
                pool,
                spot_percent,
                spot_capacity,
                on_demand_capacity,
                weight,
                max_price_percent,
                priority,
                unavailable,
                existing,
            },
        )
}

/// 1 to 30 distinct pools.
fn pool_cases(existing: bool) -> impl Strategy<Value = Vec<PoolCase>> {
    prop::collection::vec(pool_case(existing), 1..=30).prop_map(|mut pools| {
        let mut seen = BTreeSet::new();
        pools.retain(|p| seen.insert(p.pool));
        pools
    })
}

fn spot_strategy() -> impl Strategy<Value = SpotAllocationStrategy> {
    prop_oneof![
        Just(SpotAllocationStrategy::LowestPrice),
        Just(SpotAllocationStrategy::Diversified),
        Just(SpotAllocationStrategy::CapacityOptimized),
        Just(SpotAllocationStrategy::CapacityOptimizedPrioritized),
        Just(SpotAllocationStrategy::PriceCapacityOptimized),
    ]
}

fn any_strategy() -> impl Strategy<Value = AllocationStrategy> {
    prop_oneof![
        4 => (spot_strategy(), 1u32..=5).prop_map(|(s, n)| AllocationStrategy::Spot(s, n)),
        1 => Just(AllocationStrategy::OnDemand(OnDemandAllocationStrategy::LowestPrice)),
        1 => Just(AllocationStrategy::OnDemand(OnDemandAllocationStrategy::Prioritized)),
    ]
}

/// Anything goes: every option of the request is random.
fn any_case() -> impl Strategy<Value = Case> {
    (
        pool_cases(true),
        any_strategy(),
        1u32..=200,
        0u64..=2_000_000,
        prop::option::of(0u64..=5_000_000),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.2, 1u32..=200),
        any::<bool>(),
    )
        .prop_map(
            |(
                pools,
                strategy,
                need,
                spend,
                max_total_price,
                single_instance_type,
                single_availability_zone,
                min_target_capacity,
                spill,
            )| Case {
                pools,
                strategy,
                need,
                spend,
                max_total_price,
                single_instance_type,
                single_availability_zone,
                min_target_capacity,
                spill,
            },
        )
}

/// A maintain fleet's ordinary allocation: alternative pools allowed, no
/// `MaxTotalPrice`, no instant-only constraints.
fn plain_case(
    strategy: impl Strategy<Value = AllocationStrategy>,
    existing: bool,
) -> impl Strategy<Value = Case> {
    (pool_cases(existing), strategy, 1u32..=200).prop_map(|(pools, strategy, need)| Case {
        pools,
        strategy,
        need,
        spend: 0,
        max_total_price: None,
        single_instance_type: false,
        single_availability_zone: false,
        min_target_capacity: None,
        spill: true,
    })
}

/// Every pool can take the whole need on its own.
fn with_ample_capacity(mut case: Case) -> Case {
    for p in &mut case.pools {
        p.spot_capacity += case.need;
        p.on_demand_capacity += case.need;
    }
    case
}

/// lowest-price over N = 1 to 5 pools, every pool able to take the whole need.
fn lowest_price_case() -> impl Strategy<Value = Case> {
    let strategy =
        (1u32..=5).prop_map(|n| AllocationStrategy::Spot(SpotAllocationStrategy::LowestPrice, n));
    plain_case(strategy, false).prop_map(with_ample_capacity)
}

/// diversified, one weight for every pool, every pool able to take the whole need.
fn diversified_case() -> impl Strategy<Value = Case> {
    let strategy = Just(AllocationStrategy::Spot(
        SpotAllocationStrategy::Diversified,
        1,
    ));
    (plain_case(strategy, false), 1u32..=8).prop_map(|(mut case, weight)| {
        for p in &mut case.pools {
            p.weight = weight;
        }
        with_ample_capacity(case)
    })
}

// ---------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(config())]

    /// 1. No launch in an unavailable pool, in a Spot pool priced above its override's
    /// `MaxPrice` (default On-Demand), or beyond a pool's capacity; each launch pays the
    /// pool's price.
    #[test]
    fn launches_respect_availability_max_price_and_capacity(case in any_case()) {
        let (_, allocation) = case.allocate();
        let mut seen = BTreeSet::new();
        for launch in &allocation.launches {
            let i = launch.spec;
            let p = &case.pools[i];
            prop_assert!(seen.insert(i), "spec {} launched twice: {:?}", i, allocation);
            prop_assert!(launch.count > 0, "empty launch {:?}", launch);
            prop_assert!(!p.unavailable, "launch in unavailable pool {}", p.pool());
            if case.is_spot() {
                let max = p.max_price().unwrap_or(p.on_demand_price());
                prop_assert!(
                    p.spot_price() <= max,
                    "launch in {} at Spot {} above MaxPrice {}", p.pool(), p.spot_price(), max
                );
            }
            prop_assert!(
                launch.count <= case.capacity(i),
                "{} instances in {} which can take {}", launch.count, p.pool(), case.capacity(i)
            );
            prop_assert_eq!(launch.price, case.price(i));
        }
    }

    /// 2. `MaxTotalPrice` is never exceeded by launching: spend + launches x price stays
    /// within it (when the running instances alone exceed it, nothing is launched).
    #[test]
    fn max_total_price_is_never_exceeded(case in any_case()) {
        let (_, allocation) = case.allocate();
        if let Some(max) = case.max_total_price {
            let launched: u64 = allocation
                .launches
                .iter()
                .map(|l| u64::from(l.count) * l.price.as_micros())
                .sum();
            prop_assert!(
                launched == 0 || case.spend + launched <= max,
                "spend {} + launched {} > MaxTotalPrice {}", case.spend, launched, max
            );
        }
    }

    /// 3. lowest-price with `InstancePoolsToUseCount` N and ample capacity uses at most N
    /// pools, all among the N cheapest eligible pools per unit (per instance when every
    /// weight covers the need alone); any of several equally priced pools will do.
    #[test]
    fn lowest_price_uses_the_n_cheapest_pools(case in lowest_price_case()) {
        let AllocationStrategy::Spot(_, n) = case.strategy else { unreachable!() };
        let (_, allocation) = case.allocate();
        let counts = counts(&case, &allocation);
        let used: Vec<usize> = (0..case.pools.len()).filter(|&i| counts[i] > 0).collect();
        prop_assert!(
            used.len() <= n as usize,
            "{} pools used, N = {}: {:?}", used.len(), n, allocation
        );

        let eligible = case.eligible_pools();
        let per_instance = eligible.iter().all(|&i| case.pools[i].weight >= case.need);
        // price_i / weight_i as a fraction, compared exactly by cross-multiplying.
        let cost = |i: usize| -> (u128, u128) {
            let price = u128::from(case.price(i).as_micros());
            if per_instance { (price, 1) } else { (price, u128::from(case.pools[i].weight)) }
        };
        let cheaper_or_equal = |a: usize, b: usize| {
            let ((pa, wa), (pb, wb)) = (cost(a), cost(b));
            pa * wb <= pb * wa
        };
        let mut sorted = eligible.clone();
        sorted.sort_by(|&a, &b| {
            let ((pa, wa), (pb, wb)) = (cost(a), cost(b));
            (pa * wb).cmp(&(pb * wa))
        });
        if let Some(&nth) = sorted.get((n as usize).min(sorted.len()).saturating_sub(1)) {
            for &i in &used {
                prop_assert!(
                    cheaper_or_equal(i, nth),
                    "{} ({} for {} units) is not among the {} cheapest, the dearest of which \
                     is {} ({} for {} units)",
                    case.pools[i].pool(), case.price(i), case.pools[i].weight, n,
                    case.pools[nth].pool(), case.price(nth), case.pools[nth].weight
                );
            }
        }
        if !eligible.is_empty() {
            prop_assert_eq!(allocation.unmet, Units::ZERO);
        }
    }

    /// 4. With alternative pools allowed and no `MaxTotalPrice`, the need is met whenever
    /// the eligible pools' capacity x weights suffices, overshooting by less than the
    /// largest weight used; when it does not suffice, every eligible pool is filled.
    #[test]
    fn the_need_is_met_when_capacity_suffices(case in plain_case(any_strategy(), true)) {
        let (specs, allocation) = case.allocate();
        let counts = counts(&case, &allocation);
        let eligible = case.eligible_pools();
        let available: u64 = eligible
            .iter()
            .map(|&i| u64::from(case.capacity(i)) * u64::from(case.pools[i].weight))
            .sum();
        let launched = allocation.units(&specs);
        let need = Units::from_whole(case.need);
        if available >= u64::from(case.need) {
            prop_assert_eq!(
                allocation.unmet, Units::ZERO,
                "available {} units: {:?}", available, allocation
            );
            let largest = allocation
                .launches
                .iter()
                .map(|l| case.pools[l.spec].weight)
                .max()
                .unwrap_or(0);
            prop_assert!(
                launched.saturating_sub(need) < Units::from_whole(largest),
                "launched {} for a need of {}, largest weight used {}", launched, need, largest
            );
        } else {
            for &i in &eligible {
                prop_assert_eq!(
                    counts[i], case.capacity(i),
                    "short of capacity, yet {} is not full: {:?}",
                    case.pools[i].pool(), allocation
                );
            }
        }
        prop_assert_eq!(allocation.unmet, need.saturating_sub(launched));
    }

    /// 5. diversified with ample capacity and equal weights spreads evenly: the instance
    /// counts of the pools it may use differ by at most one (so pools used get counts
    /// within one of each other, and a pool is left out only while others have one).
    #[test]
    fn diversified_spreads_evenly(case in diversified_case()) {
        let (_, allocation) = case.allocate();
        let counts = counts(&case, &allocation);
        let used: Vec<u32> = counts.iter().copied().filter(|&c| c > 0).collect();
        if let (Some(min), Some(max)) = (used.iter().min(), used.iter().max()) {
            prop_assert!(max - min <= 1, "counts of used pools {:?}: {:?}", used, allocation);
        }
        let eligible: Vec<u32> = case.eligible_pools().iter().map(|&i| counts[i]).collect();
        if let (Some(min), Some(max)) = (eligible.iter().min(), eligible.iter().max()) {
            prop_assert!(
                max - min <= 1,
                "counts of eligible pools {:?}: {:?}", eligible, allocation
            );
        }
    }

    /// 6. Determinism: the same inputs give the same allocation, whatever order the
    /// offerings were listed in.
    #[test]
    fn allocation_is_deterministic(case in any_case()) {
        let specs = case.specs();
        let existing = case.existing();
        let request = case.request(&specs, &existing);
        let first = allocate(&request, &case.offerings(), &case.unavailable());
        let again = allocate(&request, &case.offerings(), &case.unavailable());
        let reversed = Offerings::new(case.pools.iter().rev().map(PoolCase::offering));
        let from_reversed = allocate(&request, &reversed, &case.unavailable());
        prop_assert_eq!(&first, &again);
        prop_assert_eq!(&first, &from_reversed);
    }
}
