//! `LaunchTemplateConfigs` -> distinct launch templates and flattened [`LaunchSpec`]s, one
//! per pool: each override yields one spec per (instance type x zone) it names, or, with no
//! zone, per default zone offering the type, or, with `InstanceRequirements`, per matching
//! type. Rejects what AWS rejects about overrides (duplicate pools, unsupported types,
//! bad prices, weights and priorities, instant-only members). Fleet-level options are
//! `validate.rs`'s; which types match requirements is `requirements.rs`'s.

use std::collections::BTreeMap;

use market::{InstanceType, InstanceTypeId, Pool, Price, ZoneId, catalog};

use super::environment::Environment;
use super::{invalid_combination, invalid_config, invalid_value, missing, parse_price};
use crate::error::FleetError;
use crate::requirements::matching_types;
use crate::spec::{CapacityUnitType, FleetType, LaunchSpec, LaunchTemplateRef, Priority, Units};
use crate::wire::{FleetLaunchTemplateConfig, FleetLaunchTemplateOverrides};

/// AWS's quota of overrides per request/maintain fleet.
const MAX_OVERRIDES: usize = 300;
/// AWS's limit on `InstanceRequirements` per fleet.
const MAX_INSTANCE_REQUIREMENTS: usize = 4;
/// The lowest `MaxPrice` AWS accepts: USD 0.001.
const MIN_MAX_PRICE: Price = Price::from_micros(1_000);

/// What the rest of the request says that overrides depend on.
pub(crate) struct Context {
    /// The fleet's type (instant-only members, subnet lists, quotas).
    pub fleet_type: FleetType,
    /// What a unit of capacity means (derived weights, price protection).
    pub unit_type: CapacityUnitType,
    /// Whether the fleet may launch Spot instances (Spot support of types).
    pub spot_targeted: bool,
}

/// The launch part of a [`crate::spec::FleetSpec`].
pub(crate) struct Expanded {
    /// Distinct templates, in order of first reference.
    pub templates: Vec<LaunchTemplateRef>,
    /// One spec per pool, in request order.
    pub specs: Vec<LaunchSpec>,
}

/// Checks and flattens `configs` (absent or empty is `MissingParameter`).
pub(crate) fn expand(
    configs: Option<&[FleetLaunchTemplateConfig]>,
    context: &Context,
    env: &dyn Environment,
) -> Result<Expanded, FleetError> {
    let configs = configs
        .filter(|c| !c.is_empty())
        .ok_or_else(|| missing("LaunchTemplateConfigs"))?;
    let overrides = || {
        configs
            .iter()
            .flat_map(|c| c.overrides.as_deref().unwrap_or(&[]))
    };
    if context.fleet_type != FleetType::Instant && overrides().count() > MAX_OVERRIDES {
        return Err(invalid_value(format!(
            "The fleet configuration has more than {MAX_OVERRIDES} launch template overrides."
        )));
    }
    let with_requirements = overrides()
        .filter(|o| o.instance_requirements.is_some())
        .count();
    if with_requirements > MAX_INSTANCE_REQUIREMENTS {
        return Err(invalid_value(format!(
            "The fleet configuration has more than {MAX_INSTANCE_REQUIREMENTS} InstanceRequirements."
        )));
    }
    if with_requirements == 0 && context.unit_type != CapacityUnitType::Units {
        return Err(invalid_value(
            "The parameter TargetCapacityUnitType can only be used with InstanceRequirements.",
        ));
    }

    let mut templates: Vec<LaunchTemplateRef> = Vec::new();
    let mut specs = Vec::new();
    // Pool -> (origin, from InstanceRequirements), to find duplicates.
    let mut seen: BTreeMap<Pool, ((usize, usize), bool)> = BTreeMap::new();
    for (config_index, config) in configs.iter().enumerate() {
        let specification = config
            .launch_template_specification
            .as_ref()
            .ok_or_else(|| missing("LaunchTemplateSpecification"))?;
        let (id, name) = (
            specification.launch_template_id.as_deref(),
            specification.launch_template_name.as_deref(),
        );
        match (id, name) {
            (Some(_), Some(_)) => {
                return Err(invalid_combination(
                    "The parameters LaunchTemplateId and LaunchTemplateName cannot be used together.",
                ));
            }
            (None, None) => return Err(missing("LaunchTemplateId or LaunchTemplateName")),
            _ => {}
        }
        let resolved = env.launch_template(id, name, specification.version.as_deref())?;
        let template = match templates.iter().position(|t| *t == resolved.reference) {
            Some(index) => index,
            None => {
                templates.push(resolved.reference);
                templates.len() - 1
            }
        };
        let implicit = [FleetLaunchTemplateOverrides::default()];
        let overrides = match config.overrides.as_deref() {
            Some(list) if !list.is_empty() => list,
            // No overrides: the template's own type in every default zone.
            _ => &implicit[..],
        };
        for (override_index, wire) in overrides.iter().enumerate() {
            let origin = (config_index, override_index);
            for spec in
                expand_override(wire, origin, template, resolved.instance_type, context, env)?
            {
                let from_requirements = wire.instance_requirements.is_some();
                if let Some((_, other_from_requirements)) =
                    seen.insert(spec.pool, (origin, from_requirements))
                {
                    return Err(if from_requirements && other_from_requirements {
                        invalid_value(
                            "The fleet configuration contains overlapping InstanceRequirements.",
                        )
                    } else {
                        invalid_config("The fleet configuration contains duplicate instance pools.")
                    });
                }
                specs.push(spec);
            }
        }
    }
    Ok(Expanded { templates, specs })
}

/// The types an override names: one fixed type, or those its requirements match.
enum Types {
    Fixed(InstanceTypeId),
    Matched(Vec<InstanceTypeId>),
}

fn expand_override(
    wire: &FleetLaunchTemplateOverrides,
    origin: (usize, usize),
    template: usize,
    template_type: Option<InstanceTypeId>,
    context: &Context,
    env: &dyn Environment,
) -> Result<Vec<LaunchSpec>, FleetError> {
    if wire.instance_type.is_some() && wire.instance_requirements.is_some() {
        return Err(invalid_combination(
            "The parameters InstanceType and InstanceRequirements cannot be used together in one launch template override.",
        ));
    }
    if context.fleet_type != FleetType::Instant {
        for (name, present) in [
            ("ImageId", wire.image_id.is_some()),
            ("BlockDeviceMappings", wire.block_device_mappings.is_some()),
        ] {
            if present {
                return Err(invalid_combination(format!(
                    "The parameter {name} in a launch template override is only supported for fleets of type instant."
                )));
            }
        }
    }
    let max_price = wire
        .max_price
        .as_deref()
        .map(|text| {
            let price = parse_price("MaxPrice", text)?;
            if price < MIN_MAX_PRICE {
                return Err(invalid_value(format!(
                    "The parameter MaxPrice ({text}) must be at least 0.001."
                )));
            }
            Ok(price)
        })
        .transpose()?;
    let explicit_weight = wire
        .weighted_capacity
        .map(|w| {
            Units::from_f64(w).ok_or_else(|| {
                invalid_value(format!(
                    "The parameter WeightedCapacity ({w}) must be greater than 0."
                ))
            })
        })
        .transpose()?;
    let priority = wire
        .priority
        .map(|p| {
            if p.is_finite() && p >= 0.0 {
                Ok(Priority((p * 1_000.0).round() as u64))
            } else {
                Err(invalid_value(format!(
                    "The parameter Priority ({p}) must be a number greater than or equal to 0."
                )))
            }
        })
        .transpose()?;

    let types = if let Some(name) = wire.instance_type.as_deref() {
        let id = catalog().instance_type_id(name).ok_or_else(|| {
            invalid_config(format!(
                "Invalid: Parameter: InstanceTypes. Unsupported instance type specified: {name}."
            ))
        })?;
        Types::Fixed(id)
    } else if let Some(requirements) = &wire.instance_requirements {
        let matched = matching_types(requirements, context.unit_type, context.spot_targeted)?;
        if matched.is_empty() {
            return Err(invalid_config(
                "No instance types match the InstanceRequirements of a launch template override.",
            ));
        }
        Types::Matched(matched)
    } else {
        Types::Fixed(template_type.ok_or_else(|| {
            invalid_config(
                "The launch template override must specify InstanceType or InstanceRequirements, \
                 as the launch template does not specify an instance type.",
            )
        })?)
    };
    if let Types::Fixed(id) = types {
        let info = catalog().instance_type(id);
        if context.spot_targeted && !info.spot_supported {
            return Err(invalid_config(format!(
                "Invalid: Parameter: InstanceTypes. The instance type {} is not supported for Spot Instances.",
                info.name
            )));
        }
    }

    let mut specs = Vec::new();
    for Location { subnet_id, zone } in locations(wire, context.fleet_type, env)? {
        let zones = zone.map_or_else(|| env.default_zones(), |z| vec![z]);
        let candidates: &[InstanceTypeId] = match &types {
            Types::Fixed(id) => std::slice::from_ref(id),
            Types::Matched(ids) => ids,
        };
        let before = specs.len();
        for &zone_id in &zones {
            for &instance_type in candidates {
                let pool = Pool {
                    instance_type,
                    zone: zone_id,
                };
                if !catalog().is_offered(pool) {
                    if let (Types::Fixed(_), Some(_)) = (&types, zone) {
                        return Err(invalid_config(format!(
                            "Invalid: Parameter: InstanceTypes. The instance type {} is not supported in availability zone {}.",
                            pool.type_name(),
                            pool.zone_name()
                        )));
                    }
                    continue;
                }
                let info = catalog().instance_type(instance_type);
                specs.push(LaunchSpec {
                    template,
                    origin,
                    pool,
                    subnet_id: subnet_id.clone(),
                    weight: explicit_weight
                        .unwrap_or_else(|| derived_weight(info, context.unit_type)),
                    max_price,
                    priority,
                    image_id: wire.image_id.clone(),
                    wire: wire.clone(),
                });
            }
        }
        if specs.len() == before {
            return Err(invalid_config(
                "Invalid: Parameter: InstanceTypes. No requested instance type is offered in the requested availability zones.",
            ));
        }
    }
    Ok(specs)
}

/// Units per instance when the override gives no `WeightedCapacity`: 1, or the type's
/// vCPUs or MiB for `vcpu` / `memory-mib` targets. [U] An explicit `WeightedCapacity`
/// wins even then.
fn derived_weight(info: &InstanceType, unit_type: CapacityUnitType) -> Units {
    match unit_type {
        CapacityUnitType::Units => Units::ONE,
        CapacityUnitType::Vcpu => Units::from_whole(info.vcpus),
        CapacityUnitType::MemoryMib => Units::from_milli(info.memory_mib.saturating_mul(1_000)),
    }
}

/// Where one launch specification goes.
struct Location {
    /// The subnet, if the override named one.
    subnet_id: Option<String>,
    /// The zone; `None` means "any default zone".
    zone: Option<ZoneId>,
}

/// Where an override launches. `SubnetId` may list several subnets separated by commas (one for instant
/// fleets); a subnet's zone must agree with a zone named alongside it.
fn locations(
    wire: &FleetLaunchTemplateOverrides,
    fleet_type: FleetType,
    env: &dyn Environment,
) -> Result<Vec<Location>, FleetError> {
    let placement = wire.placement.as_ref();
    let named = named_zone(
        wire.availability_zone.as_deref(),
        wire.availability_zone_id.as_deref(),
        "",
    )?;
    let placed = named_zone(
        placement.and_then(|p| p.availability_zone.as_deref()),
        placement.and_then(|p| p.availability_zone_id.as_deref()),
        "Placement.",
    )?;
    let zone = match (named, placed) {
        (Some(a), Some(b)) if a != b => {
            return Err(invalid_combination(
                "The override's AvailabilityZone and Placement.AvailabilityZone name different zones.",
            ));
        }
        (a, b) => a.or(b),
    };
    let Some(subnet_text) = wire.subnet_id.as_deref() else {
        return Ok(vec![Location {
            subnet_id: None,
            zone,
        }]);
    };
    let subnets: Vec<&str> = subnet_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if subnets.is_empty() {
        return Err(invalid_value("The parameter SubnetId must name a subnet."));
    }
    if fleet_type == FleetType::Instant && subnets.len() > 1 {
        return Err(invalid_value(
            "A fleet of type instant can have only one subnet ID per launch template override.",
        ));
    }
    subnets
        .into_iter()
        .map(|subnet| {
            let subnet_zone = env.subnet_zone(subnet).ok_or_else(|| {
                FleetError::new(
                    crate::error::ErrorCode::InvalidSubnetIdNotFound,
                    format!("The subnet ID '{subnet}' does not exist"),
                )
            })?;
            if zone.is_some_and(|z| z != subnet_zone) {
                return Err(invalid_combination(format!(
                    "The subnet {subnet} is not in the availability zone the override names."
                )));
            }
            Ok(Location {
                subnet_id: Some(subnet.to_owned()),
                zone: Some(subnet_zone),
            })
        })
        .collect()
}

/// A zone given by name or id (not both), `None` if neither.
fn named_zone(
    name: Option<&str>,
    id: Option<&str>,
    prefix: &str,
) -> Result<Option<ZoneId>, FleetError> {
    match (name, id) {
        (Some(_), Some(_)) => Err(invalid_combination(format!(
            "Either {prefix}AvailabilityZone or {prefix}AvailabilityZoneId can be specified, but not both."
        ))),
        (Some(name), None) => catalog()
            .zone_by_name(name)
            .map(Some)
            .ok_or_else(|| invalid_value(format!("Invalid availability zone: [{name}]"))),
        (None, Some(id)) => catalog()
            .zone_by_id(id)
            .map(Some)
            .ok_or_else(|| invalid_value(format!("Invalid availability zone ID: [{id}]"))),
        (None, None) => Ok(None),
    }
}
