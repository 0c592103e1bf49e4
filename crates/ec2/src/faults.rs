//! Fault injection in the spirit of AWS FIS's `aws:ec2:send-spot-instance-interruptions`:
//! interrupt chosen Spot instances, or a percentage of a fleet's or a pool's, with an
//! optional lead (`durationBeforeInterruption`); raise rebalance recommendations; drop
//! a pool's capacity for a while, or restore it.
//!
//! As in FIS, a lead longer than the 2-minute notice sends the rebalance recommendation
//! at once and the interruption notice 2 minutes before the interruption. Every notice
//! goes through the engine's one path, so IMDS, the bus and the instance's processes
//! see an injected interruption exactly as a market reclaim or a scale-down. Which
//! instances a percentage picks is drawn from the cloud's seeded stream.

use fleet::spec::Lifecycle;
use fleet::{FleetId, InstanceId};
use market::{Pool, catalog};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use simtime::{SimDuration, SimTime};
use world::Injection;

use crate::cloud::Cloud;
use crate::error::ApiError;

/// Which instances a fault acts on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Targets {
    /// These instances.
    Instances(Vec<String>),
    /// A share of a fleet's live Spot instances.
    Fleet {
        /// The fleet.
        fleet_id: String,
        /// Percent of its live Spot instances, 1-100 (rounded up to whole instances).
        percent: u32,
    },
    /// A share of a pool's live Spot instances.
    Pool {
        /// e.g. `t2.small`.
        instance_type: String,
        /// e.g. `us-east-1a`.
        availability_zone: String,
        /// Percent, 1-100.
        percent: u32,
    },
}

/// A fault to inject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum FaultRequest {
    /// Spot interruptions with the usual 2-minute notice.
    Interrupt {
        /// Which instances.
        targets: Targets,
        /// Time from now to the interruption, at least 2 minutes (the default); with
        /// more, a rebalance recommendation comes first.
        #[serde(default)]
        before_ms: Option<u64>,
    },
    /// Rebalance recommendations only.
    Rebalance {
        /// Which instances.
        targets: Targets,
    },
    /// The pool holds at most `level` of our Spot instances (the rest are reclaimed)
    /// for `for_ms`, or until restored.
    DropCapacity {
        /// e.g. `t2.small`.
        instance_type: String,
        /// e.g. `us-east-1a`.
        availability_zone: String,
        /// Spot instances it can still hold.
        level: u32,
        /// How long, in virtual milliseconds (`None`: until restored).
        #[serde(default)]
        for_ms: Option<u64>,
    },
    /// The pool's natural capacity returns.
    RestoreCapacity {
        /// e.g. `t2.small`.
        instance_type: String,
        /// e.g. `us-east-1a`.
        availability_zone: String,
    },
}

/// What a fault did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultOutcome {
    /// The instances acted on.
    pub instances: Vec<String>,
    /// When their interruption notices come (interruptions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_at: Option<SimTime>,
    /// When they are interrupted (interruptions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupt_at: Option<SimTime>,
}

/// The notice lead every Spot interruption gets.
const NOTICE: SimDuration = SimDuration::from_mins(2);

fn pool_of(instance_type: &str, zone: &str) -> Result<Pool, ApiError> {
    let t = catalog().instance_type_id(instance_type).ok_or_else(|| {
        ApiError::invalid_value(format!("Unknown instance type {instance_type:?}"))
    })?;
    let z = catalog()
        .zone_by_name(zone)
        .ok_or_else(|| ApiError::invalid_value(format!("Unknown availability zone {zone:?}")))?;
    Ok(Pool {
        instance_type: t,
        zone: z,
    })
}

impl Cloud {
    /// Injects a fault at the current time.
    pub fn inject(&mut self, fault: &FaultRequest) -> Result<FaultOutcome, ApiError> {
        let now = self.now();
        match fault {
            FaultRequest::Interrupt { targets, before_ms } => {
                let before = SimDuration::from_millis(before_ms.unwrap_or(NOTICE.as_millis()));
                if before < NOTICE {
                    return Err(ApiError::invalid_value(
                        "An interruption comes at least 2 minutes after its notice.",
                    ));
                }
                let ids = self.resolve(targets)?;
                let notice_at =
                    now + SimDuration::from_millis(before.as_millis() - NOTICE.as_millis());
                if notice_at > now {
                    self.world.inject(Injection::Rebalance {
                        instances: ids.clone(),
                    })?;
                }
                self.world.schedule_injection(
                    notice_at,
                    Injection::Interrupt {
                        instances: ids.clone(),
                    },
                )?;
                Ok(FaultOutcome {
                    instances: ids.iter().map(ToString::to_string).collect(),
                    notice_at: Some(notice_at),
                    interrupt_at: Some(now + before),
                })
            }
            FaultRequest::Rebalance { targets } => {
                let ids = self.resolve(targets)?;
                self.world.inject(Injection::Rebalance {
                    instances: ids.clone(),
                })?;
                Ok(FaultOutcome {
                    instances: ids.iter().map(ToString::to_string).collect(),
                    notice_at: None,
                    interrupt_at: None,
                })
            }
            FaultRequest::DropCapacity {
                instance_type,
                availability_zone,
                level,
                for_ms,
            } => {
                let pool = pool_of(instance_type, availability_zone)?;
                let before: Vec<InstanceId> = self.live_spot_in(|i| i.pool == pool);
                self.world.inject(Injection::DropCapacity {
                    pool,
                    level: *level,
                    until: for_ms.map(|ms| now + SimDuration::from_millis(ms)),
                })?;
                let noticed: Vec<String> = before
                    .iter()
                    .filter(|id| {
                        self.world
                            .engine()
                            .instance(id)
                            .is_some_and(|i| i.notice.is_some())
                    })
                    .map(ToString::to_string)
                    .collect();
                Ok(FaultOutcome {
                    instances: noticed,
                    notice_at: None,
                    interrupt_at: None,
                })
            }
            FaultRequest::RestoreCapacity {
                instance_type,
                availability_zone,
            } => {
                let pool = pool_of(instance_type, availability_zone)?;
                self.world.inject(Injection::RestoreCapacity { pool })?;
                Ok(FaultOutcome {
                    instances: Vec::new(),
                    notice_at: None,
                    interrupt_at: None,
                })
            }
        }
    }

    fn live_spot_in(&self, keep: impl Fn(&fleet::Instance) -> bool) -> Vec<InstanceId> {
        self.world
            .engine()
            .instances()
            .filter(|i| {
                i.lifecycle == Lifecycle::Spot && i.state.is_live() && i.notice.is_none() && keep(i)
            })
            .map(|i| i.id.clone())
            .collect()
    }

    /// The instances a fault names: explicit ones must all be live Spot instances; a
    /// percentage picks that share (rounded up) at random among the candidates.
    fn resolve(&mut self, targets: &Targets) -> Result<Vec<InstanceId>, ApiError> {
        let (mut candidates, percent) = match targets {
            Targets::Instances(ids) => {
                if ids.is_empty() {
                    return Err(ApiError::missing("InstanceIds"));
                }
                let mut out = Vec::new();
                for id in ids {
                    let id = InstanceId::new(id.as_str());
                    let instance = self.world.engine().instance(&id).ok_or_else(|| {
                        ApiError::new(
                            "InvalidInstanceID.NotFound",
                            format!("The instance ID '{id}' does not exist"),
                        )
                    })?;
                    if instance.lifecycle != Lifecycle::Spot || !instance.state.is_live() {
                        return Err(ApiError::invalid_value(format!(
                            "Instance {id} is not a pending or running Spot instance."
                        )));
                    }
                    out.push(id);
                }
                return Ok(out);
            }
            Targets::Fleet { fleet_id, percent } => {
                let fleet = FleetId::new(fleet_id.as_str());
                if self.world.engine().fleet(&fleet).is_none() {
                    return Err(ApiError::new(
                        "InvalidFleetId.NotFound",
                        format!("The fleet ID '{fleet_id}' does not exist"),
                    ));
                }
                (self.live_spot_in(|i| i.fleet == fleet), *percent)
            }
            Targets::Pool {
                instance_type,
                availability_zone,
                percent,
            } => {
                let pool = pool_of(instance_type, availability_zone)?;
                (self.live_spot_in(|i| i.pool == pool), *percent)
            }
        };
        if !(1..=100).contains(&percent) {
            return Err(ApiError::invalid_value(
                "The percentage must be from 1 to 100.",
            ));
        }
        let count = (candidates.len() * percent as usize).div_ceil(100);
        candidates.shuffle(&mut self.rng);
        candidates.truncate(count);
        candidates.sort();
        Ok(candidates)
    }
}
