//! DeleteFleets: per-call limits, per-fleet outcomes as data (AWS answers HTTP 200 with
//! successful and unsuccessful sets), termination or release of the fleet's instances.

use simtime::SimTime;

use crate::engine::{Engine, Event};
use crate::error::{ErrorCode, FleetError};
use crate::fleet::FleetState;
use crate::ids::{FleetId, InstanceId};
use crate::spec::FleetType;
use crate::wire::DeleteFleetsRequest;

/// What DeleteFleets answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteFleetsOutput {
    /// Fleets that were deleted.
    pub successful_fleet_deletions: Vec<DeleteFleetSuccess>,
    /// Fleets that could not be deleted, with AWS's reason codes.
    pub unsuccessful_fleet_deletions: Vec<DeleteFleetFailure>,
}

/// One deleted fleet.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteFleetSuccess {
    /// State after the call.
    pub current_fleet_state: FleetState,
    /// State before the call.
    pub previous_fleet_state: FleetState,
    /// Which fleet.
    pub fleet_id: String,
}

/// One fleet that could not be deleted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteFleetFailure {
    /// `fleetIdDoesNotExist`, `fleetIdMalformed`, `fleetNotInDeletableState`, ...
    pub error: DeleteFleetError,
    /// Which fleet.
    pub fleet_id: String,
}

/// The error of one failed deletion.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteFleetError {
    /// AWS's code.
    pub code: &'static str,
    /// A message.
    pub message: String,
}

/// At most this many instant fleets per DeleteFleets call.
const MAX_INSTANT_PER_DELETE: usize = 25;
/// At most this many request/maintain fleets per DeleteFleets call.
const MAX_OTHER_PER_DELETE: usize = 100;

impl Engine {
    /// DeleteFleets. Per-fleet failures are data in the output, as AWS answers them;
    /// only a request over the per-call limits fails as a whole (and deletes nothing).
    pub fn delete_fleets(
        &mut self,
        request: &DeleteFleetsRequest,
        now: SimTime,
    ) -> Result<(DeleteFleetsOutput, Vec<Event>), FleetError> {
        let ids = request.fleet_ids.clone().unwrap_or_default();
        if ids.is_empty() {
            return Err(FleetError::new(
                ErrorCode::MissingParameter,
                "The request must contain the parameter FleetIds.",
            ));
        }
        let Some(terminate) = request.terminate_instances else {
            return Err(FleetError::new(
                ErrorCode::MissingParameter,
                "The request must contain the parameter TerminateInstances.",
            ));
        };
        let instant = ids
            .iter()
            .filter(|id| {
                self.fleets
                    .get(&FleetId::new(id.as_str()))
                    .is_some_and(|f| f.spec.fleet_type == FleetType::Instant)
            })
            .count();
        if instant > MAX_INSTANT_PER_DELETE || ids.len() - instant > MAX_OTHER_PER_DELETE {
            return Err(FleetError::new(
                ErrorCode::InvalidParameterValue,
                format!(
                    "You can delete up to {MAX_INSTANT_PER_DELETE} instant fleets and {MAX_OTHER_PER_DELETE} fleets of type maintain or request in a single request."
                ),
            ));
        }
        if request.dry_run == Some(true) {
            return Err(FleetError::dry_run());
        }
        let mut output = DeleteFleetsOutput::default();
        let mut events = Vec::new();
        for raw in ids {
            let id = FleetId::new(raw.as_str());
            let failure = |code: &'static str, message: String| DeleteFleetFailure {
                error: DeleteFleetError { code, message },
                fleet_id: raw.clone(),
            };
            if crate::validate::parse_fleet_id(&raw).is_err() {
                output.unsuccessful_fleet_deletions.push(failure(
                    "fleetIdMalformed",
                    format!("The fleet ID '{raw}' is malformed"),
                ));
                continue;
            }
            let Some(fleet) = self.fleets.get(&id) else {
                output.unsuccessful_fleet_deletions.push(failure(
                    "fleetIdDoesNotExist",
                    format!("The fleet ID '{raw}' does not exist"),
                ));
                continue;
            };
            let previous = fleet.state;
            if fleet.spec.fleet_type == FleetType::Instant && !terminate {
                output.unsuccessful_fleet_deletions.push(failure(
                    "NoTerminateInstancesNotSupported",
                    "Instant fleets can only be deleted with TerminateInstances.".to_owned(),
                ));
                continue;
            }
            let deletable = match previous {
                FleetState::Submitted | FleetState::Active | FleetState::Modifying => true,
                FleetState::DeletedRunning => terminate,
                _ => false,
            };
            if !deletable {
                output.unsuccessful_fleet_deletions.push(failure(
                    "fleetNotInDeletableState",
                    format!(
                        "The fleet '{raw}' is in state {} and cannot be deleted.",
                        previous.as_str()
                    ),
                ));
                continue;
            }
            let current = if terminate {
                FleetState::DeletedTerminating
            } else {
                FleetState::DeletedRunning
            };
            self.set_state(&id, current, now, &mut events);
            if let Some(fleet) = self.fleets.get_mut(&id) {
                fleet.deleted_at = Some(now);
            }
            self.cancel_spot_requests(&id);
            if terminate {
                let members: Vec<InstanceId> = self
                    .fleets
                    .get(&id)
                    .map(|f| f.instances.clone())
                    .unwrap_or_default();
                for instance in members {
                    self.terminate(&instance, now, "Client.UserInitiatedShutdown", &mut events);
                }
            }
            self.finish_deletion_if_done(&id, now, &mut events);
            let current = self.fleets.get(&id).map_or(current, |f| f.state);
            output.successful_fleet_deletions.push(DeleteFleetSuccess {
                current_fleet_state: if current == FleetState::Deleted {
                    // AWS reports the transitional state in the answer.
                    if terminate {
                        FleetState::DeletedTerminating
                    } else {
                        FleetState::DeletedRunning
                    }
                } else {
                    current
                },
                previous_fleet_state: previous,
                fleet_id: raw.clone(),
            });
        }
        Ok((output, events))
    }
}
