//! Allocation: which pools supply a fleet's missing capacity, and how many instances each.
//!
//! One greedy loop serves every strategy: candidates (launch specs) sit in a heap ordered
//! by a strategy-specific key; the best candidate takes one instance, its key is updated,
//! and the loop repeats until the need is covered. A candidate whose pool turns out to
//! have no capacity is dropped with `InsufficientInstanceCapacity`, exactly as AWS
//! reports pools it tried; pools it never needed to try get no error. Strategies differ
//! only in their key:
//!
//! | strategy | key (smaller first) |
//! |---|---|
//! | Spot `lowest-price` | the N cheapest pools per unit (N = `InstancePoolsToUseCount`), least-filled first |
//! | Spot `diversified` | every pool priced below On-Demand, least-filled first |
//! | Spot `capacity-optimized` | most spare capacity left |
//! | Spot `capacity-optimized-prioritized` | deep pools first, then `Priority`, then spare capacity |
//! | Spot `price-capacity-optimized` | deep pools first, then cheapest per unit |
//! | On-Demand `lowest-price` | cheapest per unit |
//! | On-Demand `prioritized` | `Priority`, then request order |
//!
//! "Least-filled" counts the units the fleet already runs in the pool, so scale-ups and
//! replacements keep the spread. Prices are compared per unit of weighted capacity,
//! except when every candidate's weight covers the whole need on its own (then one
//! instance is launched and the per-instance price decides), as AWS documents. A "deep"
//! pool has at least half the spare capacity of the deepest eligible pool; AWS does not
//! publish its scoring, so this rule is ours.
//!
//! Pure: the caller passes the market snapshot and the pools to avoid; nothing here
//! mutates them.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use market::{Offering, Pool, Price};

use crate::error::LaunchErrorCode;
use crate::spec::{
    LaunchSpec, Lifecycle, OnDemandAllocationStrategy, Priority, PurchaseLimits,
    SpotAllocationStrategy, Units,
};

/// What the host running the instances can still take, across every pool and purchase
/// option: the local cloud's protection of its machine. A pool whose next instance does
/// not fit answers `InsufficientInstanceCapacity`, as EC2 does when a pool runs dry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostBudget {
    /// Instances that may still be launched.
    pub instances: u32,
    /// vCPUs that may still be launched.
    pub vcpus: u64,
}

impl HostBudget {
    /// How many instances of `pool`'s type still fit.
    pub fn room(&self, pool: Pool) -> u32 {
        let vcpus = u64::from(pool.instance_type_info().vcpus.max(1));
        let by_vcpu = u32::try_from(self.vcpus / vcpus).unwrap_or(u32::MAX);
        self.instances.min(by_vcpu)
    }

    /// Takes `count` instances of `pool`'s type out of the budget.
    fn take(&mut self, pool: Pool, count: u32) {
        let vcpus = u64::from(pool.instance_type_info().vcpus.max(1));
        self.instances = self.instances.saturating_sub(count);
        self.vcpus = self.vcpus.saturating_sub(vcpus * u64::from(count));
    }
}

/// A snapshot of the market for the pools a reconcile may use. Launches consume its
/// capacity, so several fleets reconciled against one snapshot never oversubscribe.
#[derive(Clone, Debug, Default)]
pub struct Offerings {
    pools: BTreeMap<Pool, Offering>,
    /// The host's remaining room, when launches are bounded by a host.
    host: Option<HostBudget>,
}

impl Offerings {
    /// A snapshot of the given offerings.
    pub fn new(offerings: impl IntoIterator<Item = Offering>) -> Offerings {
        Offerings {
            pools: offerings.into_iter().map(|o| (o.pool, o)).collect(),
            host: None,
        }
    }
    /// The same snapshot, with launches also bounded by what the host can take.
    pub fn with_host_budget(mut self, budget: HostBudget) -> Offerings {
        self.host = Some(budget);
        self
    }
    /// The host's remaining room, if launches are bounded by one.
    pub fn host_budget(&self) -> Option<HostBudget> {
        self.host
    }
    /// The offering of a pool, if the snapshot has it.
    pub fn get(&self, pool: Pool) -> Option<&Offering> {
        self.pools.get(&pool)
    }
    /// Whether one more instance of `pool`'s type fits on the host.
    pub fn host_fits(&self, pool: Pool) -> bool {
        self.host.is_none_or(|h| h.room(pool) > 0)
    }
    /// Records that `count` instances of `lifecycle` were launched in `pool`.
    pub fn consume(&mut self, pool: Pool, lifecycle: Lifecycle, count: u32) {
        if let Some(host) = &mut self.host {
            host.take(pool, count);
        }
        if let Some(offering) = self.pools.get_mut(&pool) {
            match lifecycle {
                Lifecycle::Spot => {
                    offering.spot_capacity = offering.spot_capacity.saturating_sub(count);
                    let vcpus = u64::from(pool.instance_type_info().vcpus);
                    offering.capacity_score = offering
                        .capacity_score
                        .saturating_sub(vcpus * u64::from(count));
                }
                Lifecycle::OnDemand => {
                    offering.on_demand_capacity = offering.on_demand_capacity.saturating_sub(count);
                }
            }
        }
    }
    /// Every pool in the snapshot.
    pub fn pools(&self) -> impl Iterator<Item = Pool> + '_ {
        self.pools.keys().copied()
    }
}

/// A strategy of either purchase option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// A Spot strategy, with `InstancePoolsToUseCount` for lowest-price.
    Spot(SpotAllocationStrategy, u32),
    /// An On-Demand strategy.
    OnDemand(OnDemandAllocationStrategy),
}

impl Strategy {
    fn lifecycle(self) -> Lifecycle {
        match self {
            Strategy::Spot(..) => Lifecycle::Spot,
            Strategy::OnDemand(_) => Lifecycle::OnDemand,
        }
    }
}

/// What to allocate.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The strategy and purchase option.
    pub strategy: Strategy,
    /// Capacity to add.
    pub need: Units,
    /// The fleet's launch specifications.
    pub specs: &'a [LaunchSpec],
    /// Units the fleet already counts per spec (same indices as `specs`).
    pub existing: &'a [Units],
    /// Hourly price of the fleet's instances of this purchase option already running,
    /// for `MaxTotalPrice`.
    pub spend: Price,
    /// Single type/zone, minimum and `MaxTotalPrice` of this purchase option.
    pub limits: PurchaseLimits,
    /// Whether a pool that runs dry may be replaced by the next choice. `request`
    /// fleets do not try alternative pools.
    pub spill: bool,
}

/// Instances to launch from one spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    /// Index into the fleet's specs.
    pub spec: usize,
    /// How many instances.
    pub count: u32,
    /// The hourly price each will pay at launch.
    pub price: Price,
}

/// A pool that could not supply capacity, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolError {
    /// Index into the fleet's specs.
    pub spec: usize,
    /// AWS's error code.
    pub code: LaunchErrorCode,
}

/// The outcome: launches and per-pool errors. Falling short is data, never a failure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allocation {
    /// What to launch, in spec order.
    pub launches: Vec<Launch>,
    /// Pools that were tried and failed, in spec order.
    pub errors: Vec<PoolError>,
    /// Capacity still missing after these launches.
    pub unmet: Units,
    /// `MaxTotalPrice` stopped the allocation before the need was met.
    pub halted_by_max_total_price: bool,
}

impl Allocation {
    /// Units the launches provide.
    pub fn units(&self, specs: &[LaunchSpec]) -> Units {
        self.launches
            .iter()
            .map(|l| specs[l.spec].weight.times(u64::from(l.count)))
            .sum()
    }
}

/// Chooses launches for `request` from `offerings`, never using a pool in `unavailable`.
pub fn allocate(
    request: &Request<'_>,
    offerings: &Offerings,
    unavailable: &BTreeSet<Pool>,
) -> Allocation {
    let mut errors = BTreeMap::new();
    let candidates = candidates(request, offerings, unavailable, &mut errors);
    if request.need == Units::ZERO {
        return finish(request, &candidates, Vec::new(), errors, false);
    }
    let groups = groups(request, &candidates);
    let mut best: Option<(Vec<u32>, bool, BTreeMap<usize, LaunchErrorCode>)> = None;
    for group in groups {
        let mut group_errors = errors.clone();
        let (counts, halted) = fill(request, &group, offerings.host_budget(), &mut group_errors);
        let units = covered(request, &counts);
        let done = units >= request.need;
        let better = match &best {
            None => true,
            Some((best_counts, ..)) => units > covered(request, best_counts),
        };
        if better {
            best = Some((counts, halted, group_errors));
        }
        if done {
            break;
        }
    }
    let Some((counts, halted, errors)) = best else {
        return finish(request, &candidates, Vec::new(), errors, false);
    };
    if let Some(min) = request.limits.min_target_capacity
        && covered(request, &counts) < Units::from_whole(min)
    {
        let mut errors = errors;
        for c in &candidates {
            errors
                .entry(c.spec)
                .or_insert(LaunchErrorCode::UnfulfillableCapacity);
        }
        return finish(request, &candidates, Vec::new(), errors, halted);
    }
    finish(request, &candidates, counts, errors, halted)
}

/// One usable launch spec with its market figures.
#[derive(Clone, Debug)]
struct Candidate {
    spec: usize,
    pool: Pool,
    weight: Units,
    price: Price,
    /// Instances the pool can still take.
    capacity: u32,
    /// Spare vCPUs (Spot) for capacity-aware strategies.
    score: u64,
    priority: Option<Priority>,
    /// Position in cheapest-per-unit order among all candidates.
    price_rank: usize,
    /// Deep enough for capacity-aware strategies.
    deep: bool,
}

fn candidates(
    request: &Request<'_>,
    offerings: &Offerings,
    unavailable: &BTreeSet<Pool>,
    errors: &mut BTreeMap<usize, LaunchErrorCode>,
) -> Vec<Candidate> {
    let lifecycle = request.strategy.lifecycle();
    let mut out = Vec::new();
    for (index, spec) in request.specs.iter().enumerate() {
        if unavailable.contains(&spec.pool) {
            continue;
        }
        let Some(offering) = offerings.get(spec.pool) else {
            continue;
        };
        let (price, capacity, score) = match lifecycle {
            Lifecycle::Spot => {
                let max_price = spec.max_price.unwrap_or(offering.on_demand_price);
                if offering.spot_price > max_price {
                    errors.insert(index, LaunchErrorCode::SpotMaxPriceTooLow);
                    continue;
                }
                if matches!(
                    request.strategy,
                    Strategy::Spot(SpotAllocationStrategy::Diversified, _)
                ) && offering.spot_price >= offering.on_demand_price
                {
                    continue;
                }
                (
                    offering.spot_price,
                    offering.spot_capacity,
                    offering.capacity_score,
                )
            }
            Lifecycle::OnDemand => (
                offering.on_demand_price,
                offering.on_demand_capacity,
                u64::MAX,
            ),
        };
        out.push(Candidate {
            spec: index,
            pool: spec.pool,
            weight: spec.weight,
            price,
            capacity,
            score,
            priority: spec.priority,
            price_rank: 0,
            deep: false,
        });
    }
    // Per-unit price order; per-instance when every weight alone covers the need.
    let per_instance = out.iter().all(|c| c.weight >= request.need);
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (&out[a], &out[b]);
        let key = |c: &Candidate, other: &Candidate| {
            if per_instance {
                u128::from(c.price.as_micros())
            } else {
                // price_a / weight_a  vs  price_b / weight_b, cross-multiplied exactly.
                u128::from(c.price.as_micros()) * u128::from(other.weight.milli())
            }
        };
        key(ca, cb).cmp(&key(cb, ca)).then(ca.spec.cmp(&cb.spec))
    });
    for (rank, &i) in order.iter().enumerate() {
        out[i].price_rank = rank;
    }
    let deepest = out.iter().map(|c| c.score).max().unwrap_or(0);
    for c in &mut out {
        c.deep = c.score.saturating_mul(2) >= deepest;
    }
    out
}

/// Candidate groups to try in order: everything, or one group per instance type or zone
/// for `SingleInstanceType` / `SingleAvailabilityZone`, best group first.
fn groups(request: &Request<'_>, candidates: &[Candidate]) -> Vec<Vec<Candidate>> {
    if !request.limits.single_instance_type && !request.limits.single_availability_zone {
        return vec![candidates.to_vec()];
    }
    let mut by_group: BTreeMap<
        (Option<market::InstanceTypeId>, Option<market::ZoneId>),
        Vec<Candidate>,
    > = BTreeMap::new();
    for c in candidates {
        let key = (
            request
                .limits
                .single_instance_type
                .then_some(c.pool.instance_type),
            request
                .limits
                .single_availability_zone
                .then_some(c.pool.zone),
        );
        by_group.entry(key).or_default().push(c.clone());
    }
    let mut groups: Vec<Vec<Candidate>> = by_group.into_values().collect();
    groups.sort_by_key(|g| {
        g.iter()
            .map(|c| key(request.strategy, c, Units::ZERO, 0))
            .min()
    });
    groups
}

type Key = (u8, u128, u128, usize);

/// The strategy's preference for giving `candidate` one more instance; smaller first.
fn key(strategy: Strategy, c: &Candidate, filled: Units, taken: u32) -> Key {
    let remaining_score = c
        .score
        .saturating_sub(u64::from(c.pool.instance_type_info().vcpus) * u64::from(taken));
    let priority = |p: Option<Priority>| p.map_or(u128::MAX, |p| u128::from(p.0));
    let shallow = u8::from(!c.deep);
    match strategy {
        Strategy::Spot(SpotAllocationStrategy::LowestPrice, _)
        | Strategy::Spot(SpotAllocationStrategy::Diversified, _) => {
            (0, u128::from(filled.milli()), c.price_rank as u128, c.spec)
        }
        Strategy::Spot(SpotAllocationStrategy::CapacityOptimized, _) => {
            (0, u128::from(u64::MAX - remaining_score), 0, c.spec)
        }
        Strategy::Spot(SpotAllocationStrategy::CapacityOptimizedPrioritized, _) => (
            shallow,
            priority(c.priority),
            u128::from(u64::MAX - remaining_score),
            c.spec,
        ),
        Strategy::Spot(SpotAllocationStrategy::PriceCapacityOptimized, _) => {
            (shallow, c.price_rank as u128, 0, c.spec)
        }
        Strategy::OnDemand(OnDemandAllocationStrategy::LowestPrice) => {
            (0, c.price_rank as u128, 0, c.spec)
        }
        Strategy::OnDemand(OnDemandAllocationStrategy::Prioritized) => {
            (0, priority(c.priority), 0, c.spec)
        }
    }
}

/// The greedy loop over one group. Returns instances per spec index.
fn fill(
    request: &Request<'_>,
    group: &[Candidate],
    mut host: Option<HostBudget>,
    errors: &mut BTreeMap<usize, LaunchErrorCode>,
) -> (Vec<u32>, bool) {
    let mut counts = vec![0u32; request.specs.len()];
    // lowest-price uses only the N cheapest pools at a time; a pool that runs dry is
    // replaced by the next cheapest (if spilling is allowed).
    let active_limit = match request.strategy {
        Strategy::Spot(SpotAllocationStrategy::LowestPrice, n) => n.max(1) as usize,
        _ => usize::MAX,
    };
    let mut by_price: Vec<usize> = (0..group.len()).collect();
    by_price.sort_by_key(|&i| (group[i].price_rank, group[i].spec));
    let split = by_price.len().min(active_limit);
    // Remaining candidates, cheapest last so `pop` yields the next cheapest.
    let mut reserve: Vec<usize> = by_price[split..].iter().rev().copied().collect();

    let key_of = |i: usize, counts: &[u32]| {
        let c = &group[i];
        let filled = request.existing.get(c.spec).copied().unwrap_or_default()
            + c.weight.times(u64::from(counts[c.spec]));
        Reverse((key(request.strategy, c, filled, counts[c.spec]), i))
    };
    let mut heap: BinaryHeap<Reverse<(Key, usize)>> = by_price[..split]
        .iter()
        .map(|&i| key_of(i, &counts))
        .collect();

    let mut covered_units = Units::ZERO;
    let mut spend = request.spend.as_micros();
    let mut halted = false;
    while covered_units < request.need {
        let Some(Reverse((_, i))) = heap.pop() else {
            break;
        };
        let c = &group[i];
        if counts[c.spec] >= c.capacity || host.is_some_and(|h| h.room(c.pool) == 0) {
            errors
                .entry(c.spec)
                .or_insert(LaunchErrorCode::InsufficientInstanceCapacity);
            if request.spill
                && let Some(next) = reserve.pop()
            {
                heap.push(key_of(next, &counts));
            }
            continue;
        }
        if let Some(max) = request.limits.max_total_price
            && spend + c.price.as_micros() > max.as_micros()
        {
            halted = true;
            break;
        }
        spend += c.price.as_micros();
        if let Some(host) = &mut host {
            host.take(c.pool, 1);
        }
        counts[c.spec] += 1;
        covered_units += c.weight;
        heap.push(key_of(i, &counts));
    }
    (counts, halted)
}

fn covered(request: &Request<'_>, counts: &[u32]) -> Units {
    counts
        .iter()
        .zip(request.specs)
        .map(|(&n, spec)| spec.weight.times(u64::from(n)))
        .sum()
}

fn finish(
    request: &Request<'_>,
    candidates: &[Candidate],
    counts: Vec<u32>,
    errors: BTreeMap<usize, LaunchErrorCode>,
    halted: bool,
) -> Allocation {
    let covered_units = covered(request, &counts);
    let launches = candidates
        .iter()
        .filter_map(|c| {
            let count = counts.get(c.spec).copied().unwrap_or(0);
            (count > 0).then_some(Launch {
                spec: c.spec,
                count,
                price: c.price,
            })
        })
        .collect();
    Allocation {
        launches,
        errors: errors
            .into_iter()
            .map(|(spec, code)| PoolError { spec, code })
            .collect(),
        unmet: request.need.saturating_sub(covered_units),
        halted_by_max_total_price: halted,
    }
}
