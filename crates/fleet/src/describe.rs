//! The read side of the fleet API: CreateFleet's answer, DescribeFleets (filters,
//! pagination, instant fleets only by id), DescribeFleetInstances and
//! DescribeFleetHistory, as typed outputs that serialise to the AWS CLI's JSON shapes.
//! The XML renderings belong to the wire crate, not here.

use std::collections::BTreeMap;

use simtime::{SimDuration, SimTime};

use crate::engine::Engine;
use crate::error::{ErrorCode, FleetError};
use crate::fleet::Fleet;
use crate::history::EventType;
use crate::ids::FleetId;
pub use crate::output::*;
use crate::spec::{FleetType, Lifecycle, ReplacementStrategy, SpotAllocationStrategy};
use crate::wire::{
    DescribeFleetHistoryRequest, DescribeFleetInstancesRequest, DescribeFleetsRequest,
    FleetLaunchTemplateOverrides,
};

/// Deleted fleets stay describable this long, as on AWS ("about 2 days").
const DELETED_FLEET_RETENTION: SimDuration = SimDuration::from_days(2);

impl Engine {
    /// CreateFleet's answer for a committed fleet.
    pub fn create_fleet_output(&self, id: &FleetId) -> Result<CreateFleetOutput, FleetError> {
        let fleet = self.fleet_for_call(id)?;
        let instant = fleet.spec.fleet_type == FleetType::Instant;
        Ok(CreateFleetOutput {
            fleet_id: id.to_string(),
            errors: instant.then(|| self.launch_errors(fleet)),
            instances: instant.then(|| self.launched_groups(fleet)),
        })
    }

    /// DescribeFleets.
    pub fn describe_fleets(
        &self,
        request: &DescribeFleetsRequest,
        now: SimTime,
    ) -> Result<DescribeFleetsOutput, FleetError> {
        let ids = request.fleet_ids.clone().unwrap_or_default();
        let mut selected: Vec<&Fleet> = Vec::new();
        if ids.is_empty() {
            // Instant fleets are listed only by id; deleted fleets are purged.
            selected.extend(self.fleets.values().filter(|f| {
                f.spec.fleet_type != FleetType::Instant
                    && f.deleted_at
                        .is_none_or(|at| now.saturating_since(at) < DELETED_FLEET_RETENTION)
            }));
        } else {
            for raw in &ids {
                selected.push(self.fleet_for_call(&FleetId::new(raw.as_str()))?);
            }
        }
        for filter in request.filters.iter().flatten() {
            let name = filter.name.clone().unwrap_or_default();
            let values = filter.values.clone().unwrap_or_default();
            let field = |fleet: &Fleet| -> Result<String, FleetError> {
                Ok(match name.as_str() {
                    "activity-status" => fleet.activity(&self.instances).as_str().to_owned(),
                    "excess-capacity-termination-policy" => {
                        fleet.spec.excess_capacity_policy.as_str().to_owned()
                    }
                    "fleet-state" => fleet.state.as_str().to_owned(),
                    "replace-unhealthy-instances" => {
                        fleet.spec.replace_unhealthy_instances.to_string()
                    }
                    "type" => fleet.spec.fleet_type.as_str().to_owned(),
                    other => {
                        return Err(FleetError::new(
                            ErrorCode::InvalidParameterValue,
                            format!("The filter '{other}' is invalid"),
                        ));
                    }
                })
            };
            let mut kept = Vec::new();
            for fleet in selected {
                let value = field(fleet)?;
                let normalise = |v: &str| v.replace('-', "_");
                if values.iter().any(|v| normalise(v) == normalise(&value)) {
                    kept.push(fleet);
                }
            }
            selected = kept;
        }
        let (page, next_token) = paginate(
            &selected,
            request.max_results,
            request.next_token.as_deref(),
        )?;
        Ok(DescribeFleetsOutput {
            fleets: page.iter().map(|f| self.fleet_data(f)).collect(),
            next_token,
        })
    }

    /// DescribeFleetInstances: the fleet's pending and running instances. Not supported
    /// for instant fleets, as on AWS.
    pub fn describe_fleet_instances(
        &self,
        request: &DescribeFleetInstancesRequest,
    ) -> Result<DescribeFleetInstancesOutput, FleetError> {
        let id = FleetId::new(required(&request.fleet_id, "FleetId")?);
        let fleet = self.fleet_for_call(&id)?;
        if fleet.spec.fleet_type == FleetType::Instant {
            return Err(FleetError::new(
                ErrorCode::Unsupported,
                format!(
                    "Fleet {id} is instant fleet. Describe fleet instances is not supported by this type of fleet"
                ),
            ));
        }
        let mut types: Option<Vec<String>> = None;
        for filter in request.filters.iter().flatten() {
            match filter.name.as_deref() {
                Some("instance-type") => types = filter.values.clone(),
                other => {
                    return Err(FleetError::new(
                        ErrorCode::InvalidParameterValue,
                        format!("The filter '{}' is invalid", other.unwrap_or_default()),
                    ));
                }
            }
        }
        let active: Vec<ActiveInstance> = fleet
            .live(&self.instances)
            .filter(|i| {
                types
                    .as_ref()
                    .is_none_or(|t| t.iter().any(|t| t == i.pool.type_name()))
            })
            .map(|i| ActiveInstance {
                instance_id: i.id.to_string(),
                instance_type: i.pool.type_name(),
                spot_instance_request_id: i.spot_request.as_ref().map(|r| r.id.to_string()),
                instance_health: "healthy",
            })
            .collect();
        let (page, next_token) =
            paginate(&active, request.max_results, request.next_token.as_deref())?;
        Ok(DescribeFleetInstancesOutput {
            active_instances: page.to_vec(),
            next_token,
            fleet_id: id.to_string(),
        })
    }

    /// DescribeFleetHistory: records at or after `StartTime`, optionally of one type.
    pub fn describe_fleet_history(
        &self,
        request: &DescribeFleetHistoryRequest,
        now: SimTime,
    ) -> Result<DescribeFleetHistoryOutput, FleetError> {
        let id = FleetId::new(required(&request.fleet_id, "FleetId")?);
        let start_text = required(&request.start_time, "StartTime")?;
        let start = SimTime::parse(&start_text)
            .map_err(|e| FleetError::new(ErrorCode::InvalidParameterValue, e.to_string()))?;
        let event_type = match request.event_type.as_deref() {
            None => None,
            Some(text) => Some(EventType::parse_filter(text).ok_or_else(|| {
                FleetError::new(
                    ErrorCode::InvalidParameterValue,
                    format!("Value ({text}) for parameter EventType is invalid. Valid values: instance-change, fleet-change, service-error"),
                )
            })?),
        };
        let fleet = self.fleet_for_call(&id)?;
        let records: Vec<HistoryRecordOutput> = fleet
            .history
            .iter()
            .filter(|r| r.timestamp >= start)
            .filter(|r| event_type.is_none_or(|t| t == r.event_type))
            .map(|r| HistoryRecordOutput {
                event_information: EventInformation {
                    event_description: r.event_description.clone(),
                    event_sub_type: r.event_sub_type.as_str(),
                    instance_id: r.instance_id.as_ref().map(ToString::to_string),
                },
                event_type: r.event_type.as_str(),
                timestamp: r.timestamp,
            })
            .collect();
        let (page, next_token) =
            paginate(&records, request.max_results, request.next_token.as_deref())?;
        Ok(DescribeFleetHistoryOutput {
            history_records: page.to_vec(),
            last_evaluated_time: next_token.is_none().then_some(now),
            next_token,
            fleet_id: id.to_string(),
            start_time: start,
        })
    }

    fn fleet_data(&self, fleet: &Fleet) -> FleetData {
        let spec = &fleet.spec;
        let instant = spec.fleet_type == FleetType::Instant;
        let lowest = spec.spot.strategy == SpotAllocationStrategy::LowestPrice;
        FleetData {
            activity_status: fleet.activity(&self.instances),
            create_time: fleet.created_at,
            fleet_id: fleet.id.to_string(),
            fleet_state: fleet.state,
            client_token: spec.client_token.clone(),
            excess_capacity_termination_policy: (!instant)
                .then(|| spec.excess_capacity_policy.as_str()),
            fulfilled_capacity: fleet.fulfilled(&self.instances).as_f64(),
            fulfilled_on_demand_capacity: fleet.fulfilled_on_demand(&self.instances).as_f64(),
            launch_template_configs: launch_template_configs(fleet),
            target_capacity_specification: TargetCapacityOutput {
                total_target_capacity: spec.target.total,
                on_demand_target_capacity: spec.target.on_demand,
                spot_target_capacity: spec.target.spot,
                default_target_capacity_type: spec.target.default_type.as_str(),
                target_capacity_unit_type: (spec.target.unit_type
                    != crate::spec::CapacityUnitType::Units)
                    .then(|| spec.target.unit_type.as_str()),
            },
            terminate_instances_with_expiration: spec.terminate_instances_with_expiration,
            fleet_type: spec.fleet_type.as_str(),
            valid_from: spec.valid_from,
            valid_until: spec.valid_until,
            replace_unhealthy_instances: spec.replace_unhealthy_instances,
            spot_options: SpotOptionsOutput {
                allocation_strategy: spec.spot.strategy.echo(),
                maintenance_strategies: spec.spot.capacity_rebalance.map(|r| {
                    MaintenanceStrategiesOutput {
                        capacity_rebalance: match r {
                            ReplacementStrategy::Launch => CapacityRebalanceOutput {
                                replacement_strategy: "launch",
                                termination_delay: None,
                            },
                            ReplacementStrategy::LaunchBeforeTerminate { termination_delay } => {
                                CapacityRebalanceOutput {
                                    replacement_strategy: "launch-before-terminate",
                                    termination_delay: Some(termination_delay.as_secs()),
                                }
                            }
                        },
                    }
                }),
                instance_interruption_behavior: spec.spot.interruption_behavior.as_str(),
                instance_pools_to_use_count: lowest.then_some(spec.spot.pools_to_use),
                limits: spec.spot.limits.into(),
            },
            on_demand_options: OnDemandOptionsOutput {
                allocation_strategy: spec.on_demand.strategy.echo(),
                limits: spec.on_demand.limits.into(),
            },
            tags: spec.fleet_tags.clone(),
            errors: instant.then(|| self.launch_errors(fleet)),
            instances: instant.then(|| self.launched_groups(fleet)),
            context: spec.context.clone(),
        }
    }

    fn launch_errors(&self, fleet: &Fleet) -> Vec<CreateFleetError> {
        fleet
            .errors
            .iter()
            .filter_map(|e| {
                Some(CreateFleetError {
                    launch_template_and_overrides: template_and_override(fleet, e.spec)?,
                    lifecycle: e.lifecycle.as_str(),
                    error_code: e.code.as_str(),
                    error_message: error_message(fleet, e.spec, e.code),
                })
            })
            .collect()
    }

    fn launched_groups(&self, fleet: &Fleet) -> Vec<CreateFleetInstance> {
        let mut groups: BTreeMap<(usize, Lifecycle), Vec<String>> = BTreeMap::new();
        for id in &fleet.instances {
            if let Some(instance) = self.instances.get(id) {
                groups
                    .entry((instance.spec_index, instance.lifecycle))
                    .or_default()
                    .push(id.to_string());
            }
        }
        groups
            .into_iter()
            .filter_map(|((spec_index, lifecycle), instance_ids)| {
                let spec = fleet.spec.specs.get(spec_index)?;
                let mut with_version = template_and_override(fleet, spec_index)?;
                // Instances carry the resolved version number.
                if let Some(template) = fleet.spec.launch_templates.get(spec.template) {
                    with_version.launch_template_specification.version =
                        template.version.to_string();
                }
                Some(CreateFleetInstance {
                    launch_template_and_overrides: with_version,
                    lifecycle: lifecycle.as_str(),
                    instance_ids,
                    instance_type: spec.pool.type_name(),
                })
            })
            .collect()
    }
}

fn error_message(fleet: &Fleet, spec_index: usize, code: crate::error::LaunchErrorCode) -> String {
    let pool = fleet
        .spec
        .specs
        .get(spec_index)
        .map(|s| s.pool.to_string())
        .unwrap_or_default();
    match code {
        crate::error::LaunchErrorCode::InsufficientInstanceCapacity => {
            format!("There is no Spot capacity available that matches your request ({pool}).")
        }
        crate::error::LaunchErrorCode::SpotMaxPriceTooLow => format!(
            "Your Spot request price is lower than the minimum required Spot request fulfillment price ({pool})."
        ),
        crate::error::LaunchErrorCode::UnfulfillableCapacity => {
            format!("The requested capacity could not be fulfilled in {pool}.")
        }
    }
}

fn template_spec(fleet: &Fleet, template: usize) -> Option<LaunchTemplateSpecification> {
    let t = fleet.spec.launch_templates.get(template)?;
    Some(LaunchTemplateSpecification {
        launch_template_id: t.id.clone(),
        launch_template_name: t.name.clone(),
        version: t.requested_version.clone(),
    })
}

fn template_and_override(fleet: &Fleet, spec_index: usize) -> Option<LaunchTemplateAndOverrides> {
    let spec = fleet.spec.specs.get(spec_index)?;
    Some(LaunchTemplateAndOverrides {
        launch_template_specification: template_spec(fleet, spec.template)?,
        overrides: spec.wire.clone(),
    })
}

/// The request's configs, rebuilt from the specs (one entry per config, one override
/// per wire override, however many pools it expanded to).
fn launch_template_configs(fleet: &Fleet) -> Vec<LaunchTemplateConfig> {
    let mut configs: BTreeMap<usize, (usize, BTreeMap<usize, FleetLaunchTemplateOverrides>)> =
        BTreeMap::new();
    for spec in &fleet.spec.specs {
        let (config, override_index) = spec.origin;
        configs
            .entry(config)
            .or_insert_with(|| (spec.template, BTreeMap::new()))
            .1
            .entry(override_index)
            .or_insert_with(|| spec.wire.clone());
    }
    configs
        .into_values()
        .filter_map(|(template, overrides)| {
            Some(LaunchTemplateConfig {
                launch_template_specification: template_spec(fleet, template)?,
                overrides: overrides.into_values().collect(),
            })
        })
        .collect()
}

fn required(value: &Option<String>, name: &str) -> Result<String, FleetError> {
    value.clone().filter(|v| !v.is_empty()).ok_or_else(|| {
        FleetError::new(
            ErrorCode::MissingParameter,
            format!("The request must contain the parameter {name}"),
        )
    })
}

/// Pages through `items`: the token is the offset of the next page. An unparsable or
/// out-of-range token is a client error.
fn paginate<'a, T>(
    items: &'a [T],
    max_results: Option<i32>,
    next_token: Option<&str>,
) -> Result<(&'a [T], Option<String>), FleetError> {
    let start = match next_token {
        None | Some("") => 0,
        Some(token) => token
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or_else(|| {
                FleetError::new(
                    ErrorCode::InvalidParameterValue,
                    format!("The token '{token}' is invalid."),
                )
            })?,
    };
    let limit = match max_results {
        None => items.len().max(1),
        Some(n) if n >= 1 => n as usize,
        Some(n) => {
            return Err(FleetError::new(
                ErrorCode::InvalidParameterValue,
                format!(
                    "Value ({n}) for parameter MaxResults is invalid. Expecting a value greater than 0."
                ),
            ));
        }
    };
    let end = start.saturating_add(limit).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((&items[start..end], next))
}
