//! AWS's own input shapes for the fleet APIs, as the AWS CLI's `--cli-input-json` and the
//! SDKs' JSON name them (the botocore EC2 model's member names, PascalCase).
//!
//! These types are deliberately dumb: every member is optional (even those the model marks
//! required, so that a missing one becomes AWS's `MissingParameter` from `validate.rs`
//! rather than a serde error), enum-valued members are plain `String`s (validation turns
//! them into enums and answers AWS's `InvalidParameterValue` for a bad value), and
//! timestamps stay text. Unknown keys are rejected, as the CLI rejects them, so typos
//! surface. A request serializes back to the JSON it was read from (absent members stay
//! absent). This module does not check anything and knows nothing of the EC2 query
//! protocol's wire names (`LaunchTemplateConfig.N`, `TagSpecification.N`, ...).
//!
//! This file holds CreateFleet's shapes; `instance_requirements` the attribute-based
//! selection shapes, `operations` the inputs of ModifyFleet, DeleteFleets and the
//! Describe calls.

mod instance_requirements;
mod operations;

use serde::{Deserialize, Serialize};

pub use instance_requirements::{
    BaselinePerformanceFactors, CpuPerformanceFactor, DoubleRange, InstanceRequirementsRequest,
    IntRange, PerformanceFactorReference,
};
pub use operations::{
    DeleteFleetsRequest, DescribeFleetHistoryRequest, DescribeFleetInstancesRequest,
    DescribeFleetsRequest, Filter, ModifyFleetRequest,
};

/// CreateFleet's input.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CreateFleetRequest {
    /// Check permissions only; answers `DryRunOperation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Idempotency token (at most 64 ASCII characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// Options for the Spot part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spot_options: Option<SpotOptionsRequest>,
    /// Options for the On-Demand part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_options: Option<OnDemandOptionsRequest>,
    /// Reserved-capacity preferences (instant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_capacity_options: Option<ReservedCapacityOptionsRequest>,
    /// `no-termination` | `termination`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excess_capacity_termination_policy: Option<String>,
    /// Launch templates and their overrides (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_template_configs: Option<Vec<FleetLaunchTemplateConfig>>,
    /// The target (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_capacity_specification: Option<TargetCapacitySpecification>,
    /// Terminate running instances when the fleet expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminate_instances_with_expiration: Option<bool>,
    /// `Type`: `request` | `maintain` | `instant`.
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub fleet_type: Option<String>,
    /// ISO-8601 UTC timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// ISO-8601 UTC timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// Replace unhealthy Spot instances (maintain only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace_unhealthy_instances: Option<bool>,
    /// Tags for the fleet (and, for instant fleets, its instances).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_specifications: Option<Vec<TagSpecification>>,
    /// Reserved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// `SpotOptionsRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SpotOptionsRequest {
    /// `lowest-price` | `diversified` | `capacity-optimized` |
    /// `capacity-optimized-prioritized` | `price-capacity-optimized` (or the Spot Fleet
    /// camelCase spellings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation_strategy: Option<String>,
    /// Capacity Rebalancing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance_strategies: Option<MaintenanceStrategies>,
    /// `hibernate` | `stop` | `terminate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_interruption_behavior: Option<String>,
    /// Number of pools for lowest-price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_pools_to_use_count: Option<i32>,
    /// One instance type for all Spot instances (instant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_instance_type: Option<bool>,
    /// One zone for all Spot instances (instant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_availability_zone: Option<bool>,
    /// Minimum Spot capacity or nothing (instant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_target_capacity: Option<i32>,
    /// Dollars per hour, as a decimal string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_total_price: Option<String>,
}

/// `FleetSpotMaintenanceStrategiesRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct MaintenanceStrategies {
    /// Capacity Rebalancing settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_rebalance: Option<CapacityRebalance>,
}

/// `FleetSpotCapacityRebalanceRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CapacityRebalance {
    /// `launch` | `launch-before-terminate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement_strategy: Option<String>,
    /// Seconds, 120-7200; only with `launch-before-terminate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_delay: Option<i32>,
}

/// `OnDemandOptionsRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct OnDemandOptionsRequest {
    /// `lowest-price` | `prioritized` (or `lowestPrice`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation_strategy: Option<String>,
    /// Capacity Reservation use (instant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_reservation_options: Option<CapacityReservationOptions>,
    /// One instance type for all On-Demand instances (instant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_instance_type: Option<bool>,
    /// One zone for all On-Demand instances (instant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_availability_zone: Option<bool>,
    /// Minimum On-Demand capacity or nothing (instant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_target_capacity: Option<i32>,
    /// Dollars per hour, as a decimal string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_total_price: Option<String>,
}

/// `CapacityReservationOptionsRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CapacityReservationOptions {
    /// `use-capacity-reservations-first`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_strategy: Option<String>,
}

/// `ReservedCapacityOptionsRequest` (instant only).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ReservedCapacityOptionsRequest {
    /// `interruptible-capacity-reservation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_types: Option<Vec<String>>,
}

/// `TargetCapacitySpecificationRequest`, used by both CreateFleet and ModifyFleet.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TargetCapacitySpecification {
    /// Units to request (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_target_capacity: Option<i32>,
    /// Explicit On-Demand units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_target_capacity: Option<i32>,
    /// Explicit Spot units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spot_target_capacity: Option<i32>,
    /// `spot` | `on-demand` | `capacity-block` | `reserved-capacity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_target_capacity_type: Option<String>,
    /// `vcpu` | `memory-mib` | `units` (attribute-based selection only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_capacity_unit_type: Option<String>,
}

/// `FleetLaunchTemplateConfigRequest`: a launch template and its overrides.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct FleetLaunchTemplateConfig {
    /// Which template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_template_specification: Option<FleetLaunchTemplateSpecification>,
    /// Per-pool overrides of the template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrides: Option<Vec<FleetLaunchTemplateOverrides>>,
}

/// `FleetLaunchTemplateSpecificationRequest`: id xor name, and a version.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct FleetLaunchTemplateSpecification {
    /// `lt-...`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_template_id: Option<String>,
    /// The template's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_template_name: Option<String>,
    /// A number, `$Latest` or `$Default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `FleetLaunchTemplateOverridesRequest`: one override of a launch template.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct FleetLaunchTemplateOverrides {
    /// API name, e.g. `c5.large`; not with `InstanceRequirements`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Highest Spot price per instance-hour, decimal dollars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_price: Option<String>,
    /// Subnet (or comma-separated subnets) to launch into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// Zone name, e.g. `us-east-1a`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// Zone id, e.g. `use1-az2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone_id: Option<String>,
    /// Units one instance provides (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted_capacity: Option<f64>,
    /// Lower is preferred; at least 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<f64>,
    /// Placement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// Block devices (instant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_device_mappings: Option<Vec<BlockDeviceMapping>>,
    /// Attribute-based instance type selection; not with `InstanceType`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_requirements: Option<InstanceRequirementsRequest>,
    /// AMI (instant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
}

/// `Placement`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Placement {
    /// Zone id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone_id: Option<String>,
    /// Host affinity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<String>,
    /// Placement group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// Partition of a partition placement group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_number: Option<i32>,
    /// Dedicated host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    /// `default` | `dedicated` | `host`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenancy: Option<String>,
    /// Reserved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spread_domain: Option<String>,
    /// Host resource group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_resource_group_arn: Option<String>,
    /// Placement group id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Zone name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
}

/// `FleetBlockDeviceMappingRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct BlockDeviceMapping {
    /// e.g. `/dev/xvda`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// Instance store volume name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_name: Option<String>,
    /// EBS volume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ebs: Option<EbsBlockDevice>,
    /// Suppress the device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_device: Option<String>,
}

/// `FleetEbsBlockDeviceRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EbsBlockDevice {
    /// Encrypt the volume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    /// Delete with the instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_on_termination: Option<bool>,
    /// Provisioned IOPS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iops: Option<i32>,
    /// Throughput in MiB/s (gp3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput: Option<i32>,
    /// KMS key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Source snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// GiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_size: Option<i32>,
    /// `standard` | `io1` | `io2` | `gp2` | `sc1` | `st1` | `gp3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
}

/// `TagSpecification`: tags for one resource type.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TagSpecification {
    /// `fleet`, `instance`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

/// A tag.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Tag {
    /// The key.
    #[serde(default)]
    pub key: String,
    /// The value (empty if absent).
    #[serde(default)]
    pub value: String,
}
