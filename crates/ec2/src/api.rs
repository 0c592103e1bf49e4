//! The EC2 actions this cloud serves, in one table: the handler of each, and whether it
//! changes state (the control plane records those, with their times, to rebuild the
//! cloud after a restart). An action the table lacks is EC2's `InvalidAction`.
//! GetConsoleOutput is served by the shell (the output lives in files), after
//! [`Cloud::instance_exists`].

use serde_json::Value;

use crate::cloud::Cloud;
use crate::error::ApiError;

type Handler = fn(&mut Cloud, Value) -> Result<Value, ApiError>;

/// `(action, changes state, handler)`, sorted by action.
const ACTIONS: &[(&str, bool, Handler)] = &[
    (
        "AuthorizeSecurityGroupIngress",
        true,
        Cloud::authorize_security_group_ingress,
    ),
    ("CreateFleet", true, Cloud::create_fleet),
    ("CreateLaunchTemplate", true, Cloud::create_launch_template),
    (
        "CreateLaunchTemplateVersion",
        true,
        Cloud::create_launch_template_version,
    ),
    ("CreateSecurityGroup", true, Cloud::create_security_group),
    ("CreateSubnet", true, Cloud::create_subnet),
    ("CreateTags", true, Cloud::create_tags),
    ("CreateVpc", true, Cloud::create_vpc),
    ("DeleteFleets", true, Cloud::delete_fleets),
    ("DeleteLaunchTemplate", true, Cloud::delete_launch_template),
    ("DeleteSecurityGroup", true, Cloud::delete_security_group),
    ("DeleteSubnet", true, Cloud::delete_subnet),
    ("DeleteTags", true, Cloud::delete_tags),
    ("DeleteVpc", true, Cloud::delete_vpc),
    (
        "DescribeAvailabilityZones",
        false,
        Cloud::describe_availability_zones,
    ),
    ("DescribeFleetHistory", false, Cloud::describe_fleet_history),
    (
        "DescribeFleetInstances",
        false,
        Cloud::describe_fleet_instances,
    ),
    ("DescribeFleets", false, Cloud::describe_fleets),
    (
        "DescribeInstanceStatus",
        false,
        Cloud::describe_instance_status,
    ),
    (
        "DescribeInstanceTypeOfferings",
        false,
        Cloud::describe_instance_type_offerings,
    ),
    (
        "DescribeInstanceTypes",
        false,
        Cloud::describe_instance_types,
    ),
    ("DescribeInstances", false, Cloud::describe_instances),
    (
        "DescribeLaunchTemplateVersions",
        false,
        Cloud::describe_launch_template_versions,
    ),
    (
        "DescribeLaunchTemplates",
        false,
        Cloud::describe_launch_templates,
    ),
    ("DescribeRegions", false, Cloud::describe_regions),
    (
        "DescribeSecurityGroups",
        false,
        Cloud::describe_security_groups,
    ),
    (
        "DescribeSpotInstanceRequests",
        false,
        Cloud::describe_spot_instance_requests,
    ),
    (
        "DescribeSpotPriceHistory",
        false,
        Cloud::describe_spot_price_history,
    ),
    ("DescribeSubnets", false, Cloud::describe_subnets),
    ("DescribeTags", false, Cloud::describe_tags),
    ("DescribeVpcs", false, Cloud::describe_vpcs),
    ("ModifyFleet", true, Cloud::modify_fleet),
    ("ModifyLaunchTemplate", true, Cloud::modify_launch_template),
    ("TerminateInstances", true, Cloud::terminate_instances),
];

/// Actions served by the shell rather than by [`Cloud::call`].
pub const SHELL_ACTIONS: &[&str] = &["GetConsoleOutput"];

fn entry(action: &str) -> Option<&'static (&'static str, bool, Handler)> {
    ACTIONS
        .binary_search_by(|(name, _, _)| name.cmp(&action))
        .ok()
        .map(|i| &ACTIONS[i])
}

/// Whether the cloud serves `action` (itself or through its shell).
pub fn is_served(action: &str) -> bool {
    entry(action).is_some() || SHELL_ACTIONS.contains(&action)
}

/// Whether `action` changes state (and must be recorded to be replayed).
pub fn changes_state(action: &str) -> bool {
    entry(action).is_some_and(|(_, changes, _)| *changes)
}

/// Every action [`Cloud::call`] serves, sorted.
pub fn actions() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().map(|(name, _, _)| *name)
}

impl Cloud {
    /// Performs one EC2 call at the current time. `input` is the call's JSON, named
    /// like the AWS CLI's `--cli-input-json` (the wire codec's output).
    pub fn call(&mut self, action: &str, input: Value) -> Result<Value, ApiError> {
        let Some((_, _, handler)) = entry(action) else {
            return Err(ApiError::invalid_action(action));
        };
        let result = handler(self, input);
        self.ingest();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_matches_the_model() {
        let names: Vec<&str> = actions().collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "ACTIONS must stay sorted for binary search");
        let model = aws_wire::model::Model::ec2();
        for name in names.iter().chain(SHELL_ACTIONS) {
            assert!(
                model.operation(name).is_some(),
                "{name} is not in the model"
            );
        }
        assert_eq!(
            model.operation_names().len(),
            names.len() + SHELL_ACTIONS.len(),
            "every modelled operation is served"
        );
    }
}
