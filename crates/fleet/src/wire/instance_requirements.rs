//! `InstanceRequirementsRequest` and its ranges, as the botocore model names them (see
//! `wire.rs` for the conventions). Which attributes the simulator can decide is
//! `requirements.rs`'s business, not this module's.

use serde::{Deserialize, Serialize};

/// An integer range `{Min, Max}` (`VCpuCountRangeRequest`, `MemoryMiBRequest`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct IntRange {
    /// Lower bound, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i32>,
    /// Upper bound, inclusive; absent = no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i32>,
}

/// A double range `{Min, Max}` (`MemoryGiBPerVCpuRequest`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DoubleRange {
    /// Lower bound, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Upper bound, inclusive; absent = no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// `InstanceRequirementsRequest`: attribute-based instance type selection. Every member
/// of the model is here; `requirements.rs` says which ones the catalogue can decide.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct InstanceRequirementsRequest {
    /// vCPUs (required; `Min` required).
    #[serde(rename = "VCpuCount", skip_serializing_if = "Option::is_none")]
    pub vcpu_count: Option<IntRange>,
    /// Memory in MiB (required; `Min` required).
    #[serde(rename = "MemoryMiB", skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<IntRange>,
    /// `intel` | `amd` | `amazon-web-services` | `apple`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_manufacturers: Option<Vec<String>>,
    /// GiB of memory per vCPU.
    #[serde(rename = "MemoryGiBPerVCpu", skip_serializing_if = "Option::is_none")]
    pub memory_gib_per_vcpu: Option<DoubleRange>,
    /// Types to exclude; `*` wildcards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded_instance_types: Option<Vec<String>>,
    /// `current` | `previous`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_generations: Option<Vec<String>>,
    /// Spot price protection, percent over the identified Spot price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spot_max_price_percentage_over_lowest_price: Option<i32>,
    /// On-Demand price protection, percent over the identified price (default 20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_max_price_percentage_over_lowest_price: Option<i32>,
    /// `included` | `required` | `excluded` (default excluded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bare_metal: Option<String>,
    /// `included` | `required` | `excluded` (default excluded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burstable_performance: Option<String>,
    /// Hibernation support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_hibernate_support: Option<bool>,
    /// Network interfaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_interface_count: Option<IntRange>,
    /// `included` | `required` | `excluded` (default included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_storage: Option<String>,
    /// `hdd` | `ssd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_storage_types: Option<Vec<String>>,
    /// GB of instance store.
    #[serde(
        rename = "TotalLocalStorageGB",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_local_storage_gb: Option<DoubleRange>,
    /// Baseline EBS bandwidth, Mbps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_ebs_bandwidth_mbps: Option<IntRange>,
    /// `gpu` | `fpga` | `inference` | `media`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accelerator_types: Option<Vec<String>>,
    /// Accelerators per instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accelerator_count: Option<IntRange>,
    /// Accelerator manufacturers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accelerator_manufacturers: Option<Vec<String>>,
    /// Accelerator names (`a100`, `t4`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accelerator_names: Option<Vec<String>>,
    /// Accelerator memory, MiB.
    #[serde(
        rename = "AcceleratorTotalMemoryMiB",
        skip_serializing_if = "Option::is_none"
    )]
    pub accelerator_total_memory_mib: Option<IntRange>,
    /// Baseline network bandwidth, Gbps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_bandwidth_gbps: Option<DoubleRange>,
    /// Only these types are considered; `*` wildcards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_instance_types: Option<Vec<String>>,
    /// Spot price protection, percent of the identified On-Demand price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_spot_price_as_percentage_of_optimal_on_demand_price: Option<i32>,
    /// CPU performance baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_performance_factors: Option<BaselinePerformanceFactors>,
    /// Encryption in transit between instances.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_encryption_in_transit: Option<bool>,
}

/// `BaselinePerformanceFactorsRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct BaselinePerformanceFactors {
    /// CPU performance factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuPerformanceFactor>,
}

/// `CpuPerformanceFactorRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CpuPerformanceFactor {
    /// Reference families.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<PerformanceFactorReference>>,
}

/// `PerformanceFactorReferenceRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PerformanceFactorReference {
    /// e.g. `c6i`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_family: Option<String>,
}
