//! Requests -> checked specs: CreateFleet into a [`FleetSpec`], ModifyFleet into the
//! fleet's next spec, with AWS's defaults and AWS's error codes for what AWS rejects
//! (reference: the fact sheet's §1.2-1.3 and §2.5). Rules whose code AWS doesn't document
//! are marked `[U]` where decided. This module owns the entry points and fleet-level
//! members (type, target and its split, validity); `options` owns Spot/On-Demand options
//! and tags, `launch` launch template configs and overrides, `environment` the lookups
//! of subnets and templates. State checks (which fleets may be modified, idempotency,
//! DryRun) are the engine's.

mod environment;
mod launch;
mod options;

use market::Price;
use simtime::SimTime;

pub use environment::{Environment, ResolvedTemplate, StaticEnvironment};

use crate::error::{ErrorCode, FleetError};
use crate::spec::{
    CapacityUnitType, ExcessCapacityPolicy, FleetSpec, FleetType, Lifecycle, TargetCapacity,
};
use crate::wire::{CreateFleetRequest, ModifyFleetRequest, TargetCapacitySpecification};

/// AWS's quota on a fleet's total target capacity (in units).
const MAX_TOTAL_TARGET_CAPACITY: u32 = 10_000;
/// `ClientToken` length limit.
const MAX_CLIENT_TOKEN_LEN: usize = 64;

/// Checks a CreateFleet request against AWS's rules and resolves it into a spec, with
/// AWS's defaults for what it omits. The first violation found is the error.
pub fn validate_create(
    request: &CreateFleetRequest,
    env: &dyn Environment,
) -> Result<FleetSpec, FleetError> {
    let target_request = request
        .target_capacity_specification
        .as_ref()
        .ok_or_else(|| missing("TargetCapacitySpecification"))?;
    if request
        .launch_template_configs
        .as_deref()
        .is_none_or(<[_]>::is_empty)
    {
        return Err(missing("LaunchTemplateConfigs"));
    }
    let fleet_type = request
        .fleet_type
        .as_deref()
        .map_or(Ok(FleetType::Maintain), |t| {
            parse_enum(
                "Type",
                t,
                &[
                    ("request", FleetType::Request),
                    ("maintain", FleetType::Maintain),
                    ("instant", FleetType::Instant),
                ],
            )
        })?;
    let target = target_capacity(target_request)?;
    let spot_targeted = spot_targeted(fleet_type, &target);
    let spot = options::spot_options(request.spot_options.as_ref(), fleet_type, &target)?;
    let on_demand =
        options::on_demand_options(request.on_demand_options.as_ref(), fleet_type, &target)?;

    let excess_capacity_policy = match request.excess_capacity_termination_policy.as_deref() {
        None => ExcessCapacityPolicy::Termination,
        // [U] AWS documents the member as maintain-only; only instant is rejected here
        // (a request fleet is never modified, so the policy is moot there).
        Some(_) if fleet_type == FleetType::Instant => {
            return Err(invalid_combination(
                "The parameter ExcessCapacityTerminationPolicy is not supported for fleets of type instant.",
            ));
        }
        Some(text) => parse_excess_policy(text)?,
    };
    // [U] `false` is AWS's default and is accepted for every type.
    if request.replace_unhealthy_instances == Some(true) && fleet_type != FleetType::Maintain {
        return Err(invalid_combination(
            "The parameter ReplaceUnhealthyInstances is only supported for fleets of type maintain.",
        ));
    }
    if let Some(reserved) = &request.reserved_capacity_options {
        if fleet_type != FleetType::Instant {
            return Err(invalid_combination(
                "The parameter ReservedCapacityOptions is only supported for fleets of type instant.",
            ));
        }
        for value in reserved.reservation_types.as_deref().unwrap_or(&[]) {
            parse_enum(
                "ReservedCapacityOptions.ReservationType",
                value,
                &[("interruptible-capacity-reservation", ())],
            )?;
        }
    }
    let valid_from = parse_time("ValidFrom", request.valid_from.as_deref())?;
    let valid_until = parse_time("ValidUntil", request.valid_until.as_deref())?;
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until <= from
    {
        return Err(invalid_value(
            "The parameter ValidUntil must be later than ValidFrom.",
        ));
    }
    let (fleet_tags, instance_tags) = options::tags(
        request.tag_specifications.as_deref().unwrap_or(&[]),
        fleet_type,
        spot_targeted,
    )?;
    if let Some(token) = &request.client_token
        && (token.len() > MAX_CLIENT_TOKEN_LEN || !token.is_ascii())
    {
        return Err(invalid_value(format!(
            "The parameter ClientToken must be at most {MAX_CLIENT_TOKEN_LEN} ASCII characters."
        )));
    }

    let launch = launch::expand(
        request.launch_template_configs.as_deref(),
        &launch::Context {
            fleet_type,
            unit_type: target.unit_type,
            spot_targeted,
        },
        env,
    )?;
    Ok(FleetSpec {
        fleet_type,
        target,
        spot,
        on_demand,
        excess_capacity_policy,
        launch_templates: launch.templates,
        specs: launch.specs,
        valid_from,
        valid_until,
        terminate_instances_with_expiration: request
            .terminate_instances_with_expiration
            .unwrap_or(false),
        replace_unhealthy_instances: request.replace_unhealthy_instances.unwrap_or(false),
        fleet_tags,
        instance_tags,
        client_token: request.client_token.clone(),
        context: request.context.clone(),
        request: request.clone(),
    })
}

/// The spec `current` becomes under a ModifyFleet request: a new target (a new total
/// alone keeps the explicit On-Demand/Spot parts, as [`TargetCapacity::with_total`]
/// does; explicit parts given replace both), a new excess capacity policy, new launch
/// templates and specs (checked as CreateFleet checks them). `FleetSpec::request` stays
/// the CreateFleet request (idempotency compares against it). Whether the fleet may be
/// modified at all (type, state) is the engine's check.
pub fn validate_modify(
    request: &ModifyFleetRequest,
    current: &FleetSpec,
    env: &dyn Environment,
) -> Result<FleetSpec, FleetError> {
    let fleet_id = request
        .fleet_id
        .as_deref()
        .ok_or_else(|| missing("FleetId"))?;
    parse_fleet_id(fleet_id)?;
    let mut next = current.clone();
    if let Some(target) = &request.target_capacity_specification {
        next.target = modified_target(target, &current.target)?;
    }
    if let Some(text) = request.excess_capacity_termination_policy.as_deref() {
        next.excess_capacity_policy = parse_excess_policy(text)?;
    }
    if let Some(context) = &request.context {
        next.context = Some(context.clone());
    }
    let spot_targeted = spot_targeted(next.fleet_type, &next.target);
    match request.launch_template_configs.as_deref() {
        Some(configs) if !configs.is_empty() => {
            let launch = launch::expand(
                Some(configs),
                &launch::Context {
                    fleet_type: next.fleet_type,
                    unit_type: next.target.unit_type,
                    spot_targeted,
                },
                env,
            )?;
            next.launch_templates = launch.templates;
            next.specs = launch.specs;
        }
        _ if spot_targeted => {
            // The new target may add Spot to a fleet whose types AWS doesn't sell as Spot.
            if let Some(spec) = next
                .specs
                .iter()
                .find(|s| !s.pool.instance_type_info().spot_supported)
            {
                return Err(invalid_config(format!(
                    "Invalid: Parameter: InstanceTypes. The instance type {} is not supported for Spot Instances.",
                    spec.pool.type_name()
                )));
            }
        }
        _ => {}
    }
    Ok(next)
}

/// Checks that `text` is a fleet id: `fleet-` and a lowercase UUID
/// (`fleet-598fb973-87b7-422d-be4d-6b0809bfff0a`); otherwise `InvalidFleetId.Malformed`.
pub fn parse_fleet_id(text: &str) -> Result<(), FleetError> {
    let is_uuid = |s: &str| {
        s.len() == 36
            && s.char_indices().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == '-',
                _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
            })
    };
    if text.strip_prefix("fleet-").is_some_and(is_uuid) {
        Ok(())
    } else {
        Err(FleetError::new(
            ErrorCode::InvalidFleetIdMalformed,
            format!("Invalid id: \"{text}\" (expecting \"fleet-...\")"),
        ))
    }
}

/// Whether the fleet may launch Spot: a Spot target now, or a maintain fleet whose
/// default type is Spot (ModifyFleet adds capacity of the default type).
fn spot_targeted(fleet_type: FleetType, target: &TargetCapacity) -> bool {
    target.spot > 0 || (fleet_type == FleetType::Maintain && target.default_type == Lifecycle::Spot)
}

fn target_capacity(request: &TargetCapacitySpecification) -> Result<TargetCapacity, FleetError> {
    let total = count(
        "TotalTargetCapacity",
        request
            .total_target_capacity
            .ok_or_else(|| missing("TotalTargetCapacity"))?,
    )?;
    // [U] AWS's docs list DefaultTargetCapacityType as a minimum parameter; moto defaults
    // it to on-demand when omitted, and so do we.
    let default_type = request
        .default_target_capacity_type
        .as_deref()
        .map_or(Ok(Lifecycle::OnDemand), parse_default_type)?;
    let unit_type = request
        .target_capacity_unit_type
        .as_deref()
        .map_or(Ok(CapacityUnitType::Units), parse_unit_type)?;
    split(
        total,
        request.on_demand_target_capacity,
        request.spot_target_capacity,
        default_type,
        unit_type,
    )
}

/// AWS's split: explicit parts first, the rest to the default type.
fn split(
    total: u32,
    on_demand: Option<i32>,
    spot: Option<i32>,
    default_type: Lifecycle,
    unit_type: CapacityUnitType,
) -> Result<TargetCapacity, FleetError> {
    check_total(total, unit_type)?;
    let requested_on_demand = on_demand
        .map(|v| count("OnDemandTargetCapacity", v))
        .transpose()?;
    let requested_spot = spot.map(|v| count("SpotTargetCapacity", v)).transpose()?;
    let explicit =
        u64::from(requested_on_demand.unwrap_or(0)) + u64::from(requested_spot.unwrap_or(0));
    if explicit > u64::from(total) {
        return Err(invalid_value(
            "The sum of OnDemandTargetCapacity and SpotTargetCapacity cannot exceed TotalTargetCapacity.",
        ));
    }
    let rest = total - requested_on_demand.unwrap_or(0) - requested_spot.unwrap_or(0);
    let (on_demand, spot) = match default_type {
        Lifecycle::OnDemand => (
            requested_on_demand.unwrap_or(0) + rest,
            requested_spot.unwrap_or(0),
        ),
        Lifecycle::Spot => (
            requested_on_demand.unwrap_or(0),
            requested_spot.unwrap_or(0) + rest,
        ),
    };
    Ok(TargetCapacity {
        total,
        on_demand,
        spot,
        default_type,
        unit_type,
        requested_on_demand,
        requested_spot,
    })
}

/// [U] The 10,000 quota counts units; with vcpu or memory-mib units it would forbid
/// ordinary fleets (MiB add up fast), so it is applied to plain units only.
fn check_total(total: u32, unit_type: CapacityUnitType) -> Result<(), FleetError> {
    if unit_type == CapacityUnitType::Units && total > MAX_TOTAL_TARGET_CAPACITY {
        return Err(invalid_value(format!(
            "The parameter TotalTargetCapacity ({total}) exceeds the maximum of {MAX_TOTAL_TARGET_CAPACITY}."
        )));
    }
    Ok(())
}

/// ModifyFleet's target: the same shape as CreateFleet's.
fn modified_target(
    request: &TargetCapacitySpecification,
    current: &TargetCapacity,
) -> Result<TargetCapacity, FleetError> {
    let total = count(
        "TotalTargetCapacity",
        request
            .total_target_capacity
            .ok_or_else(|| missing("TotalTargetCapacity"))?,
    )?;
    let default_type = request
        .default_target_capacity_type
        .as_deref()
        .map_or(Ok(current.default_type), parse_default_type)?;
    if let Some(text) = request.target_capacity_unit_type.as_deref()
        && parse_unit_type(text)? != current.unit_type
    {
        // [U] AWS doesn't document changing the unit of an existing fleet.
        return Err(invalid_value(
            "The parameter TargetCapacityUnitType cannot be modified.",
        ));
    }
    if request.on_demand_target_capacity.is_none() && request.spot_target_capacity.is_none() {
        check_total(total, current.unit_type)?;
        let target = TargetCapacity {
            default_type,
            ..current.clone()
        };
        return Ok(target.with_total(total));
    }
    // [U] Explicit parts given in ModifyFleet describe the whole new split: a part it
    // omits is no longer explicit.
    split(
        total,
        request.on_demand_target_capacity,
        request.spot_target_capacity,
        default_type,
        current.unit_type,
    )
}

fn parse_default_type(text: &str) -> Result<Lifecycle, FleetError> {
    match text {
        "spot" => Ok(Lifecycle::Spot),
        "on-demand" => Ok(Lifecycle::OnDemand),
        // Capacity Blocks and reserved capacity are not modelled by the simulator.
        "capacity-block" | "reserved-capacity" => Err(FleetError::new(
            ErrorCode::Unsupported,
            format!("The DefaultTargetCapacityType {text} is not supported by this emulator."),
        )),
        other => Err(invalid_value(format!(
            "The value '{other}' for parameter DefaultTargetCapacityType is invalid. \
             Allowed values: spot, on-demand, capacity-block, reserved-capacity."
        ))),
    }
}

fn parse_unit_type(text: &str) -> Result<CapacityUnitType, FleetError> {
    parse_enum(
        "TargetCapacityUnitType",
        text,
        &[
            ("vcpu", CapacityUnitType::Vcpu),
            ("memory-mib", CapacityUnitType::MemoryMib),
            ("units", CapacityUnitType::Units),
        ],
    )
}

fn parse_excess_policy(text: &str) -> Result<ExcessCapacityPolicy, FleetError> {
    parse_enum(
        "ExcessCapacityTerminationPolicy",
        text,
        &[
            ("no-termination", ExcessCapacityPolicy::NoTermination),
            ("termination", ExcessCapacityPolicy::Termination),
        ],
    )
}

fn parse_time(name: &str, text: Option<&str>) -> Result<Option<SimTime>, FleetError> {
    text.map(|t| {
        SimTime::parse(t).map_err(|_| {
            invalid_value(format!(
                "The parameter {name} ('{t}') is not a valid ISO-8601 UTC timestamp."
            ))
        })
    })
    .transpose()
}

fn count(name: &str, value: i32) -> Result<u32, FleetError> {
    u32::try_from(value).map_err(|_| {
        invalid_value(format!(
            "The parameter {name} ({value}) must be greater than or equal to 0."
        ))
    })
}

/// A decimal number of US dollars.
pub(crate) fn parse_price(name: &str, text: &str) -> Result<Price, FleetError> {
    Price::parse_dollars(text).map_err(|_| {
        invalid_value(format!(
            "The parameter {name} ('{text}') must be a decimal number of US dollars."
        ))
    })
}

/// An enum member from its wire spelling; otherwise `InvalidParameterValue` naming the
/// parameter and every accepted spelling.
pub(crate) fn parse_enum<T: Copy>(
    name: &str,
    value: &str,
    allowed: &[(&str, T)],
) -> Result<T, FleetError> {
    allowed
        .iter()
        .find(|(spelling, _)| *spelling == value)
        .map(|(_, member)| *member)
        .ok_or_else(|| {
            let spellings: Vec<&str> = allowed.iter().map(|(s, _)| *s).collect();
            invalid_value(format!(
                "The value '{value}' for parameter {name} is invalid. Allowed values: {}.",
                spellings.join(", ")
            ))
        })
}

/// `InvalidParameterValue`.
pub(crate) fn invalid_value(message: impl Into<String>) -> FleetError {
    FleetError::new(ErrorCode::InvalidParameterValue, message)
}

/// `InvalidParameterCombination`.
pub(crate) fn invalid_combination(message: impl Into<String>) -> FleetError {
    FleetError::new(ErrorCode::InvalidParameterCombination, message)
}

/// `InvalidFleetConfig`.
pub(crate) fn invalid_config(message: impl Into<String>) -> FleetError {
    FleetError::new(ErrorCode::InvalidFleetConfig, message)
}

/// `MissingParameter`, in AWS's words.
pub(crate) fn missing(name: &str) -> FleetError {
    FleetError::new(
        ErrorCode::MissingParameter,
        format!("The request must contain the parameter {name}"),
    )
}
