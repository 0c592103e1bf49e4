//! The EC2 Fleet calls over the cloud: the inputs (JSON named like the CLI's) become the
//! fleet engine's wire types, requests are resolved against this cloud's subnets and
//! launch templates ([`CloudEnv`]), and the engine's typed answers come back as JSON.
//! Fleet tags live in the cloud's tag store from creation on, so CreateTags and
//! DeleteTags on a fleet show in DescribeFleets.

use fleet::FleetId;
use fleet::wire::{
    CreateFleetRequest, DeleteFleetsRequest, DescribeFleetHistoryRequest,
    DescribeFleetInstancesRequest, DescribeFleetsRequest, ModifyFleetRequest,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::cloud::{Cloud, to_json};
use crate::error::ApiError;
use crate::tags::Tags;
use crate::templates::CloudEnv;

/// Reads a fleet call's input into the engine's wire type. The model has already
/// refused parameters EC2 does not have; a member the engine does not model is named.
fn fleet_input<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|e| {
        let text = e.to_string();
        match text.strip_prefix("unknown field `") {
            Some(rest) => ApiError::new(
                "UnknownParameter",
                format!(
                    "The parameter {} is not supported by this endpoint",
                    rest.split('`').next().unwrap_or_default()
                ),
            ),
            None => ApiError::invalid_value(text),
        }
    })
}

impl Cloud {
    pub(crate) fn create_fleet(&mut self, input: Value) -> Result<Value, ApiError> {
        let request: CreateFleetRequest = fleet_input(input)?;
        let known = self.world.engine().fleets().count();
        let env = CloudEnv {
            network: &self.network,
            templates: &self.templates,
        };
        let id = self.world.create_fleet_in(&request, &env)?;
        self.repeat = self.world.engine().fleets().count() == known;
        if self.world.engine().fleets().count() > known
            && let Some(fleet) = self.world.engine().fleet(&id)
        {
            let tags = Tags::from_list(
                &fleet
                    .spec
                    .fleet_tags
                    .iter()
                    .map(|t| crate::tags::Tag {
                        key: t.key.clone(),
                        value: t.value.clone(),
                    })
                    .collect::<Vec<_>>(),
            );
            self.tags.put(id.as_str(), tags);
        }
        self.ingest();
        let output = self.world.engine().create_fleet_output(&id)?;
        to_json(&output)
    }

    pub(crate) fn modify_fleet(&mut self, input: Value) -> Result<Value, ApiError> {
        let request: ModifyFleetRequest = fleet_input(input)?;
        let env = CloudEnv {
            network: &self.network,
            templates: &self.templates,
        };
        self.world.modify_fleet_in(&request, &env)?;
        Ok(json!({"Return": true}))
    }

    pub(crate) fn delete_fleets(&mut self, input: Value) -> Result<Value, ApiError> {
        let request: DeleteFleetsRequest = fleet_input(input)?;
        let output = self.world.delete_fleets(&request)?;
        to_json(&output)
    }

    pub(crate) fn describe_fleets(&mut self, input: Value) -> Result<Value, ApiError> {
        let request: DescribeFleetsRequest = fleet_input(input)?;
        if request.dry_run == Some(true) {
            return Err(ApiError::dry_run());
        }
        let output = self.world.engine().describe_fleets(&request, self.now())?;
        let mut json = to_json(&output)?;
        if let Some(fleets) = json.get_mut("Fleets").and_then(Value::as_array_mut) {
            for fleet in fleets {
                let id = fleet
                    .get("FleetId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                fleet["Tags"] = to_json(&self.tags.of(&id).to_list())?;
            }
        }
        Ok(json)
    }

    pub(crate) fn describe_fleet_instances(&mut self, input: Value) -> Result<Value, ApiError> {
        let request: DescribeFleetInstancesRequest = fleet_input(input)?;
        if request.dry_run == Some(true) {
            return Err(ApiError::dry_run());
        }
        let output = self.world.engine().describe_fleet_instances(&request)?;
        to_json(&output)
    }

    pub(crate) fn describe_fleet_history(&mut self, input: Value) -> Result<Value, ApiError> {
        let request: DescribeFleetHistoryRequest = fleet_input(input)?;
        if request.dry_run == Some(true) {
            return Err(ApiError::dry_run());
        }
        let output = self
            .world
            .engine()
            .describe_fleet_history(&request, self.now())?;
        to_json(&output)
    }

    /// Whether a fleet exists (for CreateTags).
    pub(crate) fn fleet_exists(&self, id: &str) -> bool {
        self.world.engine().fleet(&FleetId::new(id)).is_some()
    }
}
