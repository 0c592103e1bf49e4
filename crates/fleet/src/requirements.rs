//! Attribute-based instance type selection: which catalogue types an override's
//! `InstanceRequirements` selects.
//!
//! The catalogue knows, per type, its name, vCPUs, memory, architecture, On-Demand price,
//! generation flag and Spot support, so those attributes are decided exactly:
//! `VCpuCount`, `MemoryMiB`, `MemoryGiBPerVCpu`, `InstanceGenerations`,
//! `AllowedInstanceTypes` / `ExcludedInstanceTypes` (with `*` wildcards), `BareMetal`
//! (`metal` in the size), `BurstablePerformance` (the `t` families) and On-Demand price
//! protection. `CpuManufacturers` is derived from the architecture and the type name (see
//! [`cpu_manufacturer`]). The catalogue has no accelerator, network, storage, EBS,
//! hibernation or encryption data: those attributes are checked for well-formed values and
//! otherwise ignored (every type is treated as having no accelerators, so only
//! `AcceleratorCount.Min > 0` changes the result: nothing matches). Spot price protection
//! needs live Spot prices and is left to allocation. This module does not know about
//! zones, pools or weights; `validate.rs` turns the types into launch specifications.

use market::{Arch, InstanceType, InstanceTypeId, catalog};

use crate::error::FleetError;
use crate::spec::CapacityUnitType;
use crate::validate::{invalid_combination, invalid_value, missing, parse_enum};
use crate::wire::{DoubleRange, InstanceRequirementsRequest, IntRange};

/// AWS's default On-Demand price protection threshold, percent over the identified price.
const DEFAULT_ON_DEMAND_PRICE_PROTECTION_PCT: u64 = 20;

/// A CPU maker, as `CpuManufacturers` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CpuManufacturer {
    Intel,
    Amd,
    AmazonWebServices,
    Apple,
}

/// `included` | `required` | `excluded`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Inclusion {
    Included,
    Required,
    Excluded,
}

impl Inclusion {
    fn admits(self, has_it: bool) -> bool {
        match self {
            Inclusion::Included => true,
            Inclusion::Required => has_it,
            Inclusion::Excluded => !has_it,
        }
    }
}

const INCLUSIONS: &[(&str, Inclusion)] = &[
    ("included", Inclusion::Included),
    ("required", Inclusion::Required),
    ("excluded", Inclusion::Excluded),
];

/// The requirements after their values are checked.
struct Checked<'a> {
    vcpus: (u64, Option<u64>),
    memory_mib: (u64, Option<u64>),
    memory_gib_per_vcpu: (Option<f64>, Option<f64>),
    manufacturers: Option<Vec<CpuManufacturer>>,
    generations: Option<Vec<bool>>,
    allowed: Option<&'a [String]>,
    excluded: &'a [String],
    bare_metal: Inclusion,
    burstable: Inclusion,
    min_accelerators: u64,
    on_demand_price_protection_pct: u64,
}

/// The catalogue types `requirements` selects, in catalogue order. With `spot_targeted`,
/// types AWS doesn't sell as Spot are left out and On-Demand price protection is not
/// applied (it bounds On-Demand launches only, and the type list is shared by both
/// purchase options); without it, price protection drops types priced more than
/// `OnDemandMaxPricePercentageOverLowestPrice` (default 20) percent above the cheapest
/// matching current-generation C, M or R type, per instance, per vCPU or per MiB as
/// `unit_type` says (AWS's rule). Malformed requirements are AWS errors.
pub(crate) fn matching_types(
    requirements: &InstanceRequirementsRequest,
    unit_type: CapacityUnitType,
    spot_targeted: bool,
) -> Result<Vec<InstanceTypeId>, FleetError> {
    let checked = check(requirements)?;
    let matching: Vec<(InstanceTypeId, &InstanceType)> = catalog()
        .instance_types()
        .filter(|(_, t)| checked.admits(t) && (!spot_targeted || t.spot_supported))
        .collect();
    if spot_targeted {
        return Ok(matching.into_iter().map(|(id, _)| id).collect());
    }
    Ok(price_protected(
        &matching,
        unit_type,
        checked.on_demand_price_protection_pct,
    ))
}

fn check(r: &InstanceRequirementsRequest) -> Result<Checked<'_>, FleetError> {
    let vcpus = required_range("VCpuCount", r.vcpu_count.as_ref())?;
    let memory_mib = required_range("MemoryMiB", r.memory_mib.as_ref())?;
    let memory_gib_per_vcpu = double_range("MemoryGiBPerVCpu", r.memory_gib_per_vcpu.as_ref())?;
    for (name, range) in [
        ("NetworkInterfaceCount", r.network_interface_count.as_ref()),
        (
            "BaselineEbsBandwidthMbps",
            r.baseline_ebs_bandwidth_mbps.as_ref(),
        ),
        (
            "AcceleratorTotalMemoryMiB",
            r.accelerator_total_memory_mib.as_ref(),
        ),
    ] {
        int_range(name, range)?;
    }
    for (name, range) in [
        ("TotalLocalStorageGB", r.total_local_storage_gb.as_ref()),
        ("NetworkBandwidthGbps", r.network_bandwidth_gbps.as_ref()),
    ] {
        double_range(name, range)?;
    }
    let (min_accelerators, _) = int_range("AcceleratorCount", r.accelerator_count.as_ref())?;

    let manufacturers = r
        .cpu_manufacturers
        .as_deref()
        .map(|values| {
            values
                .iter()
                .map(|v| {
                    parse_enum(
                        "CpuManufacturer",
                        v,
                        &[
                            ("intel", CpuManufacturer::Intel),
                            ("amd", CpuManufacturer::Amd),
                            ("amazon-web-services", CpuManufacturer::AmazonWebServices),
                            ("apple", CpuManufacturer::Apple),
                        ],
                    )
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let generations = r
        .instance_generations
        .as_deref()
        .map(|values| {
            values
                .iter()
                .map(|v| {
                    parse_enum(
                        "InstanceGeneration",
                        v,
                        &[("current", true), ("previous", false)],
                    )
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let inclusion = |name: &str, value: Option<&String>, default: Inclusion| {
        value.map_or(Ok(default), |v| parse_enum(name, v, INCLUSIONS))
    };
    let bare_metal = inclusion("BareMetal", r.bare_metal.as_ref(), Inclusion::Excluded)?;
    let burstable = inclusion(
        "BurstablePerformance",
        r.burstable_performance.as_ref(),
        Inclusion::Excluded,
    )?;
    // Checked for well-formedness only: the catalogue has no storage or accelerator data.
    inclusion(
        "LocalStorage",
        r.local_storage.as_ref(),
        Inclusion::Included,
    )?;
    check_values(
        "LocalStorageType",
        r.local_storage_types.as_deref(),
        &["hdd", "ssd"],
    )?;
    check_values(
        "AcceleratorType",
        r.accelerator_types.as_deref(),
        &["gpu", "fpga", "inference", "media"],
    )?;
    check_values(
        "AcceleratorManufacturer",
        r.accelerator_manufacturers.as_deref(),
        &["amazon-web-services", "amd", "nvidia", "xilinx", "habana"],
    )?;

    if r.allowed_instance_types.is_some() && r.excluded_instance_types.is_some() {
        return Err(invalid_combination(
            "The parameters AllowedInstanceTypes and ExcludedInstanceTypes cannot be used together.",
        ));
    }
    if r.spot_max_price_percentage_over_lowest_price.is_some()
        && r.max_spot_price_as_percentage_of_optimal_on_demand_price
            .is_some()
    {
        return Err(invalid_combination(
            "The parameters SpotMaxPricePercentageOverLowestPrice and \
             MaxSpotPriceAsPercentageOfOptimalOnDemandPrice cannot be used together.",
        ));
    }
    for (name, value) in [
        (
            "SpotMaxPricePercentageOverLowestPrice",
            r.spot_max_price_percentage_over_lowest_price,
        ),
        (
            "MaxSpotPriceAsPercentageOfOptimalOnDemandPrice",
            r.max_spot_price_as_percentage_of_optimal_on_demand_price,
        ),
    ] {
        non_negative(name, value)?;
    }
    let on_demand_price_protection_pct = non_negative(
        "OnDemandMaxPricePercentageOverLowestPrice",
        r.on_demand_max_price_percentage_over_lowest_price,
    )?
    .unwrap_or(DEFAULT_ON_DEMAND_PRICE_PROTECTION_PCT);

    Ok(Checked {
        vcpus,
        memory_mib,
        memory_gib_per_vcpu,
        manufacturers,
        generations,
        allowed: r.allowed_instance_types.as_deref(),
        excluded: r.excluded_instance_types.as_deref().unwrap_or(&[]),
        bare_metal,
        burstable,
        min_accelerators,
        on_demand_price_protection_pct,
    })
}

impl Checked<'_> {
    fn admits(&self, t: &InstanceType) -> bool {
        let within = |(min, max): (u64, Option<u64>), value: u64| {
            value >= min && max.is_none_or(|max| value <= max)
        };
        let gib_per_vcpu = t.memory_mib as f64 / 1024.0 / f64::from(t.vcpus.max(1));
        let (min_ratio, max_ratio) = self.memory_gib_per_vcpu;
        within(self.vcpus, u64::from(t.vcpus))
            && within(self.memory_mib, t.memory_mib)
            && min_ratio.is_none_or(|min| gib_per_vcpu >= min)
            && max_ratio.is_none_or(|max| gib_per_vcpu <= max)
            && self
                .manufacturers
                .as_ref()
                .is_none_or(|m| m.contains(&cpu_manufacturer(t)))
            && self
                .generations
                .as_ref()
                .is_none_or(|g| g.contains(&t.current_generation))
            && self
                .allowed
                .is_none_or(|patterns| patterns.iter().any(|p| wildcard_match(p, t.name)))
            && !self.excluded.iter().any(|p| wildcard_match(p, t.name))
            && self.bare_metal.admits(is_bare_metal(t.name))
            && self.burstable.admits(is_burstable(t.name))
            // No type in the catalogue carries accelerator data: all count as zero.
            && self.min_accelerators == 0
    }
}

/// On-Demand price protection: keep the types whose price per unit is at most
/// `(100 + pct)%` of the identified price, the cheapest per unit among the matching
/// current-generation C, M or R types (failing those, current-generation types; failing
/// those, all matching types).
fn price_protected(
    matching: &[(InstanceTypeId, &InstanceType)],
    unit_type: CapacityUnitType,
    pct: u64,
) -> Vec<InstanceTypeId> {
    // Price per unit in micro-dollars scaled by 2^20 so integer division keeps precision.
    let per_unit = |t: &InstanceType| -> u128 {
        let units = match unit_type {
            CapacityUnitType::Units => 1,
            CapacityUnitType::Vcpu => u128::from(t.vcpus.max(1)),
            CapacityUnitType::MemoryMib => u128::from(t.memory_mib.max(1)),
        };
        (u128::from(t.on_demand.as_micros()) << 20) / units
    };
    let cheapest = |keep: &dyn Fn(&InstanceType) -> bool| {
        matching
            .iter()
            .filter(|(_, t)| keep(t))
            .map(|(_, t)| per_unit(t))
            .min()
    };
    let identified =
        cheapest(&|t| t.current_generation && matches!(family_letters(t.name), "c" | "m" | "r"))
            .or_else(|| cheapest(&|t| t.current_generation))
            .or_else(|| cheapest(&|_| true));
    let Some(identified) = identified else {
        return Vec::new();
    };
    let threshold = identified * u128::from(100 + pct) / 100;
    matching
        .iter()
        .filter(|(_, t)| per_unit(t) <= threshold)
        .map(|(id, _)| *id)
        .collect()
}

/// The CPU maker, derived (the catalogue has no such column): arm64 types are Graviton
/// (`amazon-web-services`); otherwise the attribute letters after the generation digit
/// decide, `g` meaning Graviton and `a` AMD (`c5a`, `m7a`, `g4ad`, `m8azn`), anything else
/// Intel. Known misses: a few accelerated families with AMD hosts and no `a` in their
/// name (`inf2`, `f2`) count as Intel. No `mac` types are in the catalogue, so `apple`
/// never matches.
fn cpu_manufacturer(t: &InstanceType) -> CpuManufacturer {
    if t.arch == Arch::Arm64 {
        return CpuManufacturer::AmazonWebServices;
    }
    let attributes = attribute_letters(t.name);
    if attributes.contains('g') {
        CpuManufacturer::AmazonWebServices
    } else if attributes.contains('a') {
        CpuManufacturer::Amd
    } else {
        CpuManufacturer::Intel
    }
}

/// `c` for `c5a.large`, `hpc` for `hpc7g.4xlarge`, `u-` for `u-6tb1.56xlarge`.
fn family_letters(name: &str) -> &str {
    let family = name.split('.').next().unwrap_or(name);
    let end = family
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(family.len());
    &family[..end]
}

/// The letters after the generation digits, up to a `-`: `a` for `c5a.large`, `i` for
/// `c7i-flex.large`, `` for `p6-b200.48xlarge`.
fn attribute_letters(name: &str) -> &str {
    let family = name.split('.').next().unwrap_or(name);
    let rest = &family[family_letters(name).len()..];
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    rest.split('-').next().unwrap_or(rest)
}

/// Bare metal: `metal` in the size (`c5.metal`, `c7i.metal-24xl`).
fn is_bare_metal(name: &str) -> bool {
    name.split_once('.')
        .is_some_and(|(_, size)| size.contains("metal"))
}

/// Burstable performance: the `t` families (`t2`, `t3a`, `t4g`), not `trn1`.
fn is_burstable(name: &str) -> bool {
    family_letters(name) == "t"
}

/// Glob matching with `*` for any run of characters, as `AllowedInstanceTypes` and
/// `ExcludedInstanceTypes` use it (`c5*` matches `c5.large` and `c5n.xlarge`).
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty(); // no `*` at all: exact match
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn required_range(name: &str, range: Option<&IntRange>) -> Result<(u64, Option<u64>), FleetError> {
    let range = range.ok_or_else(|| missing(&format!("InstanceRequirements.{name}")))?;
    if range.min.is_none() {
        return Err(missing(&format!("InstanceRequirements.{name}.Min")));
    }
    int_range(name, Some(range))
}

/// `(min or 0, max)`, both non-negative and `min <= max`.
fn int_range(name: &str, range: Option<&IntRange>) -> Result<(u64, Option<u64>), FleetError> {
    let Some(range) = range else {
        return Ok((0, None));
    };
    let min = non_negative(&format!("{name}.Min"), range.min)?.unwrap_or(0);
    let max = non_negative(&format!("{name}.Max"), range.max)?;
    if max.is_some_and(|max| max < min) {
        return Err(invalid_value(format!(
            "The parameter {name}.Max must be greater than or equal to {name}.Min."
        )));
    }
    Ok((min, max))
}

fn double_range(
    name: &str,
    range: Option<&DoubleRange>,
) -> Result<(Option<f64>, Option<f64>), FleetError> {
    let Some(range) = range else {
        return Ok((None, None));
    };
    for (bound, value) in [("Min", range.min), ("Max", range.max)] {
        if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return Err(invalid_value(format!(
                "The parameter {name}.{bound} must be a non-negative number."
            )));
        }
    }
    if let (Some(min), Some(max)) = (range.min, range.max)
        && max < min
    {
        return Err(invalid_value(format!(
            "The parameter {name}.Max must be greater than or equal to {name}.Min."
        )));
    }
    Ok((range.min, range.max))
}

fn non_negative(name: &str, value: Option<i32>) -> Result<Option<u64>, FleetError> {
    value
        .map(|v| {
            u64::try_from(v).map_err(|_| {
                invalid_value(format!(
                    "The parameter {name} must be a non-negative integer."
                ))
            })
        })
        .transpose()
}

fn check_values(name: &str, values: Option<&[String]>, allowed: &[&str]) -> Result<(), FleetError> {
    let table: Vec<(&str, ())> = allowed.iter().map(|a| (*a, ())).collect();
    for value in values.unwrap_or(&[]) {
        parse_enum(name, value, &table)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use super::*;

    fn names(json: &str, unit_type: CapacityUnitType, spot: bool) -> Vec<&'static str> {
        let request: InstanceRequirementsRequest =
            serde_json::from_str(json).expect("valid requirements JSON");
        matching_types(&request, unit_type, spot)
            .expect("valid requirements JSON")
            .into_iter()
            .map(|id| catalog().instance_type(id).name)
            .collect()
    }

    fn spot(json: &str) -> Vec<&'static str> {
        names(json, CapacityUnitType::Units, true)
    }

    #[test]
    fn ranges_select_by_vcpus_and_memory() {
        let found = spot(r#"{"VCpuCount":{"Min":2,"Max":2},"MemoryMiB":{"Min":4096,"Max":4096}}"#);
        assert!(
            found.contains(&"c5.large") && found.contains(&"c6g.large"),
            "{found:?}"
        );
        assert!(!found.contains(&"m5.large"), "8 GiB");
        assert!(
            !found.contains(&"t3.medium"),
            "burstable excluded by default"
        );
        for name in &found {
            let t = catalog()
                .instance_type(catalog().instance_type_id(name).expect("in the catalogue"));
            assert_eq!((t.vcpus, t.memory_mib), (2, 4096));
            assert!(t.spot_supported);
        }
    }

    #[test]
    fn manufacturer_heuristic() {
        let maker = |name: &str| {
            cpu_manufacturer(
                catalog()
                    .instance_type(catalog().instance_type_id(name).expect("in the catalogue")),
            )
        };
        assert_eq!(maker("c5.large"), CpuManufacturer::Intel);
        assert_eq!(maker("c5a.large"), CpuManufacturer::Amd);
        assert_eq!(maker("m8azn.large"), CpuManufacturer::Amd);
        assert_eq!(maker("c6g.large"), CpuManufacturer::AmazonWebServices);
        assert_eq!(maker("a1.large"), CpuManufacturer::AmazonWebServices);
        assert_eq!(maker("c7i-flex.large"), CpuManufacturer::Intel);
        assert_eq!(maker("u-6tb1.56xlarge"), CpuManufacturer::Intel);
        let amd = spot(
            r#"{"VCpuCount":{"Min":2,"Max":2},"MemoryMiB":{"Min":4096,"Max":4096},"CpuManufacturers":["amd"]}"#,
        );
        assert!(amd.iter().all(|n| n.contains('a')), "{amd:?}");
        assert!(amd.contains(&"c5a.large"));
    }

    #[test]
    fn wildcards_bare_metal_burstable_and_generations() {
        assert!(wildcard_match("c5*", "c5n.large"));
        assert!(wildcard_match("m5a.*", "m5a.xlarge"));
        assert!(!wildcard_match("m5a.*", "m5ad.xlarge"));
        assert!(wildcard_match("*3*", "t3.micro"));
        assert!(wildcard_match("c5.large", "c5.large"));
        assert!(!wildcard_match("c5.large", "c5.xlarge"));

        let allowed = spot(
            r#"{"VCpuCount":{"Min":0},"MemoryMiB":{"Min":0},"AllowedInstanceTypes":["c5*"],"BareMetal":"required"}"#,
        );
        assert!(allowed.contains(&"c5.metal") && allowed.contains(&"c5n.metal"));
        assert!(
            allowed
                .iter()
                .all(|n| n.starts_with("c5") && n.contains("metal"))
        );

        let burst = spot(
            r#"{"VCpuCount":{"Min":0},"MemoryMiB":{"Min":0},"BurstablePerformance":"required"}"#,
        );
        assert!(burst.contains(&"t2.small") && burst.contains(&"t4g.nano"));
        assert!(
            burst
                .iter()
                .all(|n| n.starts_with('t') && !n.starts_with("trn"))
        );

        let excluded = spot(
            r#"{"VCpuCount":{"Min":2,"Max":2},"MemoryMiB":{"Min":4096,"Max":4096},"ExcludedInstanceTypes":["c*"],"InstanceGenerations":["current"]}"#,
        );
        assert!(excluded.iter().all(|n| !n.starts_with('c')));
        assert!(!excluded.contains(&"m5.large"), "AWS marks m5 previous");
    }

    #[test]
    fn accelerators_and_price_protection() {
        assert!(
            spot(r#"{"VCpuCount":{"Min":1},"MemoryMiB":{"Min":0},"AcceleratorCount":{"Min":1}}"#)
                .is_empty()
        );
        let json = r#"{"VCpuCount":{"Min":2,"Max":8},"MemoryMiB":{"Min":0}}"#;
        let on_demand = names(json, CapacityUnitType::Units, false);
        let per_vcpu = names(json, CapacityUnitType::Vcpu, false);
        assert!(!on_demand.is_empty());
        assert!(
            on_demand.len() < per_vcpu.len(),
            "per instance protects harder"
        );
        assert!(per_vcpu.len() < spot(json).len());
        let unprotected = names(
            r#"{"VCpuCount":{"Min":2,"Max":8},"MemoryMiB":{"Min":0},"OnDemandMaxPricePercentageOverLowestPrice":999999}"#,
            CapacityUnitType::Units,
            false,
        );
        assert!(unprotected.len() > per_vcpu.len());
    }

    #[test]
    fn malformed_requirements_are_aws_errors() {
        let code = |json: &str| {
            let request: InstanceRequirementsRequest =
                serde_json::from_str(json).expect("deserialises from JSON");
            matching_types(&request, CapacityUnitType::Units, true)
                .unwrap_err()
                .code
                .as_str()
        };
        assert_eq!(code(r#"{"MemoryMiB":{"Min":0}}"#), "MissingParameter");
        assert_eq!(
            code(r#"{"VCpuCount":{"Max":2},"MemoryMiB":{"Min":0}}"#),
            "MissingParameter"
        );
        assert_eq!(
            code(r#"{"VCpuCount":{"Min":4,"Max":2},"MemoryMiB":{"Min":0}}"#),
            "InvalidParameterValue"
        );
        assert_eq!(
            code(r#"{"VCpuCount":{"Min":-1},"MemoryMiB":{"Min":0}}"#),
            "InvalidParameterValue"
        );
        assert_eq!(
            code(r#"{"VCpuCount":{"Min":1},"MemoryMiB":{"Min":0},"BareMetal":"maybe"}"#),
            "InvalidParameterValue"
        );
        assert_eq!(
            code(r#"{"VCpuCount":{"Min":1},"MemoryMiB":{"Min":0},"CpuManufacturers":["via"]}"#),
            "InvalidParameterValue"
        );
        assert_eq!(
            code(
                r#"{"VCpuCount":{"Min":1},"MemoryMiB":{"Min":0},"AllowedInstanceTypes":["c5*"],"ExcludedInstanceTypes":["m5*"]}"#
            ),
            "InvalidParameterCombination"
        );
    }
}
