//! The engine: every fleet and instance, and the operations of the EC2 Fleet API as pure
//! functions over (state, input, now).
//!
//! Calls that change state return [`Event`]s saying what happened; the caller (the
//! simulated world, or the control plane) logs them and acts on them: occupying and
//! releasing market capacity, starting and stopping processes, publishing notices.
//! Time moves only through [`Engine::step`], which performs every transition due by
//! `now` in time order; [`Engine::next_due`] says when to call it next.
//!
//! Creating a fleet is two-phase so the caller can fetch market offerings for exactly
//! the pools the request names: [`Engine::prepare_create`] validates, then
//! [`Engine::commit_create`] registers (and, for instant fleets, launches).

use std::collections::{BTreeMap, BTreeSet};

use market::{Pool, Price};
use serde::Serialize;
use simtime::{SimDuration, SimTime};

use crate::allocate::Offerings;
use crate::error::{ErrorCode, FleetError};
use crate::fleet::{Fleet, FleetState};
use crate::history::{EventSubType, HistoryRecord};
use crate::ids::{FleetId, IdGen, InstanceId};
use crate::instance::{Instance, InterruptionReason, Notice};
use crate::spec::{FleetSpec, FleetType, Lifecycle, Units};
use crate::validate::{self, Environment};
use crate::wire::{CreateFleetRequest, ModifyFleetRequest};

/// Timings of the simulated EC2; the defaults are documented AWS behaviour where AWS
/// documents one, and short plausible values otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EngineConfig {
    /// From launch (`pending`) to `running`. Not documented by AWS; real launches take
    /// tens of seconds.
    pub boot_delay: SimDuration,
    /// From an interruption notice to its action: 2 minutes, as AWS documents.
    pub notice_lead: SimDuration,
    /// From `shutting-down` to `terminated`.
    pub shutdown_delay: SimDuration,
    /// From `stopping` to `stopped`.
    pub stop_delay: SimDuration,
    /// How long a pool that failed with insufficient capacity is skipped.
    pub unavailable_for: SimDuration,
    /// How often a fleet below target tries again.
    pub retry_interval: SimDuration,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            boot_delay: SimDuration::from_secs(20),
            notice_lead: SimDuration::from_mins(2),
            shutdown_delay: SimDuration::from_secs(10),
            stop_delay: SimDuration::from_secs(10),
            unavailable_for: SimDuration::from_mins(5),
            retry_interval: SimDuration::from_secs(30),
        }
    }
}

/// Something that happened, for the caller to log and act on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A fleet changed state.
    FleetState {
        /// When.
        at: SimTime,
        /// Which fleet.
        fleet: FleetId,
        /// The new state.
        state: FleetState,
    },
    /// An instance was launched (state `pending`).
    Launched {
        /// When.
        at: SimTime,
        /// Which fleet.
        fleet: FleetId,
        /// The new instance.
        instance: InstanceId,
        /// Its pool.
        pool: Pool,
        /// Spot or On-Demand.
        lifecycle: Lifecycle,
        /// The hourly price it pays now.
        price: Price,
        /// Launched to replace lost capacity (after an interruption, a termination or
        /// a rebalance recommendation) rather than to reach a new target.
        replacement: bool,
    },
    /// A pool could not supply instances.
    LaunchFailed {
        /// When.
        at: SimTime,
        /// Which fleet.
        fleet: FleetId,
        /// The pool.
        pool: Pool,
        /// Spot or On-Demand.
        lifecycle: Lifecycle,
        /// AWS's code.
        code: crate::error::LaunchErrorCode,
    },
    /// An instance reached `running`.
    Running {
        /// When.
        at: SimTime,
        /// Which instance.
        instance: InstanceId,
    },
    /// A stopped Spot instance was restarted because capacity returned.
    Resumed {
        /// When.
        at: SimTime,
        /// Which instance.
        instance: InstanceId,
        /// Its pool.
        pool: Pool,
    },
    /// A Spot instance got its interruption notice (IMDS `spot/instance-action`, the
    /// `EC2 Spot Instance Interruption Warning` event).
    Notice {
        /// When.
        at: SimTime,
        /// Which instance.
        instance: InstanceId,
        /// The notice.
        notice: Notice,
    },
    /// A rebalance recommendation was raised for an instance.
    Rebalance {
        /// When.
        at: SimTime,
        /// Which instance.
        instance: InstanceId,
    },
    /// An instance began to shut down or stop.
    Stopping {
        /// When.
        at: SimTime,
        /// Which instance.
        instance: InstanceId,
        /// `shutting-down` or `stopping`.
        state: &'static str,
    },
    /// An instance is terminated; its capacity returns to the pool.
    Terminated {
        /// When.
        at: SimTime,
        /// Which instance.
        instance: InstanceId,
        /// Its pool.
        pool: Pool,
        /// Spot or On-Demand.
        lifecycle: Lifecycle,
    },
    /// An instance is stopped (Spot `stop`/`hibernate`); its capacity returns to the pool.
    Stopped {
        /// When.
        at: SimTime,
        /// Which instance.
        instance: InstanceId,
        /// Its pool.
        pool: Pool,
    },
}

impl Event {
    /// When it happened.
    pub fn at(&self) -> SimTime {
        match self {
            Event::FleetState { at, .. }
            | Event::Launched { at, .. }
            | Event::LaunchFailed { at, .. }
            | Event::Running { at, .. }
            | Event::Resumed { at, .. }
            | Event::Notice { at, .. }
            | Event::Rebalance { at, .. }
            | Event::Stopping { at, .. }
            | Event::Terminated { at, .. }
            | Event::Stopped { at, .. } => *at,
        }
    }
}

/// Something the engine must look at again at a given instant. Instances sort before
/// fleets so that capacity freed at an instant is seen by reconciles at that instant.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    Instance(InstanceId),
    Fleet(FleetId),
}

/// A validated CreateFleet, ready to commit.
#[derive(Clone, Debug)]
pub enum Prepared {
    /// A new fleet.
    New(Box<FleetSpec>),
    /// The same ClientToken and parameters as an earlier call: the same answer.
    Existing(FleetId),
}

impl Prepared {
    /// The pools the caller must include in the offerings passed to `commit_create`.
    pub fn pools(&self) -> Vec<Pool> {
        match self {
            Prepared::New(spec) => spec.specs.iter().map(|s| s.pool).collect(),
            Prepared::Existing(_) => Vec::new(),
        }
    }
}

/// Every fleet and instance of one account in one region.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) config: EngineConfig,
    pub(crate) fleets: BTreeMap<FleetId, Fleet>,
    pub(crate) instances: BTreeMap<InstanceId, Instance>,
    /// Live Spot instances per pool, for price changes.
    pub(crate) spot_by_pool: BTreeMap<Pool, BTreeSet<InstanceId>>,
    /// ClientToken -> fleet, for idempotency.
    pub(crate) tokens: BTreeMap<String, FleetId>,
    pub(crate) ids: IdGen,
    pub(crate) timers: BTreeSet<(SimTime, Timer)>,
}

impl Engine {
    /// An empty engine whose ids are drawn from `seed`.
    pub fn new(config: EngineConfig, seed: u64) -> Engine {
        Engine {
            config,
            fleets: BTreeMap::new(),
            instances: BTreeMap::new(),
            spot_by_pool: BTreeMap::new(),
            tokens: BTreeMap::new(),
            ids: IdGen::new(seed),
            timers: BTreeSet::new(),
        }
    }

    /// The engine's timings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// A fleet by id.
    pub fn fleet(&self, id: &FleetId) -> Option<&Fleet> {
        self.fleets.get(id)
    }

    /// Every fleet, by id.
    pub fn fleets(&self) -> impl Iterator<Item = &Fleet> {
        self.fleets.values()
    }

    /// An instance by id.
    pub fn instance(&self, id: &InstanceId) -> Option<&Instance> {
        self.instances.get(id)
    }

    /// Every instance ever launched, by id.
    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.instances.values()
    }

    /// The instance map, for fleet computations.
    pub fn instance_map(&self) -> &BTreeMap<InstanceId, Instance> {
        &self.instances
    }

    /// Validates a CreateFleet request and checks its ClientToken. A permitted DryRun
    /// answers `DryRunOperation`.
    pub fn prepare_create(
        &self,
        request: &CreateFleetRequest,
        env: &dyn Environment,
    ) -> Result<Prepared, FleetError> {
        let spec = validate::validate_create(request, env)?;
        if let Some(token) = &spec.client_token
            && let Some(existing) = self.tokens.get(token).and_then(|id| self.fleets.get(id))
        {
            let mut theirs = existing.spec.request.clone();
            let mut ours = request.clone();
            theirs.dry_run = None;
            ours.dry_run = None;
            if theirs != ours {
                return Err(FleetError::new(
                    ErrorCode::IdempotentParameterMismatch,
                    format!(
                        "Arguments on this idempotent request are inconsistent with arguments used in previous request(s) with client token {token}."
                    ),
                ));
            }
            if request.dry_run == Some(true) {
                return Err(FleetError::dry_run());
            }
            return Ok(Prepared::Existing(existing.id.clone()));
        }
        if request.dry_run == Some(true) {
            return Err(FleetError::dry_run());
        }
        Ok(Prepared::New(Box::new(spec)))
    }

    /// Registers a prepared fleet. A fleet whose `ValidFrom` is in the future stays
    /// `submitted` until then; an instant fleet launches at once from `offerings`;
    /// request and maintain fleets launch at the next [`Engine::step`].
    pub fn commit_create(
        &mut self,
        prepared: Prepared,
        offerings: &mut Offerings,
        now: SimTime,
    ) -> (FleetId, Vec<Event>) {
        let spec = match prepared {
            Prepared::Existing(id) => return (id, Vec::new()),
            Prepared::New(spec) => *spec,
        };
        let id = self.ids.fleet_id();
        if let Some(token) = &spec.client_token {
            self.tokens.insert(token.clone(), id.clone());
        }
        let valid_from = spec.valid_from;
        let fleet_type = spec.fleet_type;
        let mut fleet = Fleet {
            id: id.clone(),
            spec,
            state: FleetState::Submitted,
            created_at: now,
            history: Vec::new(),
            instances: Vec::new(),
            unavailable: BTreeMap::new(),
            errors: Vec::new(),
            pinned_specs: None,
            fulfilled_once: false,
            deleted_at: None,
            lost_units: Units::ZERO,
            halted: false,
        };
        fleet.record(HistoryRecord::new(now, EventSubType::Submitted, None, ""));
        self.fleets.insert(id.clone(), fleet);
        let mut events = vec![Event::FleetState {
            at: now,
            fleet: id.clone(),
            state: FleetState::Submitted,
        }];
        match valid_from {
            Some(from) if from > now => self.schedule(from, Timer::Fleet(id.clone())),
            _ => {
                self.activate(&id, now, &mut events);
                if fleet_type == FleetType::Instant {
                    self.launch_instant(&id, offerings, now, &mut events);
                }
            }
        }
        (id, events)
    }

    /// Applies a ModifyFleet: new target, excess-capacity policy or launch templates.
    /// The fleet is `modifying` until the next [`Engine::step`] carries the change out.
    pub fn modify_fleet(
        &mut self,
        request: &ModifyFleetRequest,
        env: &dyn Environment,
        now: SimTime,
    ) -> Result<Vec<Event>, FleetError> {
        let id = FleetId::new(request.fleet_id.clone().unwrap_or_default());
        let fleet = self.fleet_for_call(&id)?;
        if fleet.spec.fleet_type != FleetType::Maintain {
            return Err(FleetError::new(
                ErrorCode::Unsupported,
                format!(
                    "Fleet {id} is of type {}; only fleets of type maintain can be modified.",
                    fleet.spec.fleet_type.as_str()
                ),
            ));
        }
        if !matches!(
            fleet.state,
            FleetState::Submitted | FleetState::Active | FleetState::Modifying
        ) {
            return Err(FleetError::new(
                ErrorCode::FleetNotInModifiableState,
                format!(
                    "Fleet {id} is in state {} and cannot be modified.",
                    fleet.state.as_str()
                ),
            ));
        }
        let new_spec = validate::validate_modify(request, &fleet.spec, env)?;
        if request.dry_run == Some(true) {
            return Err(FleetError::dry_run());
        }
        let description = describe_change(&fleet.spec, &new_spec);
        let mut events = Vec::new();
        if let Some(fleet) = self.fleets.get_mut(&id) {
            fleet.spec = new_spec;
            fleet.record(HistoryRecord::new(
                now,
                EventSubType::ModifyInProgress,
                None,
                description,
            ));
            if fleet.state == FleetState::Active {
                fleet.state = FleetState::Modifying;
                events.push(Event::FleetState {
                    at: now,
                    fleet: id.clone(),
                    state: FleetState::Modifying,
                });
            }
        }
        self.schedule(now, Timer::Fleet(id));
        Ok(events)
    }

    /// The pools whose offerings a [`Engine::step`] may need: those of every fleet that
    /// still manages capacity, and those of live instances.
    pub fn pools_of_interest(&self) -> BTreeSet<Pool> {
        let mut pools: BTreeSet<Pool> = self
            .fleets
            .values()
            .filter(|f| !f.state.is_deleted())
            .flat_map(|f| f.spec.specs.iter().map(|s| s.pool))
            .collect();
        pools.extend(self.spot_by_pool.keys().copied());
        pools
    }

    /// The next instant at which [`Engine::step`] has work, if any.
    pub fn next_due(&self) -> Option<SimTime> {
        self.timers.first().map(|(t, _)| *t)
    }

    /// Performs every transition due at or before `now`, in time order: boots,
    /// interruption actions, shutdowns, `ValidFrom`/`ValidUntil`, and reconciles of
    /// fleets whose instances or targets changed (launching from `offerings`).
    pub fn step(&mut self, now: SimTime, offerings: &mut Offerings) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some((at, timer)) = self.timers.first().cloned() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, timer.clone()));
            match timer {
                Timer::Instance(id) => self.instance_due(&id, at, &mut events),
                Timer::Fleet(id) => self.fleet_due(&id, at, offerings, &mut events),
            }
        }
        events
    }

    /// Settles every running instance's cost up to `now` (for reports).
    pub fn accrue_all(&mut self, now: SimTime) {
        for instance in self.instances.values_mut() {
            instance.accrue(now);
        }
    }

    /// Records a Spot price change: running instances in the pool pay the new price
    /// from `now`; those whose maximum price it exceeds get an interruption notice.
    pub fn price_changed(&mut self, pool: Pool, price: Price, now: SimTime) -> Vec<Event> {
        let ids: Vec<InstanceId> = self
            .spot_by_pool
            .get(&pool)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default();
        let mut over_max = Vec::new();
        for id in &ids {
            if let Some(instance) = self.instances.get_mut(id) {
                instance.accrue(now);
                instance.price = price;
                if price > instance.max_price && instance.notice.is_none() {
                    over_max.push(id.clone());
                }
            }
        }
        let mut events = Vec::new();
        for id in over_max {
            self.give_notice(&id, InterruptionReason::Price, now, &mut events);
        }
        events
    }

    /// Interrupts Spot instances (market reclaim or fault injection): each gets the
    /// notice and its fleet's interruption behaviour 2 minutes later (hibernate: at
    /// once). Unknown ids, On-Demand instances and instances that are not pending or
    /// running are refused, and then nothing is done.
    pub fn interrupt(
        &mut self,
        ids: &[InstanceId],
        reason: InterruptionReason,
        now: SimTime,
    ) -> Result<Vec<Event>, FleetError> {
        for id in ids {
            let instance = self.instance_for_call(id)?;
            if instance.lifecycle != Lifecycle::Spot {
                return Err(FleetError::new(
                    ErrorCode::Unsupported,
                    format!(
                        "Instance {id} is an On-Demand instance; only Spot instances can be interrupted."
                    ),
                ));
            }
            if !instance.state.is_live() {
                return Err(FleetError::new(
                    ErrorCode::InvalidParameterValue,
                    format!(
                        "Instance {id} is {}; only pending or running instances can be interrupted.",
                        instance.state.name()
                    ),
                ));
            }
        }
        let mut events = Vec::new();
        for id in ids {
            self.give_notice(id, reason, now, &mut events);
        }
        Ok(events)
    }

    /// Raises rebalance recommendations. A maintain fleet with Capacity Rebalancing
    /// replaces the instance (up to twice its target) and, with
    /// `launch-before-terminate`, terminates it after the termination delay.
    pub fn recommend_rebalance(
        &mut self,
        ids: &[InstanceId],
        now: SimTime,
    ) -> Result<Vec<Event>, FleetError> {
        for id in ids {
            let instance = self.instance_for_call(id)?;
            if instance.lifecycle != Lifecycle::Spot || !instance.state.is_live() {
                return Err(FleetError::new(
                    ErrorCode::InvalidParameterValue,
                    format!("Instance {id} is not a pending or running Spot instance."),
                ));
            }
        }
        let mut events = Vec::new();
        for id in ids {
            self.rebalance(id, now, &mut events);
        }
        Ok(events)
    }

    /// TerminateInstances: the instances shut down at once, without notice. A maintain
    /// fleet replaces them.
    pub fn terminate_instances(
        &mut self,
        ids: &[InstanceId],
        now: SimTime,
    ) -> Result<Vec<Event>, FleetError> {
        for id in ids {
            self.instance_for_call(id)?;
        }
        let mut events = Vec::new();
        for id in ids {
            self.terminate(id, now, "Client.UserInitiatedShutdown", &mut events);
        }
        Ok(events)
    }

    pub(crate) fn schedule(&mut self, at: SimTime, timer: Timer) {
        self.timers.insert((at, timer));
    }

    pub(crate) fn fleet_for_call(&self, id: &FleetId) -> Result<&Fleet, FleetError> {
        validate::parse_fleet_id(id.as_str())?;
        self.fleets.get(id).ok_or_else(|| {
            FleetError::new(
                ErrorCode::InvalidFleetIdNotFound,
                format!("The fleet ID '{id}' does not exist"),
            )
        })
    }

    fn instance_for_call(&self, id: &InstanceId) -> Result<&Instance, FleetError> {
        self.instances.get(id).ok_or_else(|| {
            FleetError::new(
                ErrorCode::InvalidInstanceIdNotFound,
                format!("The instance ID '{id}' does not exist"),
            )
        })
    }

    fn activate(&mut self, id: &FleetId, now: SimTime, events: &mut Vec<Event>) {
        if let Some(fleet) = self.fleets.get_mut(id) {
            fleet.state = FleetState::Active;
            fleet.record(HistoryRecord::new(now, EventSubType::Active, None, ""));
            events.push(Event::FleetState {
                at: now,
                fleet: id.clone(),
                state: FleetState::Active,
            });
            if let Some(until) = fleet.spec.valid_until {
                self.timers.insert((until, Timer::Fleet(id.clone())));
            }
            self.timers.insert((now, Timer::Fleet(id.clone())));
        }
    }

    fn fleet_due(
        &mut self,
        id: &FleetId,
        at: SimTime,
        offerings: &mut Offerings,
        events: &mut Vec<Event>,
    ) {
        let Some(fleet) = self.fleets.get(id) else {
            return;
        };
        match fleet.state {
            FleetState::Submitted => {
                if fleet.spec.valid_from.is_none_or(|from| from <= at) {
                    let instant = fleet.spec.fleet_type == FleetType::Instant;
                    self.activate(id, at, events);
                    if instant {
                        self.launch_instant(id, offerings, at, events);
                    }
                }
            }
            FleetState::Active | FleetState::Modifying => {
                if fleet.spec.valid_until.is_some_and(|until| until <= at) {
                    self.expire(id, at, events);
                } else {
                    self.reconcile(id, offerings, at, events);
                }
            }
            FleetState::DeletedRunning | FleetState::DeletedTerminating => {
                self.finish_deletion_if_done(id, at, events);
            }
            FleetState::Deleted | FleetState::Failed => {}
        }
    }
}

fn describe_change(old: &FleetSpec, new: &FleetSpec) -> String {
    let mut parts = Vec::new();
    if old.target.total != new.target.total {
        parts.push(format!(
            "TotalTargetCapacity {} -> {}",
            old.target.total, new.target.total
        ));
    }
    if old.excess_capacity_policy != new.excess_capacity_policy {
        parts.push(format!(
            "ExcessCapacityTerminationPolicy {} -> {}",
            old.excess_capacity_policy.as_str(),
            new.excess_capacity_policy.as_str()
        ));
    }
    if old.specs != new.specs {
        parts.push("LaunchTemplateConfigs updated".to_owned());
    }
    parts.join(", ")
}
