//! Spot and On-Demand options and tag specifications of a CreateFleet request: AWS's
//! defaults, strategy spellings (EC2 Fleet kebab-case and Spot Fleet camelCase), and the
//! rules that tie them to the fleet type and target. The target itself and the entry
//! points are `validate.rs`'s.

use market::Price;
use simtime::SimDuration;

use super::{invalid_combination, invalid_config, invalid_value, missing, parse_enum, parse_price};
use crate::error::FleetError;
use crate::spec::{
    FleetType, InterruptionBehavior, OnDemandAllocationStrategy, OnDemandOptions, PurchaseLimits,
    ReplacementStrategy, SpotAllocationStrategy, SpotOptions, TargetCapacity,
};
use crate::wire::{OnDemandOptionsRequest, SpotOptionsRequest, Tag, TagSpecification};

/// The largest `MinTargetCapacity` AWS accepts.
const MAX_MIN_TARGET_CAPACITY: u32 = 1_000;
/// `TerminationDelay` bounds, seconds.
const TERMINATION_DELAY_SECS: std::ops::RangeInclusive<u32> = 120..=7_200;

const SPOT_STRATEGIES: &[(&str, SpotAllocationStrategy)] = &[
    ("lowest-price", SpotAllocationStrategy::LowestPrice),
    ("lowestPrice", SpotAllocationStrategy::LowestPrice),
    ("diversified", SpotAllocationStrategy::Diversified),
    (
        "capacity-optimized",
        SpotAllocationStrategy::CapacityOptimized,
    ),
    (
        "capacityOptimized",
        SpotAllocationStrategy::CapacityOptimized,
    ),
    (
        "capacity-optimized-prioritized",
        SpotAllocationStrategy::CapacityOptimizedPrioritized,
    ),
    (
        "capacityOptimizedPrioritized",
        SpotAllocationStrategy::CapacityOptimizedPrioritized,
    ),
    (
        "price-capacity-optimized",
        SpotAllocationStrategy::PriceCapacityOptimized,
    ),
    (
        "priceCapacityOptimized",
        SpotAllocationStrategy::PriceCapacityOptimized,
    ),
];

const ON_DEMAND_STRATEGIES: &[(&str, OnDemandAllocationStrategy)] = &[
    ("lowest-price", OnDemandAllocationStrategy::LowestPrice),
    ("lowestPrice", OnDemandAllocationStrategy::LowestPrice),
    ("prioritized", OnDemandAllocationStrategy::Prioritized),
];

/// `SpotOptions` with AWS's defaults (lowest-price, terminate, one pool), checked
/// against the fleet type and the Spot target.
pub(super) fn spot_options(
    request: Option<&SpotOptionsRequest>,
    fleet_type: FleetType,
    target: &TargetCapacity,
) -> Result<SpotOptions, FleetError> {
    let empty = SpotOptionsRequest::default();
    let r = request.unwrap_or(&empty);
    let strategy = r
        .allocation_strategy
        .as_deref()
        .map_or(Ok(SpotAllocationStrategy::LowestPrice), |s| {
            parse_enum("SpotOptions.AllocationStrategy", s, SPOT_STRATEGIES)
        })?;
    let interruption_behavior = r.instance_interruption_behavior.as_deref().map_or(
        Ok(InterruptionBehavior::Terminate),
        |s| {
            parse_enum(
                "SpotOptions.InstanceInterruptionBehavior",
                s,
                &[
                    ("hibernate", InterruptionBehavior::Hibernate),
                    ("stop", InterruptionBehavior::Stop),
                    ("terminate", InterruptionBehavior::Terminate),
                ],
            )
        },
    )?;
    if interruption_behavior != InterruptionBehavior::Terminate {
        let behavior = interruption_behavior.as_str();
        match fleet_type {
            FleetType::Instant => {
                return Err(invalid_value(
                    "The parameter InstanceInterruptionBehavior must be null or \"terminate\" for fleets of type instant.",
                ));
            }
            FleetType::Request => {
                return Err(invalid_combination(format!(
                    "The parameter combination InstanceInterruptionBehavior:{behavior} and FleetType:request can't be combined."
                )));
            }
            FleetType::Maintain => {}
        }
    }
    let pools_to_use = match r.instance_pools_to_use_count {
        None => 1,
        Some(_) if strategy != SpotAllocationStrategy::LowestPrice => {
            return Err(invalid_config(
                "The parameter InstancePoolsToUseCount is only available with the lowestPrice allocation strategy.",
            ));
        }
        Some(n) => u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
            invalid_value(format!(
                "The parameter InstancePoolsToUseCount ({n}) must be at least 1."
            ))
        })?,
    };
    let limits = purchase_limits(
        "SpotOptions",
        fleet_type,
        (
            r.single_instance_type,
            r.single_availability_zone,
            r.min_target_capacity,
        ),
        r.max_total_price.as_deref(),
        target.spot,
    )?;
    let capacity_rebalance = match &r.maintenance_strategies {
        None => None,
        Some(_) if fleet_type != FleetType::Maintain => {
            return Err(invalid_combination(
                "The parameter SpotOptions.MaintenanceStrategies is only supported for fleets of type maintain.",
            ));
        }
        Some(strategies) => match &strategies.capacity_rebalance {
            None => None,
            Some(rebalance) => replacement_strategy(
                rebalance.replacement_strategy.as_deref(),
                rebalance.termination_delay,
            )?,
        },
    };
    Ok(SpotOptions {
        strategy,
        interruption_behavior,
        pools_to_use,
        limits,
        capacity_rebalance,
    })
}

fn replacement_strategy(
    strategy: Option<&str>,
    delay: Option<i32>,
) -> Result<Option<ReplacementStrategy>, FleetError> {
    let Some(strategy) = strategy else {
        if delay.is_some() {
            return Err(invalid_combination(
                "The parameter TerminationDelay requires the launch-before-terminate ReplacementStrategy.",
            ));
        }
        return Ok(None);
    };
    let terminate = parse_enum(
        "CapacityRebalance.ReplacementStrategy",
        strategy,
        &[("launch", false), ("launch-before-terminate", true)],
    )?;
    match (terminate, delay) {
        (false, None) => Ok(Some(ReplacementStrategy::Launch)),
        (false, Some(_)) => Err(invalid_combination(
            "The parameter TerminationDelay is not valid with the launch ReplacementStrategy.",
        )),
        // [U] code: AWS says only that the delay is required here.
        (true, None) => Err(invalid_value(
            "The parameter TerminationDelay is required with the launch-before-terminate ReplacementStrategy.",
        )),
        (true, Some(secs)) => u32::try_from(secs)
            .ok()
            .filter(|s| TERMINATION_DELAY_SECS.contains(s))
            .map(|s| {
                Some(ReplacementStrategy::LaunchBeforeTerminate {
                    termination_delay: SimDuration::from_secs(u64::from(s)),
                })
            })
            .ok_or_else(|| {
                invalid_value(format!(
                    "The parameter TerminationDelay ({secs}) must be between 120 and 7200 seconds."
                ))
            }),
    }
}

/// `OnDemandOptions` with AWS's defaults (lowest-price), checked against the fleet type
/// and the On-Demand target.
pub(super) fn on_demand_options(
    request: Option<&OnDemandOptionsRequest>,
    fleet_type: FleetType,
    target: &TargetCapacity,
) -> Result<OnDemandOptions, FleetError> {
    let empty = OnDemandOptionsRequest::default();
    let r = request.unwrap_or(&empty);
    let strategy = r.allocation_strategy.as_deref().map_or(
        Ok(OnDemandAllocationStrategy::LowestPrice),
        |s| {
            parse_enum(
                "OnDemandOptions.AllocationStrategy",
                s,
                ON_DEMAND_STRATEGIES,
            )
        },
    )?;
    if let Some(options) = &r.capacity_reservation_options {
        if fleet_type != FleetType::Instant {
            return Err(invalid_combination(
                "The parameter OnDemandOptions.CapacityReservationOptions is only supported for fleets of type instant.",
            ));
        }
        if let Some(usage) = options.usage_strategy.as_deref() {
            parse_enum(
                "CapacityReservationOptions.UsageStrategy",
                usage,
                &[("use-capacity-reservations-first", ())],
            )?;
        }
    }
    let limits = purchase_limits(
        "OnDemandOptions",
        fleet_type,
        (
            r.single_instance_type,
            r.single_availability_zone,
            r.min_target_capacity,
        ),
        r.max_total_price.as_deref(),
        target.on_demand,
    )?;
    Ok(OnDemandOptions { strategy, limits })
}

/// A purchase option's limits. `SingleInstanceType`, `SingleAvailabilityZone` and
/// `MinTargetCapacity` are instant only (`false` is the default and accepted anywhere);
/// the minimum is at most 1000, needs one of the Single flags and can't exceed its
/// purchase option's target. `MaxTotalPrice` must be a dollar amount.
fn purchase_limits(
    prefix: &str,
    fleet_type: FleetType,
    (single_type, single_zone, min): (Option<bool>, Option<bool>, Option<i32>),
    max_price_text: Option<&str>,
    lifecycle_target: u32,
) -> Result<PurchaseLimits, FleetError> {
    let (single_type, single_zone) = (single_type.unwrap_or(false), single_zone.unwrap_or(false));
    let limits = PurchaseLimits {
        single_instance_type: single_type,
        single_availability_zone: single_zone,
        min_target_capacity: None,
        max_total_price: max_total_price(&format!("{prefix}.MaxTotalPrice"), max_price_text)?,
    };
    if fleet_type != FleetType::Instant {
        for (name, present) in [
            ("SingleInstanceType", single_type),
            ("SingleAvailabilityZone", single_zone),
            ("MinTargetCapacity", min.is_some()),
        ] {
            if present {
                return Err(invalid_combination(format!(
                    "The parameter {prefix}.{name} is only supported for fleets of type instant."
                )));
            }
        }
    }
    let Some(min) = min else {
        return Ok(limits);
    };
    let min = u32::try_from(min)
        .ok()
        .filter(|m| *m <= MAX_MIN_TARGET_CAPACITY)
        .ok_or_else(|| {
            invalid_value(format!(
                "The parameter {prefix}.MinTargetCapacity ({min}) must be between 0 and {MAX_MIN_TARGET_CAPACITY}."
            ))
        })?;
    if !single_type && !single_zone {
        return Err(invalid_value(format!(
            "The parameter {prefix}.MinTargetCapacity requires SingleInstanceType or SingleAvailabilityZone."
        )));
    }
    if min > lifecycle_target {
        return Err(invalid_value(format!(
            "The parameter {prefix}.MinTargetCapacity ({min}) cannot exceed the target capacity of its type ({lifecycle_target})."
        )));
    }
    Ok(PurchaseLimits {
        min_target_capacity: Some(min),
        ..limits
    })
}

/// Fleet and instance tags. `fleet` is allowed for every type; `instance` only for
/// instant fleets; [U] instant fleets also accept `volume`, `network-interface` and
/// `spot-instances-request` (Karpenter sends them), which the spec does not model and
/// drops. `spot-instances-request` without Spot capacity is rejected, as AWS does.
pub(super) fn tags(
    specifications: &[TagSpecification],
    fleet_type: FleetType,
    spot_targeted: bool,
) -> Result<(Vec<Tag>, Vec<Tag>), FleetError> {
    let (mut fleet_tags, mut instance_tags) = (Vec::new(), Vec::new());
    for specification in specifications {
        let resource_type = specification
            .resource_type
            .as_deref()
            .ok_or_else(|| missing("TagSpecification.ResourceType"))?;
        let tags = specification.tags.as_deref().unwrap_or(&[]);
        for tag in tags {
            if tag.key.is_empty() || tag.key.starts_with("aws:") {
                return Err(invalid_value(format!(
                    "The tag key '{}' is invalid: keys must be non-empty and must not start with 'aws:'.",
                    tag.key
                )));
            }
        }
        match (resource_type, fleet_type) {
            ("spot-instances-request", _) if !spot_targeted => {
                return Err(invalid_value(
                    "Tags for resource type spot-instances-request were given, but the fleet requests no Spot capacity.",
                ));
            }
            ("fleet", _) => fleet_tags.extend_from_slice(tags),
            ("instance", FleetType::Instant) => instance_tags.extend_from_slice(tags),
            ("volume" | "network-interface" | "spot-instances-request", FleetType::Instant) => {}
            // [U] code: AWS documents only that the request fails.
            (other, _) => {
                return Err(invalid_value(format!(
                    "The resource type '{other}' is not supported for tagging fleets of type {}; use 'fleet'{}.",
                    fleet_type.as_str(),
                    if fleet_type == FleetType::Instant {
                        " or 'instance'"
                    } else {
                        ""
                    }
                )));
            }
        }
    }
    Ok((fleet_tags, instance_tags))
}

fn max_total_price(name: &str, text: Option<&str>) -> Result<Option<Price>, FleetError> {
    text.map(|t| parse_price(name, t)).transpose()
}
