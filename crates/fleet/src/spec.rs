//! The checked fleet specification. A [`FleetSpec`] is what a CreateFleet request becomes
//! after validation (`validate.rs`); nothing downstream re-checks it. Units, prices and
//! priorities are integers so allocation is exact and deterministic.

use std::fmt;

use market::{Pool, Price};
use serde::Serialize;
use simtime::{SimDuration, SimTime};

use crate::wire::{CreateFleetRequest, FleetLaunchTemplateOverrides, Tag};

/// `instant`, `request` or `maintain` (the default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum FleetType {
    /// One synchronous attempt; instances and errors are returned by CreateFleet.
    Instant,
    /// Ongoing requests until the target is met once; never replenished.
    Request,
    /// Target capacity is maintained: interrupted instances are replaced.
    Maintain,
}

impl FleetType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            FleetType::Instant => "instant",
            FleetType::Request => "request",
            FleetType::Maintain => "maintain",
        }
    }
}

/// Purchase option of an instance or of the default target capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Lifecycle {
    /// A Spot instance: cheap, interruptible.
    Spot,
    /// An On-Demand instance: never interrupted.
    OnDemand,
}

impl Lifecycle {
    /// The wire value (`spot`, `on-demand`).
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Spot => "spot",
            Lifecycle::OnDemand => "on-demand",
        }
    }
}

/// What one unit of target capacity means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum CapacityUnitType {
    /// Units as given by `WeightedCapacity` (default 1 per instance).
    Units,
    /// One unit per vCPU (attribute-based selection only).
    Vcpu,
    /// One unit per MiB of memory (attribute-based selection only).
    MemoryMib,
}

impl CapacityUnitType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            CapacityUnitType::Units => "units",
            CapacityUnitType::Vcpu => "vcpu",
            CapacityUnitType::MemoryMib => "memory-mib",
        }
    }
}

/// Weighted capacity in thousandths of a unit. `WeightedCapacity` is a double on the
/// wire; three decimals is finer than any real use and keeps arithmetic exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Units(u64);

impl Units {
    /// No capacity.
    pub const ZERO: Units = Units(0);
    /// One unit (the default weight).
    pub const ONE: Units = Units(1_000);

    /// From thousandths of a unit.
    pub const fn from_milli(milli: u64) -> Units {
        Units(milli)
    }
    /// From whole units.
    pub const fn from_whole(units: u32) -> Units {
        Units(units as u64 * 1_000)
    }
    /// From a wire double, rounded to the nearest thousandth; `None` if not positive
    /// and finite.
    pub fn from_f64(value: f64) -> Option<Units> {
        if !value.is_finite() || value <= 0.0 || value > 1e12 {
            return None;
        }
        let milli = (value * 1_000.0).round() as u64;
        (milli > 0).then_some(Units(milli))
    }
    /// Thousandths of a unit.
    pub const fn milli(self) -> u64 {
        self.0
    }
    /// As a double, for the wire (`FulfilledCapacity` is a double).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
    /// Saturating subtraction.
    pub fn saturating_sub(self, other: Units) -> Units {
        Units(self.0.saturating_sub(other.0))
    }
    /// How many instances of weight `self` cover `need`: `ceil(need / weight)`, AWS's
    /// rounding (overshoot is allowed, undershoot is not).
    pub fn instances_for(self, need: Units) -> u64 {
        if self.0 == 0 {
            return 0;
        }
        need.0.div_ceil(self.0)
    }
    /// `self x n`.
    pub fn times(self, n: u64) -> Units {
        Units(self.0.saturating_mul(n))
    }
}

impl std::ops::Add for Units {
    type Output = Units;
    fn add(self, rhs: Units) -> Units {
        Units(self.0.saturating_add(rhs.0))
    }
}

impl std::ops::AddAssign for Units {
    fn add_assign(&mut self, rhs: Units) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl std::iter::Sum for Units {
    fn sum<I: Iterator<Item = Units>>(iter: I) -> Units {
        iter.fold(Units::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Units {
    /// `4`, `2.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(1_000) {
            write!(f, "{}", self.0 / 1_000)
        } else {
            let text = format!("{}.{:03}", self.0 / 1_000, self.0 % 1_000);
            f.write_str(text.trim_end_matches('0'))
        }
    }
}

/// The target, with the On-Demand/Spot split computed as AWS does: explicit
/// `OnDemandTargetCapacity` and `SpotTargetCapacity` are honoured first and the rest goes
/// to the default type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetCapacity {
    /// `TotalTargetCapacity`.
    pub total: u32,
    /// The On-Demand part after the split.
    pub on_demand: u32,
    /// The Spot part after the split.
    pub spot: u32,
    /// `DefaultTargetCapacityType`: absorbs what the explicit parts leave.
    pub default_type: Lifecycle,
    /// What a unit means.
    pub unit_type: CapacityUnitType,
    /// The explicit `OnDemandTargetCapacity`, kept so a later ModifyFleet of the total
    /// splits the same way.
    pub requested_on_demand: Option<u32>,
    /// The explicit `SpotTargetCapacity`.
    pub requested_spot: Option<u32>,
}

impl TargetCapacity {
    /// The split for a new total: the non-default type keeps its explicit target
    /// (clamped to the total) and the default type absorbs the rest. This is how
    /// ModifyFleet scales "by the default target capacity type".
    pub fn with_total(&self, total: u32) -> TargetCapacity {
        let (on_demand, spot) = match self.default_type {
            Lifecycle::Spot => {
                let on_demand = self.requested_on_demand.unwrap_or(0).min(total);
                (on_demand, total - on_demand)
            }
            Lifecycle::OnDemand => {
                let spot = self.requested_spot.unwrap_or(0).min(total);
                (total - spot, spot)
            }
        };
        TargetCapacity {
            total,
            on_demand,
            spot,
            ..self.clone()
        }
    }

    /// The target of one purchase option, in units.
    pub fn of(&self, lifecycle: Lifecycle) -> Units {
        Units::from_whole(match lifecycle {
            Lifecycle::Spot => self.spot,
            Lifecycle::OnDemand => self.on_demand,
        })
    }
}

/// Spot allocation strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum SpotAllocationStrategy {
    /// Cheapest per unit, over `InstancePoolsToUseCount` pools (the default).
    LowestPrice,
    /// Spread evenly over every pool priced below On-Demand.
    Diversified,
    /// Most spare capacity, price ignored.
    CapacityOptimized,
    /// Most spare capacity, override `Priority` as a tie-breaking preference.
    CapacityOptimizedPrioritized,
    /// Pools with high spare capacity, then the cheapest of those (AWS's recommendation).
    PriceCapacityOptimized,
}

impl SpotAllocationStrategy {
    /// The spelling DescribeFleets echoes: `lowestPrice` for lowest-price (AWS echoes the
    /// Spot Fleet camelCase for it), kebab-case for the others.
    pub fn echo(self) -> &'static str {
        match self {
            SpotAllocationStrategy::LowestPrice => "lowestPrice",
            SpotAllocationStrategy::Diversified => "diversified",
            SpotAllocationStrategy::CapacityOptimized => "capacity-optimized",
            SpotAllocationStrategy::CapacityOptimizedPrioritized => {
                "capacity-optimized-prioritized"
            }
            SpotAllocationStrategy::PriceCapacityOptimized => "price-capacity-optimized",
        }
    }
}

/// On-Demand allocation strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum OnDemandAllocationStrategy {
    /// Cheapest On-Demand price per unit first (the default).
    LowestPrice,
    /// Override `Priority` order (lower number first).
    Prioritized,
}

impl OnDemandAllocationStrategy {
    /// The spelling DescribeFleets echoes.
    pub fn echo(self) -> &'static str {
        match self {
            OnDemandAllocationStrategy::LowestPrice => "lowestPrice",
            OnDemandAllocationStrategy::Prioritized => "prioritized",
        }
    }
}

/// What happens to a Spot instance when it is interrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum InterruptionBehavior {
    /// Terminated 2 minutes after the notice (the default).
    Terminate,
    /// Stopped 2 minutes after the notice; restarted by EC2 when capacity returns.
    Stop,
    /// Hibernated at once (the notice gives no lead); resumed when capacity returns.
    Hibernate,
}

impl InterruptionBehavior {
    /// The wire value, also the `action` of IMDS `spot/instance-action`.
    pub fn as_str(self) -> &'static str {
        match self {
            InterruptionBehavior::Terminate => "terminate",
            InterruptionBehavior::Stop => "stop",
            InterruptionBehavior::Hibernate => "hibernate",
        }
    }
}

/// What ModifyFleet does to running instances above a lowered target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ExcessCapacityPolicy {
    /// Terminate instances until the fleet no longer exceeds its target.
    Termination,
    /// Keep them running; only stop replacing.
    NoTermination,
}

impl ExcessCapacityPolicy {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            ExcessCapacityPolicy::Termination => "termination",
            ExcessCapacityPolicy::NoTermination => "no-termination",
        }
    }
}

/// Capacity Rebalancing's replacement strategy (maintain fleets only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ReplacementStrategy {
    /// Launch a replacement; leave the at-risk instance running.
    Launch,
    /// Launch a replacement, then terminate the at-risk one after the delay.
    LaunchBeforeTerminate {
        /// `TerminationDelay`, 120-7200 s.
        termination_delay: SimDuration,
    },
}

/// What bounds one purchase option's launches; the same members on Spot and On-Demand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PurchaseLimits {
    /// All instances of this purchase option of one type (instant only).
    pub single_instance_type: bool,
    /// All instances of this purchase option in one zone (instant only).
    pub single_availability_zone: bool,
    /// Launch nothing unless this much capacity can be launched (instant only).
    pub min_target_capacity: Option<u32>,
    /// Cap on the hourly price of all the fleet's instances of this purchase option.
    pub max_total_price: Option<Price>,
}

/// Options for the Spot part.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpotOptions {
    /// How pools are chosen.
    pub strategy: SpotAllocationStrategy,
    /// What an interruption does.
    pub interruption_behavior: InterruptionBehavior,
    /// `InstancePoolsToUseCount` (lowest-price only; AWS's default is 1).
    pub pools_to_use: u32,
    /// Single type/zone, minimum and price cap of the Spot part.
    pub limits: PurchaseLimits,
    /// Capacity Rebalancing, if enabled.
    pub capacity_rebalance: Option<ReplacementStrategy>,
}

/// Options for the On-Demand part.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OnDemandOptions {
    /// How pools are chosen.
    pub strategy: OnDemandAllocationStrategy,
    /// Single type/zone, minimum and price cap of the On-Demand part.
    pub limits: PurchaseLimits,
}

/// A launch template a fleet uses, resolved: the version is a number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LaunchTemplateRef {
    /// `lt-...`
    pub id: String,
    /// The template's name.
    pub name: String,
    /// The version as the request gave it (`1`, `$Latest`, `$Default`), echoed by
    /// DescribeFleets.
    pub requested_version: String,
    /// The resolved version number, carried by instances.
    pub version: u32,
    /// The AMI the template launches, if it names one.
    pub image_id: Option<String>,
}

/// Override priority: lower is preferred. Thousandths, so the wire's doubles compare
/// exactly; `None` (no priority) ranks after every number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Priority(pub u64);

/// One launch specification after expansion: a template, a pool and its terms. Each
/// wire override yields one (or several, for attribute-based selection or an override
/// without a zone); no two share a pool.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LaunchSpec {
    /// Index into [`FleetSpec::launch_templates`].
    pub template: usize,
    /// `(config index, override index)` in the request, for error reports.
    pub origin: (usize, usize),
    /// Instance type x zone.
    pub pool: Pool,
    /// Subnet the instance goes into, if the override named one.
    pub subnet_id: Option<String>,
    /// Capacity one instance provides.
    pub weight: Units,
    /// Highest Spot price per instance-hour (default: the On-Demand price).
    pub max_price: Option<Price>,
    /// Preference for prioritized strategies.
    pub priority: Option<Priority>,
    /// AMI override (instant only).
    pub image_id: Option<String>,
    /// The override as the request gave it, echoed in errors and DescribeFleets.
    pub wire: FleetLaunchTemplateOverrides,
}

/// A validated CreateFleet request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetSpec {
    /// `Type`.
    pub fleet_type: FleetType,
    /// The target and its split.
    pub target: TargetCapacity,
    /// Spot options.
    pub spot: SpotOptions,
    /// On-Demand options.
    pub on_demand: OnDemandOptions,
    /// `ExcessCapacityTerminationPolicy` (AWS's default: termination).
    pub excess_capacity_policy: ExcessCapacityPolicy,
    /// The distinct launch templates referenced.
    pub launch_templates: Vec<LaunchTemplateRef>,
    /// Expanded launch specifications, in request order; pools are distinct.
    pub specs: Vec<LaunchSpec>,
    /// No requests before this instant.
    pub valid_from: Option<SimTime>,
    /// No new requests after this instant.
    pub valid_until: Option<SimTime>,
    /// Terminate running instances when the fleet expires.
    pub terminate_instances_with_expiration: bool,
    /// Replace Spot instances that fail health checks (maintain only).
    pub replace_unhealthy_instances: bool,
    /// Tags of the fleet itself (`ResourceType` `fleet`).
    pub fleet_tags: Vec<Tag>,
    /// Tags for instances (`ResourceType` `instance`, instant fleets only).
    pub instance_tags: Vec<Tag>,
    /// The idempotency token, if the caller sent one.
    pub client_token: Option<String>,
    /// Reserved `Context` string, echoed.
    pub context: Option<String>,
    /// The request as received, for idempotency checks and echoing.
    pub request: CreateFleetRequest,
}

impl FleetSpec {
    /// The limits that bound one purchase option's allocation.
    pub fn limits(&self, lifecycle: Lifecycle) -> PurchaseLimits {
        match lifecycle {
            Lifecycle::Spot => self.spot.limits,
            Lifecycle::OnDemand => self.on_demand.limits,
        }
    }
}
