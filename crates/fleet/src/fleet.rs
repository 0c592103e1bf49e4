//! A fleet's own state: its spec, state and activity status, history, the pools it is
//! avoiding after capacity errors, and what its instances add up to. The instances
//! themselves live in the engine (an instance outlives its fleet's deletion).

use std::collections::{BTreeMap, BTreeSet};

use market::Pool;
use serde::Serialize;
use simtime::SimTime;

use crate::error::LaunchErrorCode;
use crate::history::HistoryRecord;
use crate::ids::{FleetId, InstanceId};
use crate::instance::Instance;
use crate::spec::{FleetSpec, Lifecycle, Units};

/// `FleetState`, AWS's spellings (underscores).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum FleetState {
    /// Received; waiting for `ValidFrom` or its first evaluation.
    #[serde(rename = "submitted")]
    Submitted,
    /// Managing capacity.
    #[serde(rename = "active")]
    Active,
    /// A ModifyFleet is being applied.
    #[serde(rename = "modifying")]
    Modifying,
    /// Deleted, no instances left.
    #[serde(rename = "deleted")]
    Deleted,
    /// Could not be created.
    #[serde(rename = "failed")]
    Failed,
    /// Deleted without terminating instances; some still run.
    #[serde(rename = "deleted_running")]
    DeletedRunning,
    /// Deleted with termination; instances are terminating.
    #[serde(rename = "deleted_terminating")]
    DeletedTerminating,
}

impl FleetState {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            FleetState::Submitted => "submitted",
            FleetState::Active => "active",
            FleetState::Modifying => "modifying",
            FleetState::Deleted => "deleted",
            FleetState::Failed => "failed",
            FleetState::DeletedRunning => "deleted_running",
            FleetState::DeletedTerminating => "deleted_terminating",
        }
    }

    /// Parses a `fleet-state` filter value; the hyphenated spellings some docs show are
    /// accepted too.
    pub fn parse(text: &str) -> Option<FleetState> {
        Some(match text.replace('-', "_").as_str() {
            "submitted" => FleetState::Submitted,
            "active" => FleetState::Active,
            "modifying" => FleetState::Modifying,
            "deleted" => FleetState::Deleted,
            "failed" => FleetState::Failed,
            "deleted_running" => FleetState::DeletedRunning,
            "deleted_terminating" => FleetState::DeletedTerminating,
            _ => return None,
        })
    }

    /// Whether the fleet still launches and replaces instances.
    pub fn is_managing(self) -> bool {
        matches!(self, FleetState::Active | FleetState::Modifying)
    }

    /// Whether the fleet has been deleted (in any of the deleted states).
    pub fn is_deleted(self) -> bool {
        matches!(
            self,
            FleetState::Deleted | FleetState::DeletedRunning | FleetState::DeletedTerminating
        )
    }
}

/// `ActivityStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ActivityStatus {
    /// The last attempt to launch failed everywhere.
    #[serde(rename = "error")]
    Error,
    /// Below target, launching.
    #[serde(rename = "pending_fulfillment")]
    PendingFulfillment,
    /// Above target, terminating.
    #[serde(rename = "pending_termination")]
    PendingTermination,
    /// At or above target.
    #[serde(rename = "fulfilled")]
    Fulfilled,
}

impl ActivityStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityStatus::Error => "error",
            ActivityStatus::PendingFulfillment => "pending_fulfillment",
            ActivityStatus::PendingTermination => "pending_termination",
            ActivityStatus::Fulfilled => "fulfilled",
        }
    }
}

/// A launch failure kept for CreateFleet's and DescribeFleets' `Errors`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FleetLaunchError {
    /// Index into the fleet's specs.
    pub spec: usize,
    /// Spot or On-Demand.
    pub lifecycle: Lifecycle,
    /// AWS's code.
    pub code: LaunchErrorCode,
}

/// One fleet.
#[derive(Clone, Debug, Serialize)]
pub struct Fleet {
    /// `fleet-...`
    pub id: FleetId,
    /// The validated request (updated by ModifyFleet).
    pub spec: FleetSpec,
    /// Current state.
    pub state: FleetState,
    /// `CreateTime`.
    pub created_at: SimTime,
    /// History, oldest first.
    pub history: Vec<HistoryRecord>,
    /// Every instance it launched, in launch order.
    pub instances: Vec<InstanceId>,
    /// Pools that failed with insufficient capacity, skipped until the instant given.
    pub unavailable: BTreeMap<Pool, SimTime>,
    /// Errors of the latest allocation (instant: of its only one).
    pub errors: Vec<FleetLaunchError>,
    /// `request` fleets: the launch specs chosen by the first allocation; they never
    /// move to alternative pools.
    pub pinned_specs: Option<BTreeSet<usize>>,
    /// `request` fleets: the target has been met once, so nothing more is launched.
    pub fulfilled_once: bool,
    /// When the fleet was deleted.
    pub deleted_at: Option<SimTime>,
    /// Capacity lost to interruptions, terminations and rebalancing and not yet
    /// replaced: launches while it is positive are replacements.
    pub lost_units: Units,
    /// The latest allocation was stopped by `MaxTotalPrice` (recorded once per streak).
    pub halted: bool,
}

impl Fleet {
    /// Appends a history record.
    pub fn record(&mut self, record: HistoryRecord) {
        self.history.push(record);
    }

    /// Units of `lifecycle` the fleet counts toward its target (live, not being removed,
    /// not flagged by Capacity Rebalancing).
    pub fn counted(
        &self,
        instances: &BTreeMap<InstanceId, Instance>,
        lifecycle: Lifecycle,
    ) -> Units {
        self.live(instances)
            .filter(|i| i.lifecycle == lifecycle && i.counts())
            .map(|i| i.weight)
            .sum()
    }

    /// `FulfilledCapacity`: live instances, including those notified by a scale-down
    /// until they are gone, excluding those replaced by Capacity Rebalancing.
    pub fn fulfilled(&self, instances: &BTreeMap<InstanceId, Instance>) -> Units {
        self.live(instances)
            .filter(|i| !i.rebalancing)
            .map(|i| i.weight)
            .sum()
    }

    /// `FulfilledOnDemandCapacity`.
    pub fn fulfilled_on_demand(&self, instances: &BTreeMap<InstanceId, Instance>) -> Units {
        self.live(instances)
            .filter(|i| !i.rebalancing && i.lifecycle == Lifecycle::OnDemand)
            .map(|i| i.weight)
            .sum()
    }

    /// The fleet's live (pending or running) instances.
    pub fn live<'a>(
        &'a self,
        instances: &'a BTreeMap<InstanceId, Instance>,
    ) -> impl Iterator<Item = &'a Instance> + 'a {
        self.instances
            .iter()
            .filter_map(|id| instances.get(id))
            .filter(|i| i.state.is_live())
    }

    /// `ActivityStatus`, derived from the instances.
    pub fn activity(&self, instances: &BTreeMap<InstanceId, Instance>) -> ActivityStatus {
        if self.spec.fleet_type == crate::spec::FleetType::Instant {
            return ActivityStatus::Fulfilled;
        }
        let terminating = self.live(instances).any(|i| i.removing && !i.rebalancing);
        match self.state {
            FleetState::DeletedTerminating
                if self.instances.iter().any(|id| {
                    instances
                        .get(id)
                        .is_some_and(|i| i.state != crate::instance::InstanceState::Terminated)
                }) =>
            {
                return ActivityStatus::PendingTermination;
            }
            FleetState::Deleted | FleetState::DeletedRunning | FleetState::DeletedTerminating => {
                return ActivityStatus::Fulfilled;
            }
            _ if terminating => return ActivityStatus::PendingTermination,
            _ => {}
        }
        let counted =
            self.counted(instances, Lifecycle::Spot) + self.counted(instances, Lifecycle::OnDemand);
        if counted >= Units::from_whole(self.spec.target.total) || self.fulfilled_once {
            return ActivityStatus::Fulfilled;
        }
        if !self.errors.is_empty() && counted == Units::ZERO {
            return ActivityStatus::Error;
        }
        ActivityStatus::PendingFulfillment
    }
}
