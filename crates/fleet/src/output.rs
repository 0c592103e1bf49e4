//! The typed answers of the read-side fleet calls, shaped like the AWS CLI's JSON output
//! (PascalCase, AWS's member names). Built by `describe.rs`; rendered to XML elsewhere.

use serde::Serialize;
use simtime::SimTime;

use crate::fleet::{ActivityStatus, FleetState};
use crate::spec::PurchaseLimits;
use crate::wire::{FleetLaunchTemplateOverrides, Tag};

/// `LaunchTemplateSpecification` as echoed in outputs.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateSpecification {
    /// `lt-...`
    pub launch_template_id: String,
    /// The template's name.
    pub launch_template_name: String,
    /// The version (as requested for DescribeFleets, resolved for instances).
    pub version: String,
}

/// `LaunchTemplateAndOverrides` of CreateFleet's errors and instances.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateAndOverrides {
    /// The template.
    pub launch_template_specification: LaunchTemplateSpecification,
    /// The override.
    pub overrides: FleetLaunchTemplateOverrides,
}

/// One `LaunchTemplateConfigs` entry of DescribeFleets.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateConfig {
    /// The template.
    pub launch_template_specification: LaunchTemplateSpecification,
    /// Its overrides, as requested.
    pub overrides: Vec<FleetLaunchTemplateOverrides>,
}

/// A per-pool launch failure.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFleetError {
    /// Which template and override.
    pub launch_template_and_overrides: LaunchTemplateAndOverrides,
    /// `spot` or `on-demand`.
    pub lifecycle: &'static str,
    /// AWS's code.
    pub error_code: &'static str,
    /// A message.
    pub error_message: String,
}

/// Instances launched from one template override and purchase option.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFleetInstance {
    /// Which template and override.
    pub launch_template_and_overrides: LaunchTemplateAndOverrides,
    /// `spot` or `on-demand`.
    pub lifecycle: &'static str,
    /// The instances.
    pub instance_ids: Vec<String>,
    /// Their type.
    pub instance_type: &'static str,
}

/// CreateFleet's answer. `Errors` and `Instances` are present for instant fleets only.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateFleetOutput {
    /// The new (or, for a repeated ClientToken, existing) fleet.
    pub fleet_id: String,
    /// Pools that failed (instant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<CreateFleetError>>,
    /// Instances launched (instant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances: Option<Vec<CreateFleetInstance>>,
}

/// `TargetCapacitySpecification` as DescribeFleets reports it (the computed split).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetCapacityOutput {
    /// Total.
    pub total_target_capacity: u32,
    /// On-Demand part.
    pub on_demand_target_capacity: u32,
    /// Spot part.
    pub spot_target_capacity: u32,
    /// Default type.
    pub default_target_capacity_type: &'static str,
    /// Unit type, when not plain units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_capacity_unit_type: Option<&'static str>,
}

/// `CapacityRebalance` under `MaintenanceStrategies`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CapacityRebalanceOutput {
    /// `launch` or `launch-before-terminate`.
    pub replacement_strategy: &'static str,
    /// Seconds, for launch-before-terminate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_delay: Option<u64>,
}

/// `MaintenanceStrategies`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MaintenanceStrategiesOutput {
    /// Capacity Rebalancing.
    pub capacity_rebalance: CapacityRebalanceOutput,
}

/// The members Spot and On-Demand options share, as echoed (defaults omitted).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PurchaseLimitsOutput {
    /// Instant only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub single_instance_type: bool,
    /// Instant only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub single_availability_zone: bool,
    /// Instant only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_target_capacity: Option<u32>,
    /// Hourly cap, a decimal string as on the wire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_total_price: Option<String>,
}

impl From<PurchaseLimits> for PurchaseLimitsOutput {
    fn from(limits: PurchaseLimits) -> PurchaseLimitsOutput {
        PurchaseLimitsOutput {
            single_instance_type: limits.single_instance_type,
            single_availability_zone: limits.single_availability_zone,
            min_target_capacity: limits.min_target_capacity,
            max_total_price: limits.max_total_price.map(|p| p.to_aws_string()),
        }
    }
}

/// `SpotOptions` as echoed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpotOptionsOutput {
    /// `lowestPrice` or the kebab-case name.
    pub allocation_strategy: &'static str,
    /// Capacity Rebalancing, if enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance_strategies: Option<MaintenanceStrategiesOutput>,
    /// `terminate`, `stop` or `hibernate`.
    pub instance_interruption_behavior: &'static str,
    /// Only for lowest-price, as AWS does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_pools_to_use_count: Option<u32>,
    /// Single type/zone, minimum and price cap.
    #[serde(flatten)]
    pub limits: PurchaseLimitsOutput,
}

/// `OnDemandOptions` as echoed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OnDemandOptionsOutput {
    /// `lowestPrice` or `prioritized`.
    pub allocation_strategy: &'static str,
    /// Single type/zone, minimum and price cap.
    #[serde(flatten)]
    pub limits: PurchaseLimitsOutput,
}

/// One fleet in DescribeFleets (`FleetData`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FleetData {
    /// Activity.
    pub activity_status: ActivityStatus,
    /// Creation time.
    pub create_time: SimTime,
    /// Id.
    pub fleet_id: String,
    /// State.
    pub fleet_state: FleetState,
    /// Idempotency token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// Excess-capacity policy (not for instant fleets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excess_capacity_termination_policy: Option<&'static str>,
    /// Units fulfilled, a double as on the wire.
    pub fulfilled_capacity: f64,
    /// On-Demand units fulfilled.
    pub fulfilled_on_demand_capacity: f64,
    /// Templates and overrides, as requested.
    pub launch_template_configs: Vec<LaunchTemplateConfig>,
    /// Target and split.
    pub target_capacity_specification: TargetCapacityOutput,
    /// Terminate at expiry.
    pub terminate_instances_with_expiration: bool,
    /// `instant`, `request` or `maintain`.
    #[serde(rename = "Type")]
    pub fleet_type: &'static str,
    /// Start of validity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<SimTime>,
    /// End of validity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<SimTime>,
    /// Health-check replacement.
    pub replace_unhealthy_instances: bool,
    /// Spot options.
    pub spot_options: SpotOptionsOutput,
    /// On-Demand options.
    pub on_demand_options: OnDemandOptionsOutput,
    /// Fleet tags.
    pub tags: Vec<Tag>,
    /// Launch errors (instant fleets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<CreateFleetError>>,
    /// Instances (instant fleets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances: Option<Vec<CreateFleetInstance>>,
    /// Reserved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// DescribeFleets' answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeFleetsOutput {
    /// The fleets.
    pub fleets: Vec<FleetData>,
    /// More pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One entry of DescribeFleetInstances.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActiveInstance {
    /// Id.
    pub instance_id: String,
    /// Type.
    pub instance_type: &'static str,
    /// Spot request (absent for On-Demand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spot_instance_request_id: Option<String>,
    /// `healthy` (health checks are not simulated).
    pub instance_health: &'static str,
}

/// DescribeFleetInstances' answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeFleetInstancesOutput {
    /// Pending and running instances.
    pub active_instances: Vec<ActiveInstance>,
    /// More pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// The fleet.
    pub fleet_id: String,
}

/// `EventInformation` of a history record.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventInformation {
    /// Description (JSON for `launched`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub event_description: String,
    /// Sub-type.
    pub event_sub_type: &'static str,
    /// Instance, for instance changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

/// One record of DescribeFleetHistory.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryRecordOutput {
    /// Details.
    pub event_information: EventInformation,
    /// Type.
    pub event_type: &'static str,
    /// When.
    pub timestamp: SimTime,
}

/// DescribeFleetHistory's answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeFleetHistoryOutput {
    /// Records, oldest first.
    pub history_records: Vec<HistoryRecordOutput>,
    /// Up to when records were evaluated (absent when there are more pages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated_time: Option<SimTime>,
    /// More pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// The fleet.
    pub fleet_id: String,
    /// The requested start.
    pub start_time: SimTime,
}
