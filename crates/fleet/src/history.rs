//! Fleet history as DescribeFleetHistory reports it: records with AWS's event types
//! (`fleetRequestChange`, `instanceChange`, `error`, `information`) and sub-types.

use serde::Serialize;
use simtime::SimTime;

use crate::ids::InstanceId;

/// A record's `EventType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum EventType {
    /// The fleet's state changed.
    #[serde(rename = "fleetRequestChange")]
    FleetRequestChange,
    /// An instance was launched, notified or terminated.
    #[serde(rename = "instanceChange")]
    InstanceChange,
    /// Something failed.
    #[serde(rename = "error")]
    Error,
    /// Something worth knowing (e.g. a pool temporarily unusable).
    #[serde(rename = "information")]
    Information,
}

impl EventType {
    /// The wire value of the record.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::FleetRequestChange => "fleetRequestChange",
            EventType::InstanceChange => "instanceChange",
            EventType::Error => "error",
            EventType::Information => "information",
        }
    }

    /// Parses DescribeFleetHistory's `EventType` filter, which is kebab-case
    /// (`instance-change`, `fleet-change`, `service-error`); the record spellings are
    /// accepted too.
    pub fn parse_filter(text: &str) -> Option<EventType> {
        match text {
            "instance-change" | "instanceChange" => Some(EventType::InstanceChange),
            "fleet-change" | "fleetRequestChange" => Some(EventType::FleetRequestChange),
            "service-error" | "error" => Some(EventType::Error),
            "information" => Some(EventType::Information),
            _ => None,
        }
    }
}

/// A record's `EventSubType`, AWS's spellings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EventSubType {
    /// fleetRequestChange: request received.
    Submitted,
    /// fleetRequestChange: validated, allocating.
    Active,
    /// fleetRequestChange: fulfilling.
    Progress,
    /// fleetRequestChange: ModifyFleet accepted.
    #[serde(rename = "modify_in_progress")]
    ModifyInProgress,
    /// fleetRequestChange: ModifyFleet done.
    #[serde(rename = "modify_succeeded")]
    ModifySucceeded,
    /// fleetRequestChange: ValidUntil reached.
    Expired,
    /// fleetRequestChange: deleted, no instances left.
    Deleted,
    /// fleetRequestChange: deleted, instances left running.
    #[serde(rename = "deleted_running")]
    DeletedRunning,
    /// fleetRequestChange: deleted, instances terminating.
    #[serde(rename = "deleted_terminating")]
    DeletedTerminating,
    /// instanceChange: launched.
    Launched,
    /// instanceChange: terminated.
    Terminated,
    /// instanceChange: given the 2-minute notice by a scale-down.
    #[serde(rename = "termination_notified")]
    TerminationNotified,
    /// information: a pool failed and is skipped for a while.
    LaunchSpecTemporarilyBlacklisted,
    /// information: a pool can never be used (e.g. Spot price above MaxPrice).
    LaunchSpecUnusable,
    /// information: the fleet stopped making progress (e.g. MaxTotalPrice).
    FleetProgressHalted,
    /// error: every pool is temporarily unusable.
    AllLaunchSpecsTemporarilyBlacklisted,
}

impl EventSubType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            EventSubType::Submitted => "submitted",
            EventSubType::Active => "active",
            EventSubType::Progress => "progress",
            EventSubType::ModifyInProgress => "modify_in_progress",
            EventSubType::ModifySucceeded => "modify_succeeded",
            EventSubType::Expired => "expired",
            EventSubType::Deleted => "deleted",
            EventSubType::DeletedRunning => "deleted_running",
            EventSubType::DeletedTerminating => "deleted_terminating",
            EventSubType::Launched => "launched",
            EventSubType::Terminated => "terminated",
            EventSubType::TerminationNotified => "termination_notified",
            EventSubType::LaunchSpecTemporarilyBlacklisted => "launchSpecTemporarilyBlacklisted",
            EventSubType::LaunchSpecUnusable => "launchSpecUnusable",
            EventSubType::FleetProgressHalted => "fleetProgressHalted",
            EventSubType::AllLaunchSpecsTemporarilyBlacklisted => {
                "allLaunchSpecsTemporarilyBlacklisted"
            }
        }
    }

    /// The event type this sub-type belongs to.
    pub fn event_type(self) -> EventType {
        use EventSubType::*;
        match self {
            Submitted | Active | Progress | ModifyInProgress | ModifySucceeded | Expired
            | Deleted | DeletedRunning | DeletedTerminating => EventType::FleetRequestChange,
            Launched | Terminated | TerminationNotified => EventType::InstanceChange,
            LaunchSpecTemporarilyBlacklisted | LaunchSpecUnusable | FleetProgressHalted => {
                EventType::Information
            }
            AllLaunchSpecsTemporarilyBlacklisted => EventType::Error,
        }
    }
}

/// One history record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryRecord {
    /// When it happened.
    pub timestamp: SimTime,
    /// `EventType`.
    pub event_type: EventType,
    /// `EventInformation.EventSubType`.
    pub event_sub_type: EventSubType,
    /// `EventInformation.InstanceId`, for instance changes.
    pub instance_id: Option<InstanceId>,
    /// `EventInformation.EventDescription`; for `launched`, AWS's JSON string.
    pub event_description: String,
}

impl HistoryRecord {
    /// A record of `sub_type` at `at`.
    pub fn new(
        at: SimTime,
        sub_type: EventSubType,
        instance_id: Option<InstanceId>,
        description: impl Into<String>,
    ) -> HistoryRecord {
        HistoryRecord {
            timestamp: at,
            event_type: sub_type.event_type(),
            event_sub_type: sub_type,
            instance_id,
            event_description: description.into(),
        }
    }
}
