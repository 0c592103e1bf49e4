//! A pure simulated EC2 region: the Spot [`market`] and the fleet [`Engine`] stepped
//! together through virtual time, emitting one ordered event log.
//!
//! The world owns what couples the two: it occupies and releases market capacity as
//! instances come and go, draws each Spot instance's natural reclaim time from the market
//! when it launches, turns capacity shortfalls and reclaims into interruptions, feeds
//! price changes to running instances, and applies injected faults. It also keeps the
//! figures a report needs (time below target, interruptions by pool).
//!
//! Same seed and inputs, same log: there is no clock, no I/O and no unseeded randomness.
//! A control plane drives a `World` with its own clock; `spotlab simulate` and the
//! scenario tests drive it as fast as it computes.

mod log;
mod report;
pub mod script;

use std::collections::{BTreeMap, BTreeSet};

use fleet::validate::{Environment, StaticEnvironment};
use fleet::wire::{CreateFleetRequest, DeleteFleetsRequest, ModifyFleetRequest};
use fleet::{
    DeleteFleetsOutput, Engine, EngineConfig, Event, FleetError, FleetId, InstanceId,
    InterruptionReason, Offerings,
};
use market::{Market, MarketConfig, MarketEvent, Pool, Price};
use serde::Serialize;
use simtime::{SimDuration, SimTime};

pub use log::{LogEntry, LogRecord};
pub use report::{PoolSummary, Summary, summarize};

/// Everything that fixes a world's behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct WorldConfig {
    /// The market: seed, start instant, reclaim-rate scale.
    pub market: MarketConfig,
    /// Fleet engine timings.
    pub engine: EngineConfig,
    /// What the host running the instances can hold, if bounded (the local cloud's
    /// protection of its machine; the simulator has none).
    pub host: Option<HostLimits>,
}

/// The most instances and vCPUs the host may run at once. Launches beyond them fail
/// with `InsufficientInstanceCapacity` in the pools concerned, as on EC2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct HostLimits {
    /// Instances that are not terminated (a stopped instance counts while hibernated).
    pub instances: u32,
    /// Their vCPUs.
    pub vcpus: u64,
}

impl WorldConfig {
    /// Defaults with the given seed.
    pub fn with_seed(seed: u64) -> WorldConfig {
        WorldConfig {
            market: MarketConfig {
                seed,
                ..MarketConfig::default()
            },
            engine: EngineConfig::default(),
            host: None,
        }
    }
}

/// A fault to inject, in the spirit of AWS FIS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Injection {
    /// The pool holds at most `level` of our Spot instances until `until` (or until
    /// restored); instances above that are reclaimed.
    DropCapacity {
        /// The pool.
        pool: Pool,
        /// Spot instances it can hold.
        level: u32,
        /// When natural capacity returns (`None`: until restored).
        until: Option<SimTime>,
    },
    /// Natural capacity returns to the pool.
    RestoreCapacity {
        /// The pool.
        pool: Pool,
    },
    /// These Spot instances get the interruption notice now.
    Interrupt {
        /// The instances.
        instances: Vec<InstanceId>,
    },
    /// These instances get a rebalance recommendation now.
    Rebalance {
        /// The instances.
        instances: Vec<InstanceId>,
    },
}

/// A natural event the world scheduled for one instance, drawn from the market at launch.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Natural {
    Rebalance(InstanceId),
    Reclaim(InstanceId),
}

/// Per-fleet bookkeeping for the report.
#[derive(Clone, Debug, Default)]
pub(crate) struct FleetStats {
    /// Time with running capacity below target, while the fleet manages capacity.
    pub below_target: SimDuration,
    /// Whether it was below target at `since`.
    pub below: bool,
    /// When `below` was last evaluated.
    pub since: Option<SimTime>,
}

/// The simulated region.
#[derive(Debug)]
pub struct World {
    config: WorldConfig,
    market: Market,
    engine: Engine,
    env: StaticEnvironment,
    now: SimTime,
    natural: BTreeSet<(SimTime, Natural)>,
    log: Vec<LogEntry>,
    stats: BTreeMap<FleetId, FleetStats>,
    /// Engine events happened since fleets were last checked against their targets.
    targets_stale: bool,
    /// Injections to perform later, by (time, order of scheduling).
    scheduled: BTreeMap<(SimTime, u64), Injection>,
    /// How many injections have been scheduled, for their order.
    scheduled_count: u64,
}

/// A world-level failure: an AWS API error, or an injection that names something
/// unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    /// The engine refused the call, with AWS's code.
    #[error(transparent)]
    Api(#[from] FleetError),
    /// Time cannot go backwards.
    #[error("cannot go back in time from {now} to {target}")]
    TimeTravel {
        /// Current time.
        now: SimTime,
        /// Requested time.
        target: SimTime,
    },
}

impl World {
    /// A new world at `config.market.start` with the simulator's environment (any
    /// launch template resolves; subnets must be registered with [`World::add_subnet`]).
    pub fn new(config: WorldConfig) -> World {
        let now = config.market.start;
        World {
            market: Market::new(config.market),
            engine: Engine::new(config.engine.clone(), config.market.seed),
            env: StaticEnvironment::simulator(),
            now,
            natural: BTreeSet::new(),
            log: Vec::new(),
            stats: BTreeMap::new(),
            targets_stale: false,
            scheduled: BTreeMap::new(),
            scheduled_count: 0,
            config,
        }
    }

    /// Maps a subnet id to a zone, as a local VPC would.
    pub fn add_subnet(&mut self, subnet_id: &str, zone: market::ZoneId) {
        self.env.subnets.insert(subnet_id.to_owned(), zone);
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The configuration.
    pub fn config(&self) -> &WorldConfig {
        &self.config
    }

    /// The fleet engine (read-only: change it through the world's methods).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The market (mutable, because queries advance its lazy processes).
    pub fn market_mut(&mut self) -> &mut Market {
        &mut self.market
    }

    /// The event log so far.
    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// CreateFleet at the current time, in the simulator's environment.
    pub fn create_fleet(&mut self, request: &CreateFleetRequest) -> Result<FleetId, WorldError> {
        let env = self.env.clone();
        self.create_fleet_in(request, &env)
    }

    /// CreateFleet at the current time, resolving subnets and launch templates in `env`
    /// (the local cloud's own VPCs and templates).
    pub fn create_fleet_in(
        &mut self,
        request: &CreateFleetRequest,
        env: &dyn Environment,
    ) -> Result<FleetId, WorldError> {
        let prepared = self.engine.prepare_create(request, env)?;
        let pools = prepared.pools();
        for pool in &pools {
            self.market.watch(*pool, self.now);
        }
        let mut offerings = self.offerings(&pools);
        let (id, events) = self
            .engine
            .commit_create(prepared, &mut offerings, self.now);
        self.stats.entry(id.clone()).or_default();
        self.handle(events);
        self.settle();
        Ok(id)
    }

    /// ModifyFleet at the current time, in the simulator's environment.
    pub fn modify_fleet(&mut self, request: &ModifyFleetRequest) -> Result<(), WorldError> {
        let env = self.env.clone();
        self.modify_fleet_in(request, &env)
    }

    /// ModifyFleet at the current time, resolving launch templates in `env`.
    pub fn modify_fleet_in(
        &mut self,
        request: &ModifyFleetRequest,
        env: &dyn Environment,
    ) -> Result<(), WorldError> {
        let events = self.engine.modify_fleet(request, env, self.now)?;
        self.handle(events);
        if let Some(fleet) = request
            .fleet_id
            .as_ref()
            .and_then(|id| self.engine.fleet(&FleetId::new(id.as_str())))
        {
            for pool in fleet.spec.specs.iter().map(|s| s.pool).collect::<Vec<_>>() {
                self.market.watch(pool, self.now);
            }
        }
        self.settle();
        Ok(())
    }

    /// DeleteFleets at the current time.
    pub fn delete_fleets(
        &mut self,
        request: &DeleteFleetsRequest,
    ) -> Result<DeleteFleetsOutput, WorldError> {
        let (output, events) = self.engine.delete_fleets(request, self.now)?;
        self.handle(events);
        self.settle();
        Ok(output)
    }

    /// TerminateInstances at the current time.
    pub fn terminate_instances(&mut self, ids: &[InstanceId]) -> Result<(), WorldError> {
        let events = self.engine.terminate_instances(ids, self.now)?;
        self.handle(events);
        self.settle();
        Ok(())
    }

    /// Injects a fault at the current time.
    pub fn inject(&mut self, injection: Injection) -> Result<(), WorldError> {
        self.log.push(LogEntry {
            at: self.now,
            record: LogRecord::Injected(injection.clone()),
        });
        match injection {
            Injection::DropCapacity { pool, level, until } => {
                let events = self.market.drop_capacity(pool, level, until, self.now);
                for event in events {
                    self.market_event(event);
                }
            }
            Injection::RestoreCapacity { pool } => self.market.restore_capacity(pool, self.now),
            Injection::Interrupt { instances } => {
                let events =
                    self.engine
                        .interrupt(&instances, InterruptionReason::Injected, self.now)?;
                self.handle(events);
            }
            Injection::Rebalance { instances } => {
                let events = self.engine.recommend_rebalance(&instances, self.now)?;
                self.handle(events);
            }
        }
        self.settle();
        Ok(())
    }

    /// Performs `injection` at `at` (now if `at` is not in the future). Injections
    /// scheduled for one instant happen in the order they were scheduled. An interruption
    /// that comes due after some of its instances ended applies to those still live.
    pub fn schedule_injection(
        &mut self,
        at: SimTime,
        injection: Injection,
    ) -> Result<(), WorldError> {
        if at <= self.now {
            return self.inject(injection);
        }
        self.scheduled.insert((at, self.scheduled_count), injection);
        self.scheduled_count += 1;
        Ok(())
    }

    /// Runs the world forward to `target`, performing everything due on the way in
    /// time order.
    pub fn advance_to(&mut self, target: SimTime) -> Result<(), WorldError> {
        if target < self.now {
            return Err(WorldError::TimeTravel {
                now: self.now,
                target,
            });
        }
        loop {
            match self.next_due() {
                Some(t) if t <= target => {
                    self.now = t.max(self.now);
                    self.tick();
                }
                _ => break,
            }
        }
        // Nothing happened since the last settle, so who is below target is unchanged:
        // only the time spent so is carried forward.
        self.track_targets(target, false);
        self.now = target;
        Ok(())
    }

    /// The next instant at which something is due (a boot, a notice's action, a price
    /// change, a natural interruption, a scheduled injection).
    pub fn next_due(&self) -> Option<SimTime> {
        [
            self.engine.next_due(),
            self.market.next_event_time(),
            self.natural.first().map(|(t, _)| *t),
            self.scheduled.keys().next().map(|(t, _)| *t),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs the world forward by `span`.
    pub fn advance(&mut self, span: SimDuration) -> Result<(), WorldError> {
        self.advance_to(self.now + span)
    }

    /// Everything due at exactly `self.now`.
    fn tick(&mut self) {
        for event in self.market.advance(self.now) {
            self.market_event(event);
        }
        while let Some((at, natural)) = self.natural.first().cloned() {
            if at > self.now {
                break;
            }
            self.natural.remove(&(at, natural.clone()));
            let (id, rebalance) = match natural {
                Natural::Reclaim(id) => (id, false),
                Natural::Rebalance(id) => (id, true),
            };
            let still_live = self
                .engine
                .instance(&id)
                .is_some_and(|i| i.state.is_live() && i.notice.is_none());
            if !still_live {
                continue;
            }
            let result = if rebalance {
                self.engine
                    .recommend_rebalance(std::slice::from_ref(&id), self.now)
            } else {
                self.engine.interrupt(
                    std::slice::from_ref(&id),
                    InterruptionReason::Capacity,
                    self.now,
                )
            };
            if let Ok(events) = result {
                self.handle(events);
            }
        }
        while let Some(entry) = self.scheduled.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let injection = match entry.remove() {
                Injection::Interrupt { instances } => Injection::Interrupt {
                    instances: self.live_spot(instances),
                },
                Injection::Rebalance { instances } => Injection::Rebalance {
                    instances: self.live_spot(instances),
                },
                other => other,
            };
            // Every instance named is live and Spot, so the engine accepts the batch.
            let _ = self.inject(injection);
        }
        self.settle();
    }

    /// The instances of `ids` that are live Spot instances without a notice.
    fn live_spot(&self, ids: Vec<InstanceId>) -> Vec<InstanceId> {
        ids.into_iter()
            .filter(|id| {
                self.engine.instance(id).is_some_and(|i| {
                    i.state.is_live()
                        && i.notice.is_none()
                        && i.lifecycle == fleet::spec::Lifecycle::Spot
                })
            })
            .collect()
    }

    /// A market snapshot of `pools`, bounded by what the host can still take.
    fn offerings(&mut self, pools: &[Pool]) -> Offerings {
        let offerings = Offerings::new(self.market.offerings(pools, self.now));
        let Some(limits) = self.config.host else {
            return offerings;
        };
        let (mut instances, mut vcpus) = (0u32, 0u64);
        for instance in self.engine.instances() {
            let holds = match instance.state {
                fleet::InstanceState::Terminated => false,
                fleet::InstanceState::Stopped => instance.hibernated,
                _ => true,
            };
            if holds {
                instances += 1;
                vcpus += u64::from(instance.pool.instance_type_info().vcpus);
            }
        }
        offerings.with_host_budget(fleet::HostBudget {
            instances: limits.instances.saturating_sub(instances),
            vcpus: limits.vcpus.saturating_sub(vcpus),
        })
    }

    /// Runs the engine's due work at the current time until nothing more is due now,
    /// then re-evaluates which fleets are below target.
    fn settle(&mut self) {
        while self.engine.next_due().is_some_and(|t| t <= self.now) {
            let pools: Vec<Pool> = self.engine.pools_of_interest().into_iter().collect();
            let mut offerings = self.offerings(&pools);
            let events = self.engine.step(self.now, &mut offerings);
            self.handle(events);
        }
        // Running capacity only changes through engine events; between them the
        // below-target state is constant, so checking after events keeps it exact.
        if self.targets_stale {
            self.track_targets(self.now, true);
            self.targets_stale = false;
        }
    }

    fn market_event(&mut self, event: MarketEvent) {
        self.log.push(LogEntry {
            at: event.at(),
            record: LogRecord::Market(event),
        });
        match event {
            MarketEvent::PriceChanged { pool, price, at } => {
                let events = self.engine.price_changed(pool, price, at);
                self.handle(events);
            }
            MarketEvent::CapacityShortfall { pool, excess, at } => {
                // The newest instances in the pool go first.
                let mut victims: Vec<(SimTime, InstanceId)> = self
                    .engine
                    .instances()
                    .filter(|i| i.pool == pool && i.state.is_live() && i.notice.is_none())
                    .filter(|i| i.lifecycle == fleet::spec::Lifecycle::Spot)
                    .map(|i| (i.launched_at, i.id.clone()))
                    .collect();
                victims.sort();
                victims.reverse();
                let ids: Vec<InstanceId> = victims
                    .into_iter()
                    .take(excess as usize)
                    .map(|(_, id)| id)
                    .collect();
                if let Ok(events) = self
                    .engine
                    .interrupt(&ids, InterruptionReason::Capacity, at)
                {
                    self.handle(events);
                }
            }
        }
    }

    /// Logs engine events and couples them to the market.
    fn handle(&mut self, events: Vec<Event>) {
        self.targets_stale |= !events.is_empty();
        for event in events {
            match &event {
                Event::Launched {
                    instance,
                    pool,
                    lifecycle: fleet::spec::Lifecycle::Spot,
                    at,
                    ..
                } => {
                    self.market.occupy(*pool, 1);
                    self.market.watch(*pool, *at);
                    self.schedule_reclaim(instance, *pool, *at);
                }
                Event::Resumed { instance, pool, at } => {
                    self.market.occupy(*pool, 1);
                    self.schedule_reclaim(instance, *pool, *at);
                }
                Event::Terminated {
                    pool,
                    lifecycle: fleet::spec::Lifecycle::Spot,
                    ..
                }
                | Event::Stopped { pool, .. } => {
                    self.market.release(*pool, 1);
                }
                _ => {}
            }
            self.log.push(LogEntry {
                at: event.at(),
                record: LogRecord::Fleet(event),
            });
        }
    }

    fn schedule_reclaim(&mut self, instance: &InstanceId, pool: Pool, at: SimTime) {
        let reclaim = self.market.draw_reclaim(pool);
        let reclaim_at = at + reclaim.after;
        self.natural
            .insert((reclaim_at, Natural::Reclaim(instance.clone())));
        if let Some(lead) = reclaim.rebalance_lead {
            let rebalance_at =
                SimTime::from_millis(reclaim_at.as_millis().saturating_sub(lead.as_millis()));
            if rebalance_at > at {
                self.natural
                    .insert((rebalance_at, Natural::Rebalance(instance.clone())));
            }
        }
    }

    /// Accumulates, per fleet, the time its running capacity spent below target up to
    /// `until` (the state is constant between events), then, with `evaluate`,
    /// re-evaluates it from the current state (after every change; evaluating costs a
    /// pass over the fleet's instances, so time steps without events skip it).
    fn track_targets(&mut self, until: SimTime, evaluate: bool) {
        let instances = self.engine.instance_map();
        for fleet in self.engine.fleets() {
            let stats = self.stats.entry(fleet.id.clone()).or_default();
            let known = stats.since.is_some();
            if let Some(since) = stats.since
                && stats.below
            {
                stats.below_target += until.saturating_since(since);
            }
            stats.since = Some(until);
            if known && !evaluate {
                continue;
            }
            let running: fleet::spec::Units = fleet
                .live(instances)
                .filter(|i| i.counts() && i.state == fleet::InstanceState::Running)
                .map(|i| i.weight)
                .sum();
            stats.below = fleet.state.is_managing()
                && fleet.spec.fleet_type != fleet::spec::FleetType::Instant
                && running < fleet::spec::Units::from_whole(fleet.spec.target.total);
        }
    }

    /// Settles every instance's cost to now and summarises the run.
    pub fn summary(&mut self) -> Summary {
        self.engine.accrue_all(self.now);
        summarize(self)
    }

    pub(crate) fn stats(&self) -> &BTreeMap<FleetId, FleetStats> {
        &self.stats
    }

    /// The current Spot price of a pool.
    pub fn spot_price(&mut self, pool: Pool) -> Price {
        self.market.spot_price(pool, self.now)
    }
}
