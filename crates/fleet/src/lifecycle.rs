//! Instance lifecycle inside the engine: launching, interruption notices, rebalance
//! recommendations, the timed transitions (`pending` -> `running`, notice -> action,
//! `shutting-down` -> `terminated`, `stopping` -> `stopped`), fleet expiry and deletion.

use market::Offering;
use simtime::SimTime;

use crate::engine::{Engine, Event, Timer};
use crate::fleet::FleetState;
use crate::history::{EventSubType, HistoryRecord};
use crate::ids::{FleetId, InstanceId};
use crate::instance::{
    Instance, InstanceState, InterruptionReason, Notice, SpotRequest, SpotRequestState,
};
use crate::spec::{FleetType, InterruptionBehavior, Lifecycle, ReplacementStrategy, Units};

impl Engine {
    /// Launches one instance for `fleet` from its spec `spec_index`.
    pub(crate) fn launch(
        &mut self,
        fleet_id: &FleetId,
        spec_index: usize,
        lifecycle: Lifecycle,
        offering: &Offering,
        now: SimTime,
        events: &mut Vec<Event>,
    ) {
        let Some(fleet) = self.fleets.get(fleet_id) else {
            return;
        };
        let Some(spec) = fleet.spec.specs.get(spec_index) else {
            return;
        };
        let id = self.ids.instance_id();
        let (price, spot_request) = match lifecycle {
            Lifecycle::Spot => (
                offering.spot_price,
                Some(SpotRequest {
                    id: self.ids.spot_request_id(),
                    state: SpotRequestState::Active,
                    status: "fulfilled",
                    persistent: fleet.spec.fleet_type == FleetType::Maintain,
                }),
            ),
            Lifecycle::OnDemand => (offering.on_demand_price, None),
        };
        let pool = spec.pool;
        let image = spec.image_id.clone().or_else(|| {
            fleet
                .spec
                .launch_templates
                .get(spec.template)
                .and_then(|t| t.image_id.clone())
        });
        let description = launched_description(pool, image.as_deref());
        let replacement = fleet.lost_units > Units::ZERO;
        let instance = Instance {
            id: id.clone(),
            fleet: fleet_id.clone(),
            pool,
            lifecycle,
            weight: spec.weight,
            spec_index,
            state: InstanceState::Pending {
                running_at: now + self.config.boot_delay,
            },
            launched_at: now,
            notice: None,
            rebalance_at: None,
            removing: false,
            rebalancing: false,
            terminate_at: None,
            hibernated: false,
            spot_request,
            max_price: spec.max_price.unwrap_or(offering.on_demand_price),
            price,
            on_demand_price: offering.on_demand_price,
            cost: market::Cost::ZERO,
            on_demand_cost: market::Cost::ZERO,
            accrued_until: now,
            running_time: simtime::SimDuration::ZERO,
            terminated_at: None,
            state_reason: None,
        };
        let weight = instance.weight;
        if let Some(due) = instance.due() {
            self.schedule(due, Timer::Instance(id.clone()));
        }
        if lifecycle == Lifecycle::Spot {
            self.spot_by_pool
                .entry(pool)
                .or_default()
                .insert(id.clone());
        }
        self.instances.insert(id.clone(), instance);
        if let Some(fleet) = self.fleets.get_mut(fleet_id) {
            fleet.instances.push(id.clone());
            fleet.lost_units = fleet.lost_units.saturating_sub(weight);
            fleet.record(HistoryRecord::new(
                now,
                EventSubType::Launched,
                Some(id.clone()),
                description,
            ));
        }
        events.push(Event::Launched {
            at: now,
            fleet: fleet_id.clone(),
            instance: id,
            pool,
            lifecycle,
            price,
            replacement,
        });
    }

    /// Gives a Spot instance its interruption notice. A scale-down always terminates;
    /// other reasons apply the fleet's interruption behaviour. Already-notified and
    /// non-live instances are left alone.
    pub(crate) fn give_notice(
        &mut self,
        id: &InstanceId,
        reason: InterruptionReason,
        now: SimTime,
        events: &mut Vec<Event>,
    ) {
        let Some(instance) = self.instances.get(id) else {
            return;
        };
        if instance.notice.is_some() || !instance.state.is_live() {
            return;
        }
        let behavior = self
            .fleets
            .get(&instance.fleet)
            .map_or(InterruptionBehavior::Terminate, |f| {
                f.spec.spot.interruption_behavior
            });
        let action = if reason == InterruptionReason::ScaleDown {
            InterruptionBehavior::Terminate
        } else {
            behavior
        };
        let action_at = match action {
            InterruptionBehavior::Hibernate => now,
            _ => now + self.config.notice_lead,
        };
        let notice = Notice {
            action,
            noticed_at: now,
            action_at,
            reason,
        };
        let fleet_id = instance.fleet.clone();
        if let Some(instance) = self.instances.get_mut(id) {
            instance.notice = Some(notice);
            if reason == InterruptionReason::ScaleDown {
                instance.removing = true;
            }
            if let Some(request) = &mut instance.spot_request {
                request.status = match action {
                    InterruptionBehavior::Terminate => "marked-for-termination",
                    InterruptionBehavior::Stop => "marked-for-stop",
                    InterruptionBehavior::Hibernate => "marked-for-hibernation",
                };
            }
        }
        if reason == InterruptionReason::ScaleDown
            && let Some(fleet) = self.fleets.get_mut(&fleet_id)
        {
            fleet.record(HistoryRecord::new(
                now,
                EventSubType::TerminationNotified,
                Some(id.clone()),
                "",
            ));
        }
        self.schedule(action_at, Timer::Instance(id.clone()));
        events.push(Event::Notice {
            at: now,
            instance: id.clone(),
            notice,
        });
    }

    pub(crate) fn rebalance(&mut self, id: &InstanceId, now: SimTime, events: &mut Vec<Event>) {
        let Some(instance) = self.instances.get(id) else {
            return;
        };
        let fleet_id = instance.fleet.clone();
        let eligible = instance.counts();
        let weight = instance.weight;
        if let Some(instance) = self.instances.get_mut(id) {
            instance.rebalance_at.get_or_insert(now);
        }
        events.push(Event::Rebalance {
            at: now,
            instance: id.clone(),
        });
        let Some(fleet) = self.fleets.get(&fleet_id) else {
            return;
        };
        let Some(strategy) = fleet.spec.spot.capacity_rebalance else {
            return;
        };
        if fleet.spec.fleet_type != FleetType::Maintain || !fleet.state.is_managing() || !eligible {
            return;
        }
        // Replacements stop at twice the target.
        let live: Units = fleet.live(&self.instances).map(|i| i.weight).sum();
        if live + weight > Units::from_whole(fleet.spec.target.total.saturating_mul(2)) {
            return;
        }
        if let Some(instance) = self.instances.get_mut(id) {
            instance.rebalancing = true;
            if let ReplacementStrategy::LaunchBeforeTerminate { termination_delay } = strategy {
                instance.terminate_at = Some(now + termination_delay);
                self.schedule(now + termination_delay, Timer::Instance(id.clone()));
            }
        }
        if let Some(fleet) = self.fleets.get_mut(&fleet_id) {
            fleet.lost_units += weight;
        }
        self.schedule(now, Timer::Fleet(fleet_id));
    }

    /// Terminates without notice (user, deletion, expiry, rebalancing). Stopped instances
    /// terminate at once.
    pub(crate) fn terminate(
        &mut self,
        id: &InstanceId,
        now: SimTime,
        reason: &'static str,
        events: &mut Vec<Event>,
    ) {
        let Some(instance) = self.instances.get(id) else {
            return;
        };
        match instance.state {
            InstanceState::Pending { .. } | InstanceState::Running => {
                if reason == "Client.UserInitiatedShutdown" {
                    // IMDS answers 404 again once the user terminates.
                    if let Some(instance) = self.instances.get_mut(id) {
                        instance.notice = None;
                    }
                }
                self.begin_shutdown(id, now, reason, events);
            }
            InstanceState::Stopping { .. } | InstanceState::Stopped => {
                self.finish_termination(id, now, events);
            }
            InstanceState::ShuttingDown { .. } | InstanceState::Terminated => {}
        }
    }

    fn begin_shutdown(
        &mut self,
        id: &InstanceId,
        now: SimTime,
        reason: &'static str,
        events: &mut Vec<Event>,
    ) {
        let delay = self.config.shutdown_delay;
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        let lost = if instance.counts() {
            instance.weight
        } else {
            Units::ZERO
        };
        instance.accrue(now);
        instance.state = InstanceState::ShuttingDown {
            terminated_at: now + delay,
        };
        instance.state_reason = Some(reason);
        let fleet_id = instance.fleet.clone();
        if let Some(fleet) = self.fleets.get_mut(&fleet_id) {
            fleet.lost_units += lost;
        }
        self.schedule(now + delay, Timer::Instance(id.clone()));
        self.schedule(now, Timer::Fleet(fleet_id));
        events.push(Event::Stopping {
            at: now,
            instance: id.clone(),
            state: "shutting-down",
        });
    }

    fn finish_termination(&mut self, id: &InstanceId, now: SimTime, events: &mut Vec<Event>) {
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        instance.accrue(now);
        instance.state = InstanceState::Terminated;
        instance.terminated_at = Some(now);
        if let Some(request) = &mut instance.spot_request {
            if request.state != SpotRequestState::Cancelled {
                request.state = SpotRequestState::Closed;
            }
            if request.status.starts_with("marked-for") || request.status == "fulfilled" {
                request.status = match instance.notice.map(|n| n.reason) {
                    Some(InterruptionReason::Capacity) => "instance-terminated-no-capacity",
                    Some(InterruptionReason::Price) => "instance-terminated-by-price",
                    Some(InterruptionReason::ScaleDown) | None => "instance-terminated-by-user",
                    Some(InterruptionReason::Injected) => "instance-terminated-no-capacity",
                };
            }
        }
        let (pool, lifecycle, fleet_id) =
            (instance.pool, instance.lifecycle, instance.fleet.clone());
        if let Some(set) = self.spot_by_pool.get_mut(&pool) {
            set.remove(id);
            if set.is_empty() {
                self.spot_by_pool.remove(&pool);
            }
        }
        if let Some(fleet) = self.fleets.get_mut(&fleet_id) {
            fleet.record(HistoryRecord::new(
                now,
                EventSubType::Terminated,
                Some(id.clone()),
                "",
            ));
        }
        events.push(Event::Terminated {
            at: now,
            instance: id.clone(),
            pool,
            lifecycle,
        });
        self.schedule(now, Timer::Fleet(fleet_id));
    }

    /// Performs an instance's transitions due at `at`.
    pub(crate) fn instance_due(&mut self, id: &InstanceId, at: SimTime, events: &mut Vec<Event>) {
        let Some(instance) = self.instances.get(id) else {
            return;
        };
        let state = instance.state;
        let notice = instance.notice.filter(|n| n.action_at <= at);
        let terminate_at = instance.terminate_at.filter(|t| *t <= at);
        match state {
            InstanceState::Pending { running_at } if running_at <= at => {
                if let Some(instance) = self.instances.get_mut(id) {
                    instance.accrue(running_at);
                    instance.state = InstanceState::Running;
                }
                events.push(Event::Running {
                    at: running_at,
                    instance: id.clone(),
                });
            }
            InstanceState::ShuttingDown { terminated_at } if terminated_at <= at => {
                self.finish_termination(id, terminated_at, events);
            }
            InstanceState::Stopping { stopped_at } if stopped_at <= at => {
                self.finish_stop(id, stopped_at, events);
            }
            _ => {}
        }
        let live = self.instances.get(id).is_some_and(|i| i.state.is_live());
        if live {
            if let Some(notice) = notice {
                match notice.action {
                    InterruptionBehavior::Terminate => {
                        let reason = match notice.reason {
                            InterruptionReason::ScaleDown => "Client.UserInitiatedShutdown",
                            _ => "Server.SpotInstanceTermination",
                        };
                        self.begin_shutdown(id, notice.action_at, reason, events);
                    }
                    InterruptionBehavior::Stop | InterruptionBehavior::Hibernate => {
                        self.begin_stop(id, notice.action_at, notice.action, events);
                    }
                }
            } else if let Some(t) = terminate_at {
                self.begin_shutdown(id, t, "Client.UserInitiatedShutdown", events);
            }
        }
        if let Some(due) = self.instances.get(id).and_then(Instance::due) {
            if due > at {
                self.schedule(due, Timer::Instance(id.clone()));
            } else if due == at && !self.timers.contains(&(at, Timer::Instance(id.clone()))) {
                // A transition that became due at this very instant (e.g. boot and notice
                // together): handle it in this step.
                self.schedule(due, Timer::Instance(id.clone()));
            }
        }
    }

    fn begin_stop(
        &mut self,
        id: &InstanceId,
        now: SimTime,
        action: InterruptionBehavior,
        events: &mut Vec<Event>,
    ) {
        let delay = self.config.stop_delay;
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        let lost = if instance.counts() {
            instance.weight
        } else {
            Units::ZERO
        };
        instance.accrue(now);
        instance.state = InstanceState::Stopping {
            stopped_at: now + delay,
        };
        instance.hibernated = action == InterruptionBehavior::Hibernate;
        instance.state_reason = Some("Server.SpotInstanceShutdown");
        if let Some(request) = &mut instance.spot_request {
            request.state = SpotRequestState::Open;
            request.status = if instance.hibernated {
                "instance-hibernated-no-capacity"
            } else {
                "instance-stopped-no-capacity"
            };
        }
        let fleet_id = instance.fleet.clone();
        if let Some(fleet) = self.fleets.get_mut(&fleet_id) {
            fleet.lost_units += lost;
        }
        self.schedule(now + delay, Timer::Instance(id.clone()));
        self.schedule(now, Timer::Fleet(fleet_id));
        events.push(Event::Stopping {
            at: now,
            instance: id.clone(),
            state: "stopping",
        });
    }

    fn finish_stop(&mut self, id: &InstanceId, now: SimTime, events: &mut Vec<Event>) {
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        instance.accrue(now);
        instance.state = InstanceState::Stopped;
        let (pool, fleet_id) = (instance.pool, instance.fleet.clone());
        if let Some(set) = self.spot_by_pool.get_mut(&pool) {
            set.remove(id);
            if set.is_empty() {
                self.spot_by_pool.remove(&pool);
            }
        }
        events.push(Event::Stopped {
            at: now,
            instance: id.clone(),
            pool,
        });
        self.schedule(now, Timer::Fleet(fleet_id));
    }

    /// Restarts a stopped Spot instance of a maintain fleet (capacity returned).
    pub(crate) fn resume(&mut self, id: &InstanceId, now: SimTime, events: &mut Vec<Event>) {
        let boot = self.config.boot_delay;
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        if instance.state != InstanceState::Stopped {
            return;
        }
        instance.accrue(now);
        instance.state = InstanceState::Pending {
            running_at: now + boot,
        };
        instance.notice = None;
        instance.hibernated = false;
        instance.state_reason = None;
        if let Some(request) = &mut instance.spot_request {
            request.state = SpotRequestState::Active;
            request.status = "fulfilled";
        }
        let (pool, weight, fleet_id) = (instance.pool, instance.weight, instance.fleet.clone());
        self.spot_by_pool
            .entry(pool)
            .or_default()
            .insert(id.clone());
        if let Some(fleet) = self.fleets.get_mut(&fleet_id) {
            fleet.lost_units = fleet.lost_units.saturating_sub(weight);
        }
        self.schedule(now + boot, Timer::Instance(id.clone()));
        events.push(Event::Resumed {
            at: now,
            instance: id.clone(),
            pool,
        });
    }

    pub(crate) fn set_state(
        &mut self,
        id: &FleetId,
        state: FleetState,
        now: SimTime,
        events: &mut Vec<Event>,
    ) {
        let Some(fleet) = self.fleets.get_mut(id) else {
            return;
        };
        if fleet.state == state {
            return;
        }
        fleet.state = state;
        let sub_type = match state {
            FleetState::Active => Some(EventSubType::Active),
            FleetState::Deleted => Some(EventSubType::Deleted),
            FleetState::DeletedRunning => Some(EventSubType::DeletedRunning),
            FleetState::DeletedTerminating => Some(EventSubType::DeletedTerminating),
            FleetState::Submitted => Some(EventSubType::Submitted),
            FleetState::Modifying | FleetState::Failed => None,
        };
        if let Some(sub_type) = sub_type {
            fleet.record(HistoryRecord::new(now, sub_type, None, ""));
        }
        events.push(Event::FleetState {
            at: now,
            fleet: id.clone(),
            state,
        });
    }

    pub(crate) fn cancel_spot_requests(&mut self, fleet_id: &FleetId) {
        let members = self
            .fleets
            .get(fleet_id)
            .map(|f| f.instances.clone())
            .unwrap_or_default();
        for id in members {
            if let Some(request) = self
                .instances
                .get_mut(&id)
                .and_then(|i| i.spot_request.as_mut())
                && request.state != SpotRequestState::Closed
            {
                request.state = SpotRequestState::Cancelled;
            }
        }
    }

    /// `ValidUntil` reached: no new launches; instances terminated only with
    /// `TerminateInstancesWithExpiration`.
    pub(crate) fn expire(&mut self, id: &FleetId, now: SimTime, events: &mut Vec<Event>) {
        let Some(fleet) = self.fleets.get_mut(id) else {
            return;
        };
        fleet.record(HistoryRecord::new(now, EventSubType::Expired, None, ""));
        let terminate = fleet.spec.terminate_instances_with_expiration;
        let members = fleet.instances.clone();
        fleet.deleted_at = Some(now);
        let state = if terminate {
            FleetState::DeletedTerminating
        } else {
            FleetState::DeletedRunning
        };
        self.set_state(id, state, now, events);
        self.cancel_spot_requests(id);
        if terminate {
            for instance in members {
                self.terminate(&instance, now, "Client.UserInitiatedShutdown", events);
            }
        }
        self.finish_deletion_if_done(id, now, events);
    }

    /// A deleted fleet becomes `deleted` once none of its instances is left.
    pub(crate) fn finish_deletion_if_done(
        &mut self,
        id: &FleetId,
        now: SimTime,
        events: &mut Vec<Event>,
    ) {
        let Some(fleet) = self.fleets.get(id) else {
            return;
        };
        if !matches!(
            fleet.state,
            FleetState::DeletedRunning | FleetState::DeletedTerminating
        ) {
            return;
        }
        let remaining = fleet.instances.iter().any(|i| {
            self.instances
                .get(i)
                .is_some_and(|i| i.state != InstanceState::Terminated)
        });
        if !remaining {
            self.set_state(id, FleetState::Deleted, now, events);
        }
    }
}

/// The JSON string AWS puts in a `launched` record's description.
fn launched_description(pool: market::Pool, image: Option<&str>) -> String {
    let mut fields = vec![("instanceType", pool.type_name().to_owned())];
    if let Some(image) = image {
        fields.push(("image", image.to_owned()));
    }
    fields.push(("productDescription", "Linux/UNIX".to_owned()));
    fields.push(("availabilityZone", pool.zone_name().to_owned()));
    let map: serde_json::Map<String, serde_json::Value> = fields
        .into_iter()
        .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
        .collect();
    serde_json::Value::Object(map).to_string()
}
