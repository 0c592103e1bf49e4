//! A CreateFleet request written as the AWS CLI's JSON (`--cli-input-json`), turned
//! into aws-sdk-ec2's input. Member names are EC2's; a member spotlab does not carry
//! over is an error naming it, never silently dropped.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use aws_sdk_ec2::operation::create_fleet::builders::CreateFleetFluentBuilder;
use aws_sdk_ec2::types::{
    DefaultTargetCapacityType, FleetExcessCapacityTerminationPolicy,
    FleetLaunchTemplateConfigRequest, FleetLaunchTemplateOverridesRequest,
    FleetLaunchTemplateSpecificationRequest, FleetOnDemandAllocationStrategy, FleetType,
    InstanceType, OnDemandOptionsRequest, Placement, ResourceType, SpotAllocationStrategy,
    SpotInstanceInterruptionBehavior, SpotOptionsRequest, Tag, TagSpecification,
    TargetCapacitySpecificationRequest, TargetCapacityUnitType,
};
use serde::Deserialize;

/// The request as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct FleetRequest {
    #[serde(default)]
    dry_run: Option<bool>,
    client_token: Option<String>,
    spot_options: Option<SpotOptions>,
    on_demand_options: Option<OnDemandOptions>,
    excess_capacity_termination_policy: Option<String>,
    launch_template_configs: Vec<LaunchTemplateConfig>,
    target_capacity_specification: TargetCapacity,
    terminate_instances_with_expiration: Option<bool>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    replace_unhealthy_instances: Option<bool>,
    #[serde(default)]
    tag_specifications: Vec<TagSpec>,
    context: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct SpotOptions {
    allocation_strategy: Option<String>,
    instance_interruption_behavior: Option<String>,
    instance_pools_to_use_count: Option<i32>,
    single_instance_type: Option<bool>,
    single_availability_zone: Option<bool>,
    min_target_capacity: Option<i32>,
    max_total_price: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct OnDemandOptions {
    allocation_strategy: Option<String>,
    single_instance_type: Option<bool>,
    single_availability_zone: Option<bool>,
    min_target_capacity: Option<i32>,
    max_total_price: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct LaunchTemplateConfig {
    launch_template_specification: LaunchTemplateSpecification,
    #[serde(default)]
    overrides: Vec<Override>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct LaunchTemplateSpecification {
    launch_template_id: Option<String>,
    launch_template_name: Option<String>,
    version: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct Override {
    instance_type: Option<String>,
    max_price: Option<String>,
    subnet_id: Option<String>,
    availability_zone: Option<String>,
    weighted_capacity: Option<f64>,
    priority: Option<f64>,
    placement: Option<PlacementFile>,
    image_id: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct PlacementFile {
    availability_zone: Option<String>,
    group_name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct TargetCapacity {
    total_target_capacity: i32,
    on_demand_target_capacity: Option<i32>,
    spot_target_capacity: Option<i32>,
    default_target_capacity_type: Option<String>,
    target_capacity_unit_type: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct TagSpec {
    resource_type: String,
    #[serde(default)]
    tags: Vec<TagFile>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct TagFile {
    key: String,
    value: String,
}

impl FleetRequest {
    /// Parses the JSON text, after `${NAME}` and the walkthrough's `%NAME%`
    /// placeholders were filled by `lookup`.
    pub fn parse(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut filled = text.to_owned();
        for name in [
            "LAUNCH_TEMPLATE_ID",
            "LAUNCH_TEMPLATE_NAME",
            "SUBNET_ID_1",
            "SUBNET_ID_2",
            "SUBNET_ID_3",
        ] {
            if let Some(value) = lookup(name) {
                filled = filled.replace(&format!("%{name}%"), &value);
                filled = filled.replace(&format!("${{{name}}}"), &value);
            }
        }
        if let Some(at) = filled.find("${").or_else(|| filled.find("%SUBNET")) {
            let rest: String = filled[at..].chars().take(30).collect();
            bail!("the fleet request has a placeholder nothing fills: {rest:?}");
        }
        serde_json::from_str(&filled).context("the fleet request is not CreateFleet JSON")
    }

    /// The target capacity asked for.
    pub fn target_capacity(&self) -> i32 {
        self.target_capacity_specification.total_target_capacity
    }

    /// Asks for `capacity` in all: the Spot part is what the On-Demand part leaves.
    pub fn set_total_target_capacity(&mut self, capacity: u32) {
        let t = &mut self.target_capacity_specification;
        let total = i32::try_from(capacity).unwrap_or(i32::MAX);
        t.total_target_capacity = total;
        let on_demand = t.on_demand_target_capacity.unwrap_or(0).min(total);
        t.on_demand_target_capacity = t.on_demand_target_capacity.map(|_| on_demand);
        t.spot_target_capacity = t.spot_target_capacity.map(|_| total - on_demand);
    }

    /// Every override's `(instance type, subnet or zone, weight)`.
    pub fn pools(&self) -> Vec<(String, String, f64)> {
        self.launch_template_configs
            .iter()
            .flat_map(|c| &c.overrides)
            .map(|o| {
                (
                    o.instance_type.clone().unwrap_or_default(),
                    o.subnet_id
                        .clone()
                        .or_else(|| o.availability_zone.clone())
                        .unwrap_or_default(),
                    o.weighted_capacity.unwrap_or(1.0),
                )
            })
            .collect()
    }

    /// Weighted capacity of each instance type in the overrides (1 when not given).
    pub fn weights(&self) -> BTreeMap<String, f64> {
        self.launch_template_configs
            .iter()
            .flat_map(|c| &c.overrides)
            .filter_map(|o| {
                o.instance_type
                    .clone()
                    .map(|t| (t, o.weighted_capacity.unwrap_or(1.0)))
            })
            .collect()
    }

    /// The most instances and the most USD per hour the fleet can cost at `capacity`:
    /// every unit filled by the override with the smallest weight, each instance at the
    /// highest price any override may pay (its MaxPrice, else the type's On-Demand
    /// price, which a Spot price never exceeds). `on_demand` prices a type.
    pub fn worst_case(
        &self,
        capacity: u32,
        on_demand: &dyn Fn(&str) -> Option<f64>,
    ) -> anyhow::Result<(u64, f64)> {
        let overrides: Vec<&Override> = self
            .launch_template_configs
            .iter()
            .flat_map(|c| &c.overrides)
            .collect();
        if overrides.is_empty() {
            bail!("the fleet request has no overrides, so its instance types are unknown");
        }
        let mut smallest = f64::INFINITY;
        let mut dearest: f64 = 0.0;
        for o in &overrides {
            let weight = o.weighted_capacity.unwrap_or(1.0);
            if weight > 0.0 {
                smallest = smallest.min(weight);
            }
            let kind = o.instance_type.as_deref().unwrap_or_default();
            let price = match (&o.max_price, on_demand(kind)) {
                (Some(max), _) => max
                    .parse::<f64>()
                    .with_context(|| format!("MaxPrice {max:?} is not a number"))?,
                (None, Some(price)) => price,
                (None, None) => bail!("no On-Demand price is known for {kind:?}"),
            };
            dearest = dearest.max(price);
        }
        let instances = (f64::from(capacity) / smallest).ceil() as u64;
        Ok((instances, instances as f64 * dearest))
    }

    /// Fills CreateFleet's input.
    pub fn apply(&self, call: CreateFleetFluentBuilder) -> CreateFleetFluentBuilder {
        let mut call = call
            .set_dry_run(self.dry_run)
            .set_client_token(self.client_token.clone())
            .set_terminate_instances_with_expiration(self.terminate_instances_with_expiration)
            .set_replace_unhealthy_instances(self.replace_unhealthy_instances)
            .set_context(self.context.clone())
            .set_type(self.kind.as_deref().map(FleetType::from))
            .set_excess_capacity_termination_policy(
                self.excess_capacity_termination_policy
                    .as_deref()
                    .map(FleetExcessCapacityTerminationPolicy::from),
            );
        let t = &self.target_capacity_specification;
        call = call.target_capacity_specification(
            TargetCapacitySpecificationRequest::builder()
                .total_target_capacity(t.total_target_capacity)
                .set_on_demand_target_capacity(t.on_demand_target_capacity)
                .set_spot_target_capacity(t.spot_target_capacity)
                .set_default_target_capacity_type(
                    t.default_target_capacity_type
                        .as_deref()
                        .map(DefaultTargetCapacityType::from),
                )
                .set_target_capacity_unit_type(
                    t.target_capacity_unit_type
                        .as_deref()
                        .map(TargetCapacityUnitType::from),
                )
                .build(),
        );
        if let Some(s) = &self.spot_options {
            call = call.spot_options(
                SpotOptionsRequest::builder()
                    .set_allocation_strategy(
                        s.allocation_strategy
                            .as_deref()
                            .map(SpotAllocationStrategy::from),
                    )
                    .set_instance_interruption_behavior(
                        s.instance_interruption_behavior
                            .as_deref()
                            .map(SpotInstanceInterruptionBehavior::from),
                    )
                    .set_instance_pools_to_use_count(s.instance_pools_to_use_count)
                    .set_single_instance_type(s.single_instance_type)
                    .set_single_availability_zone(s.single_availability_zone)
                    .set_min_target_capacity(s.min_target_capacity)
                    .set_max_total_price(s.max_total_price.clone())
                    .build(),
            );
        }
        if let Some(o) = &self.on_demand_options {
            call = call.on_demand_options(
                OnDemandOptionsRequest::builder()
                    .set_allocation_strategy(
                        o.allocation_strategy
                            .as_deref()
                            .map(FleetOnDemandAllocationStrategy::from),
                    )
                    .set_single_instance_type(o.single_instance_type)
                    .set_single_availability_zone(o.single_availability_zone)
                    .set_min_target_capacity(o.min_target_capacity)
                    .set_max_total_price(o.max_total_price.clone())
                    .build(),
            );
        }
        for config in &self.launch_template_configs {
            let spec = &config.launch_template_specification;
            let mut built = FleetLaunchTemplateConfigRequest::builder()
                .launch_template_specification(
                    FleetLaunchTemplateSpecificationRequest::builder()
                        .set_launch_template_id(spec.launch_template_id.clone())
                        .set_launch_template_name(spec.launch_template_name.clone())
                        .set_version(spec.version.clone())
                        .build(),
                );
            for o in &config.overrides {
                built = built.overrides(
                    FleetLaunchTemplateOverridesRequest::builder()
                        .set_instance_type(o.instance_type.as_deref().map(InstanceType::from))
                        .set_max_price(o.max_price.clone())
                        .set_subnet_id(o.subnet_id.clone())
                        .set_availability_zone(o.availability_zone.clone())
                        .set_weighted_capacity(o.weighted_capacity)
                        .set_priority(o.priority)
                        .set_image_id(o.image_id.clone())
                        .set_placement(o.placement.as_ref().map(|p| {
                            Placement::builder()
                                .set_availability_zone(p.availability_zone.clone())
                                .set_group_name(p.group_name.clone())
                                .build()
                        }))
                        .build(),
                );
            }
            call = call.launch_template_configs(built.build());
        }
        for spec in &self.tag_specifications {
            let mut built = TagSpecification::builder()
                .resource_type(ResourceType::from(spec.resource_type.as_str()));
            for tag in &spec.tags {
                built = built.tags(Tag::builder().key(&tag.key).value(&tag.value).build());
            }
            call = call.tag_specifications(built.build());
        }
        call
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLEET: &str = include_str!("../../../../examples/reference-fleet.json");

    fn lookup(name: &str) -> Option<String> {
        match name {
            "LAUNCH_TEMPLATE_ID" => Some("lt-1".into()),
            "SUBNET_ID_1" => Some("subnet-1".into()),
            "SUBNET_ID_2" => Some("subnet-2".into()),
            _ => None,
        }
    }

    #[test]
    fn the_reference_fleet_parses_with_its_weights() {
        let request = FleetRequest::parse(FLEET, &lookup).expect("it parses");
        assert_eq!(request.target_capacity(), 4);
        let weights = request.weights();
        assert_eq!(weights.get("t2.small"), Some(&1.0));
        assert_eq!(weights.get("c5.large"), Some(&2.0));
        assert_eq!(weights.get("c5.xlarge"), Some(&4.0));
    }

    #[test]
    fn the_worst_case_fills_with_the_smallest_weight_at_the_dearest_price() {
        let request = FleetRequest::parse(FLEET, &lookup).expect("it parses");
        let price = |t: &str| match t {
            "t2.small" => Some(0.023),
            "c5.large" => Some(0.085),
            "c5.xlarge" => Some(0.17),
            _ => None,
        };
        let (instances, hourly) = request
            .worst_case(8, &price)
            .expect("every type has a price");
        assert_eq!(instances, 8);
        assert!((hourly - 8.0 * 0.17).abs() < 1e-9);
        assert!(request.worst_case(8, &|_| None).is_err());
    }

    #[test]
    fn unfilled_placeholders_and_unknown_members_are_errors() {
        let error = FleetRequest::parse(FLEET, &|_| None).unwrap_err();
        assert!(error.to_string().contains("placeholder"), "{error}");
        let error = FleetRequest::parse(
            r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":1},"LaunchTemplateConfigs":[],"Bogus":1}"#,
            &lookup,
        )
        .unwrap_err();
        assert!(format!("{error:#}").contains("Bogus"), "{error:#}");
    }
}
