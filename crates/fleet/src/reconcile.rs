//! Reconcile: bring a fleet's counted capacity to its target, per purchase option.
//!
//! Below target, a maintain fleet first restarts its stopped Spot instances where their
//! pool has capacity again (their persistent requests reopen), then allocates the rest
//! with its strategy; a request fleet launches only until it has met its target once and
//! never leaves the pools its first allocation chose; an instant fleet launches once, at
//! creation. Above target with the `termination` policy, instances are removed in the
//! order AWS documents per strategy, never dropping below target: removed Spot instances
//! get the 2-minute notice (`termination_notified`), removed On-Demand instances shut
//! down at once.

use std::collections::BTreeSet;

use market::{Pool, Price};
use simtime::SimTime;

use crate::allocate::{self, Allocation, Offerings, Request, Strategy};
use crate::engine::{Engine, Event, Timer};
use crate::error::LaunchErrorCode;
use crate::fleet::{FleetLaunchError, FleetState};
use crate::history::{EventSubType, HistoryRecord};
use crate::ids::{FleetId, InstanceId};
use crate::instance::{Instance, InstanceState, InterruptionReason};
use crate::spec::{
    ExcessCapacityPolicy, FleetType, Lifecycle, OnDemandAllocationStrategy, SpotAllocationStrategy,
    Units,
};

impl Engine {
    pub(crate) fn reconcile(
        &mut self,
        id: &FleetId,
        offerings: &mut Offerings,
        now: SimTime,
        events: &mut Vec<Event>,
    ) {
        let Some(fleet) = self.fleets.get_mut(id) else {
            return;
        };
        fleet.unavailable.retain(|_, until| *until > now);
        let fleet_type = fleet.spec.fleet_type;
        let mut unmet = false;
        if fleet_type != FleetType::Instant {
            for lifecycle in [Lifecycle::OnDemand, Lifecycle::Spot] {
                let Some(fleet) = self.fleets.get(id) else {
                    return;
                };
                let target = fleet.spec.target.of(lifecycle);
                let counted = fleet.counted(&self.instances, lifecycle);
                let policy = fleet.spec.excess_capacity_policy;
                if counted < target {
                    if fleet_type == FleetType::Request && fleet.fulfilled_once {
                        continue;
                    }
                    unmet |= self.scale_up(
                        id,
                        lifecycle,
                        target.saturating_sub(counted),
                        offerings,
                        now,
                        events,
                    );
                } else if counted > target && policy == ExcessCapacityPolicy::Termination {
                    self.scale_down(id, lifecycle, target, offerings, now, events);
                }
            }
        }
        let instances = &self.instances;
        let Some(fleet) = self.fleets.get_mut(id) else {
            return;
        };
        if fleet_type == FleetType::Request
            && fleet.counted(instances, Lifecycle::Spot)
                + fleet.counted(instances, Lifecycle::OnDemand)
                >= Units::from_whole(fleet.spec.target.total)
        {
            fleet.fulfilled_once = true;
        }
        if fleet.state == FleetState::Modifying {
            fleet.state = FleetState::Active;
            fleet.record(HistoryRecord::new(
                now,
                EventSubType::ModifySucceeded,
                None,
                "",
            ));
            events.push(Event::FleetState {
                at: now,
                fleet: id.clone(),
                state: FleetState::Active,
            });
        }
        if unmet {
            let retry = self.config.retry_interval;
            let next_pool = fleet.unavailable.values().min().copied();
            let at = next_pool.map_or(now + retry, |t| t.min(now + retry));
            self.schedule(
                at.max(now + simtime::SimDuration::from_millis(1)),
                Timer::Fleet(id.clone()),
            );
        }
    }

    /// Instant fleets: one allocation per purchase option, at creation.
    pub(crate) fn launch_instant(
        &mut self,
        id: &FleetId,
        offerings: &mut Offerings,
        now: SimTime,
        events: &mut Vec<Event>,
    ) {
        for lifecycle in [Lifecycle::OnDemand, Lifecycle::Spot] {
            let Some(fleet) = self.fleets.get(id) else {
                return;
            };
            let need = fleet.spec.target.of(lifecycle);
            if need > Units::ZERO {
                self.scale_up(id, lifecycle, need, offerings, now, events);
            }
        }
    }

    /// Launches up to `need` units of `lifecycle`. Returns whether some need is unmet.
    fn scale_up(
        &mut self,
        id: &FleetId,
        lifecycle: Lifecycle,
        mut need: Units,
        offerings: &mut Offerings,
        now: SimTime,
        events: &mut Vec<Event>,
    ) -> bool {
        // Stopped Spot instances of a maintain fleet restart first, where capacity allows.
        if lifecycle == Lifecycle::Spot {
            need = self.resume_stopped(id, need, offerings, now, events);
            if need == Units::ZERO {
                return false;
            }
        }
        let Some(fleet) = self.fleets.get(id) else {
            return false;
        };
        let spec = &fleet.spec;
        let mut existing = vec![Units::ZERO; spec.specs.len()];
        let mut spend = 0u64;
        for instance in fleet.live(&self.instances) {
            if instance.lifecycle != lifecycle {
                continue;
            }
            spend += instance.price.as_micros();
            if instance.counts()
                && let Some(slot) = existing.get_mut(instance.spec_index)
            {
                *slot += instance.weight;
            }
        }
        let mut unavailable: BTreeSet<Pool> = fleet.unavailable.keys().copied().collect();
        if let Some(pinned) = &fleet.pinned_specs {
            unavailable.extend(
                spec.specs
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !pinned.contains(i))
                    .map(|(_, s)| s.pool),
            );
        }
        let strategy = match lifecycle {
            Lifecycle::Spot => Strategy::Spot(spec.spot.strategy, spec.spot.pools_to_use),
            Lifecycle::OnDemand => Strategy::OnDemand(spec.on_demand.strategy),
        };
        let request = Request {
            strategy,
            need,
            specs: &spec.specs,
            existing: &existing,
            spend: Price::from_micros(spend),
            // Validation admits the instant-only limits on instant fleets only.
            limits: spec.limits(lifecycle),
            spill: spec.fleet_type != FleetType::Request,
        };
        let allocation = allocate::allocate(&request, offerings, &unavailable);
        let fleet_type = spec.fleet_type;
        let pools: Vec<Pool> = spec.specs.iter().map(|s| s.pool).collect();
        self.apply_allocation(
            id,
            lifecycle,
            fleet_type,
            &pools,
            &allocation,
            offerings,
            now,
            events,
        );
        allocation.unmet > Units::ZERO
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_allocation(
        &mut self,
        id: &FleetId,
        lifecycle: Lifecycle,
        fleet_type: FleetType,
        pools: &[Pool],
        allocation: &Allocation,
        offerings: &mut Offerings,
        now: SimTime,
        events: &mut Vec<Event>,
    ) {
        for launch in &allocation.launches {
            let Some(pool) = pools.get(launch.spec).copied() else {
                continue;
            };
            let Some(offering) = offerings.get(pool).cloned() else {
                continue;
            };
            for _ in 0..launch.count {
                self.launch(id, launch.spec, lifecycle, &offering, now, events);
            }
            offerings.consume(pool, lifecycle, launch.count);
        }
        let unavailable_until = now + self.config.unavailable_for;
        let Some(fleet) = self.fleets.get_mut(id) else {
            return;
        };
        if fleet_type == FleetType::Request && fleet.pinned_specs.is_none() {
            fleet.pinned_specs = Some(
                allocation
                    .launches
                    .iter()
                    .map(|l| l.spec)
                    .chain(allocation.errors.iter().map(|e| e.spec))
                    .collect(),
            );
        }
        fleet.errors.retain(|e| e.lifecycle != lifecycle);
        for error in &allocation.errors {
            let Some(pool) = pools.get(error.spec).copied() else {
                continue;
            };
            fleet.errors.push(FleetLaunchError {
                spec: error.spec,
                lifecycle,
                code: error.code,
            });
            if fleet_type == FleetType::Instant {
                continue;
            }
            fleet.unavailable.insert(pool, unavailable_until);
            let sub_type = match error.code {
                LaunchErrorCode::SpotMaxPriceTooLow => EventSubType::LaunchSpecUnusable,
                _ => EventSubType::LaunchSpecTemporarilyBlacklisted,
            };
            fleet.record(HistoryRecord::new(
                now,
                sub_type,
                None,
                format!(
                    "{{\"instanceType\":\"{}\",\"availabilityZone\":\"{}\",\"lifecycle\":\"{}\",\"errorCode\":\"{}\"}}",
                    pool.type_name(),
                    pool.zone_name(),
                    lifecycle.as_str(),
                    error.code
                ),
            ));
            events.push(Event::LaunchFailed {
                at: now,
                fleet: id.clone(),
                pool,
                lifecycle,
                code: error.code,
            });
        }
        if allocation.launches.is_empty()
            && allocation.unmet > Units::ZERO
            && !allocation.errors.is_empty()
            && fleet_type != FleetType::Instant
        {
            fleet.record(HistoryRecord::new(
                now,
                EventSubType::AllLaunchSpecsTemporarilyBlacklisted,
                None,
                format!(
                    "No {} capacity could be launched in any pool",
                    lifecycle.as_str()
                ),
            ));
        }
        if allocation.halted_by_max_total_price && !fleet.halted {
            fleet.record(HistoryRecord::new(
                now,
                EventSubType::FleetProgressHalted,
                None,
                format!("{} MaxTotalPrice reached", lifecycle.as_str()),
            ));
        }
        fleet.halted = allocation.halted_by_max_total_price;
    }

    /// Restarts stopped Spot instances (oldest first) where their pool has capacity.
    /// Returns the need left.
    fn resume_stopped(
        &mut self,
        id: &FleetId,
        mut need: Units,
        offerings: &mut Offerings,
        now: SimTime,
        events: &mut Vec<Event>,
    ) -> Units {
        let Some(fleet) = self.fleets.get(id) else {
            return need;
        };
        if fleet.spec.fleet_type != FleetType::Maintain {
            return need;
        }
        let stopped: Vec<InstanceId> = fleet
            .instances
            .iter()
            .filter(|i| {
                self.instances
                    .get(*i)
                    .is_some_and(|i| i.state == InstanceState::Stopped)
            })
            .cloned()
            .collect();
        for instance_id in stopped {
            if need == Units::ZERO {
                break;
            }
            let Some(instance) = self.instances.get(&instance_id) else {
                continue;
            };
            let (pool, weight) = (instance.pool, instance.weight);
            let has_capacity = offerings
                .get(pool)
                .is_some_and(|o| o.spot_capacity > 0 && o.spot_price <= instance.max_price)
                && offerings.host_fits(pool);
            if !has_capacity {
                continue;
            }
            self.resume(&instance_id, now, events);
            offerings.consume(pool, Lifecycle::Spot, 1);
            need = need.saturating_sub(weight);
        }
        need
    }

    /// Removes instances of `lifecycle` above `target`, in the strategy's victim order,
    /// without going below target.
    fn scale_down(
        &mut self,
        id: &FleetId,
        lifecycle: Lifecycle,
        target: Units,
        offerings: &Offerings,
        now: SimTime,
        events: &mut Vec<Event>,
    ) {
        let Some(fleet) = self.fleets.get(id) else {
            return;
        };
        let mut counted = fleet.counted(&self.instances, lifecycle);
        let candidates: Vec<&Instance> = fleet
            .live(&self.instances)
            .filter(|i| i.lifecycle == lifecycle && i.counts())
            .collect();
        let order = victim_order(&fleet.spec, lifecycle, candidates, offerings);
        let mut removed = Vec::new();
        for (instance_id, weight) in order {
            if counted <= target {
                break;
            }
            if counted.saturating_sub(weight) < target {
                continue;
            }
            counted = counted.saturating_sub(weight);
            removed.push(instance_id);
        }
        for instance_id in removed {
            match lifecycle {
                Lifecycle::Spot => {
                    self.give_notice(&instance_id, InterruptionReason::ScaleDown, now, events)
                }
                Lifecycle::OnDemand => {
                    if let Some(instance) = self.instances.get_mut(&instance_id) {
                        instance.removing = true;
                    }
                    self.terminate(&instance_id, now, "Client.UserInitiatedShutdown", events);
                }
            }
        }
    }
}

/// The order in which a scale-down removes instances: lowest-price removes the highest
/// price per unit first; capacity-optimized strategies remove from the pools with the
/// least spare capacity first; diversified removes from the fullest pool first;
/// On-Demand prioritized removes the lowest priority first. Newer instances go before
/// older ones at equal rank.
fn victim_order(
    spec: &crate::spec::FleetSpec,
    lifecycle: Lifecycle,
    candidates: Vec<&Instance>,
    offerings: &Offerings,
) -> Vec<(InstanceId, Units)> {
    let score = |i: &Instance| offerings.get(i.pool).map_or(0, |o| o.capacity_score);
    // price per unit, scaled to an integer: micro-dollars per thousand units.
    let per_unit = |i: &Instance| {
        u128::from(i.price.as_micros()) * 1_000_000 / u128::from(i.weight.milli().max(1))
    };
    let newest_first = |i: &Instance| std::cmp::Reverse((i.launched_at, i.id.clone()));
    let mut sorted = candidates;
    match (lifecycle, spec.spot.strategy, spec.on_demand.strategy) {
        (Lifecycle::Spot, SpotAllocationStrategy::Diversified, _) => {
            // Dynamic: always take from the pool that holds the most units now.
            let mut left: Vec<&Instance> = sorted;
            let mut order = Vec::new();
            while !left.is_empty() {
                let mut per_pool: std::collections::BTreeMap<Pool, Units> = Default::default();
                for i in &left {
                    *per_pool.entry(i.pool).or_default() += i.weight;
                }
                let Some(index) = (0..left.len()).max_by_key(|&k| {
                    let i = left[k];
                    (
                        per_pool.get(&i.pool).copied().unwrap_or_default(),
                        per_unit(i),
                        i.launched_at,
                        i.id.clone(),
                    )
                }) else {
                    break;
                };
                let victim = left.remove(index);
                order.push((victim.id.clone(), victim.weight));
            }
            return order;
        }
        (Lifecycle::Spot, SpotAllocationStrategy::LowestPrice, _)
        | (Lifecycle::OnDemand, _, OnDemandAllocationStrategy::LowestPrice) => {
            sorted.sort_by_key(|i| (std::cmp::Reverse(per_unit(i)), newest_first(i)));
        }
        (Lifecycle::Spot, SpotAllocationStrategy::CapacityOptimized, _)
        | (Lifecycle::Spot, SpotAllocationStrategy::CapacityOptimizedPrioritized, _) => {
            sorted.sort_by_key(|i| (score(i), newest_first(i)));
        }
        (Lifecycle::Spot, SpotAllocationStrategy::PriceCapacityOptimized, _) => {
            sorted.sort_by_key(|i| (score(i), std::cmp::Reverse(per_unit(i)), newest_first(i)));
        }
        (Lifecycle::OnDemand, _, OnDemandAllocationStrategy::Prioritized) => {
            let priority = |i: &Instance| {
                spec.specs
                    .get(i.spec_index)
                    .and_then(|s| s.priority)
                    .map_or(u64::MAX, |p| p.0)
            };
            sorted.sort_by_key(|i| (std::cmp::Reverse(priority(i)), newest_first(i)));
        }
    }
    sorted
        .into_iter()
        .map(|i| (i.id.clone(), i.weight))
        .collect()
}
