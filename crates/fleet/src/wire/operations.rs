//! Inputs of ModifyFleet, DeleteFleets, DescribeFleets, DescribeFleetInstances and
//! DescribeFleetHistory, as the botocore model names them (see `wire.rs` for the
//! conventions). Checking them is `validate.rs`'s and the engine's business.

use serde::{Deserialize, Serialize};

use super::{FleetLaunchTemplateConfig, TargetCapacitySpecification};

/// ModifyFleet's input.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ModifyFleetRequest {
    /// Check permissions only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// `no-termination` | `termination`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excess_capacity_termination_policy: Option<String>,
    /// New launch templates and overrides (replace the fleet's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_template_configs: Option<Vec<FleetLaunchTemplateConfig>>,
    /// The fleet (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet_id: Option<String>,
    /// The new target; the model reuses CreateFleet's shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_capacity_specification: Option<TargetCapacitySpecification>,
    /// Reserved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// DeleteFleets' input.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DeleteFleetsRequest {
    /// Check permissions only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// The fleets (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet_ids: Option<Vec<String>>,
    /// Terminate the fleets' instances (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminate_instances: Option<bool>,
}

/// A `{Name, Values}` filter of the Describe calls.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Filter {
    /// e.g. `fleet-state`, `instance-type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Accepted values (any matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// DescribeFleets' input.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeFleetsRequest {
    /// Check permissions only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    /// Continuation token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Only these fleets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet_ids: Option<Vec<String>>,
    /// Filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
}

/// DescribeFleetInstances' input.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeFleetInstancesRequest {
    /// Check permissions only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    /// Continuation token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// The fleet (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet_id: Option<String>,
    /// Filters (`instance-type`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
}

/// DescribeFleetHistory's input.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeFleetHistoryRequest {
    /// Check permissions only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// `instance-change` | `fleet-change` | `service-error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    /// Continuation token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// The fleet (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet_id: Option<String>,
    /// ISO-8601 timestamp (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
}
