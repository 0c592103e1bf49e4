//! Table tests for CreateFleet / ModifyFleet validation: one row per rule, each a JSON
//! merge patch (RFC 7386: objects merge, `null` deletes, arrays replace) applied to the
//! walkthrough's fleet, and the AWS error code expected or a check of the resulting spec.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

use fleet::spec::{
    CapacityUnitType, ExcessCapacityPolicy, FleetSpec, FleetType, InterruptionBehavior, Lifecycle,
    OnDemandAllocationStrategy, Priority, ReplacementStrategy, SpotAllocationStrategy, Units,
};
use fleet::validate::{StaticEnvironment, parse_fleet_id, validate_create, validate_modify};
use fleet::wire::{CreateFleetRequest, ModifyFleetRequest};
use market::{Price, ZoneId, catalog};
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

/// The test-dev-on-spot fleet: two `t2.small` pools in two subnets, 2 Spot units.
const BASE: &str = r#"{
  "TargetCapacitySpecification": {"TotalTargetCapacity": 2, "DefaultTargetCapacityType": "spot"},
  "LaunchTemplateConfigs": [{
    "LaunchTemplateSpecification": {"LaunchTemplateId": "lt-0a1b2c3d4e5f67890", "Version": "1"},
    "Overrides": [
      {"InstanceType": "t2.small", "SubnetId": "subnet-0a1b2c3d4e5f60001"},
      {"InstanceType": "t2.small", "SubnetId": "subnet-0a1b2c3d4e5f60002"}
    ]
  }]
}"#;

const FIXTURE: &str = include_str!("fixtures/create_fleet.json");
const EXAMPLE: &str = include_str!("../../../examples/create_fleet.json");

fn zone(name: &str) -> ZoneId {
    catalog().zone_by_name(name).expect("zone in the catalogue")
}

fn env() -> StaticEnvironment {
    StaticEnvironment::simulator()
        .with_subnet("subnet-0a1b2c3d4e5f60001", zone("us-east-1a"))
        .with_subnet("subnet-0a1b2c3d4e5f60002", zone("us-east-1b"))
        .with_subnet("subnet-0a1b2c3d4e5f60003", zone("us-east-1a"))
}

enum Expect {
    /// The AWS error code, as on the wire.
    Code(&'static str),
    /// Validation succeeds and the spec passes the check.
    Ok(fn(&FleetSpec)),
}
use Expect::{Code, Ok};

fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let object = target
        .as_object_mut()
        .expect("patch target is a JSON object");
    for (key, value) in patch {
        if value.is_null() {
            object.remove(key);
        } else {
            merge(object.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

fn patched(patch: &str) -> CreateFleetRequest {
    let mut body: Value = serde_json::from_str(BASE).expect("valid patched request JSON");
    merge(
        &mut body,
        &serde_json::from_str(patch).expect("valid patched request JSON"),
    );
    serde_json::from_value(body).expect("valid patched request JSON")
}

/// A patch replacing the base's overrides (same template).
fn overrides(list: &str) -> String {
    format!(
        r#"{{"LaunchTemplateConfigs":[{{"LaunchTemplateSpecification":{{"LaunchTemplateId":"lt-0a1b2c3d4e5f67890","Version":"1"}},"Overrides":{list}}}]}}"#
    )
}

fn check_request(name: &str, request: &CreateFleetRequest, expect: &Expect) {
    match (validate_create(request, &env()), expect) {
        (Result::Ok(spec), Ok(check)) => check(&spec),
        (Err(error), Code(code)) => {
            assert_eq!(error.code.as_str(), *code, "{name}: {}", error.message);
            assert!(!error.message.is_empty(), "{name}: empty message");
        }
        (Result::Ok(_), Code(code)) => panic!("{name}: expected {code}, got a spec"),
        (Err(error), Ok(_)) => panic!("{name}: expected a spec, got {error}"),
    }
}

fn check(rows: &[(&str, String, Expect)]) {
    for (name, patch, expect) in rows {
        check_request(name, &patched(patch), expect);
    }
}

fn p(s: &str) -> String {
    s.to_owned()
}

/// `patch` (an object) plus a replacement of the base's overrides.
fn with(patch: &str, list: &str) -> String {
    let mut merged: Value = serde_json::from_str(patch).expect("valid override JSON");
    merge(
        &mut merged,
        &serde_json::from_str(&overrides(list)).expect("valid override JSON"),
    );
    merged.to_string()
}

#[test]
fn defaults_are_aws_defaults() {
    let spec = validate_create(&patched("{}"), &env()).unwrap();
    assert_eq!(spec.fleet_type, FleetType::Maintain);
    assert_eq!(
        spec.excess_capacity_policy,
        ExcessCapacityPolicy::Termination
    );
    assert_eq!(spec.spot.strategy, SpotAllocationStrategy::LowestPrice);
    assert_eq!(
        spec.spot.interruption_behavior,
        InterruptionBehavior::Terminate
    );
    assert_eq!(spec.spot.pools_to_use, 1);
    assert_eq!(spec.spot.capacity_rebalance, None);
    assert_eq!(
        spec.on_demand.strategy,
        OnDemandAllocationStrategy::LowestPrice
    );
    let target = &spec.target;
    assert_eq!((target.total, target.on_demand, target.spot), (2, 0, 2));
    assert_eq!(target.unit_type, CapacityUnitType::Units);
    assert!(!spec.replace_unhealthy_instances && !spec.terminate_instances_with_expiration);
    assert_eq!(spec.launch_templates.len(), 1);
    assert_eq!(spec.launch_templates[0].version, 1);
    let pools: Vec<String> = spec.specs.iter().map(|s| s.pool.to_string()).collect();
    assert_eq!(pools, ["t2.small/us-east-1a", "t2.small/us-east-1b"]);
    let subnet = spec.specs[0].subnet_id.as_deref();
    assert_eq!(subnet, Some("subnet-0a1b2c3d4e5f60001"));
    assert_eq!(spec.specs[1].origin, (0, 1));
    let plain = |s: &fleet::spec::LaunchSpec| s.weight == Units::ONE && s.max_price.is_none();
    assert!(spec.specs.iter().all(plain));
}

#[test]
#[rustfmt::skip]
fn required_members() {
    check(&[
        ("no target", p(r#"{"TargetCapacitySpecification":null}"#), Code("MissingParameter")),
        ("no total", p(r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":null}}"#), Code("MissingParameter")),
        ("no configs", p(r#"{"LaunchTemplateConfigs":null}"#), Code("MissingParameter")),
        ("empty configs", p(r#"{"LaunchTemplateConfigs":[]}"#), Code("MissingParameter")),
        ("no template spec", p(r#"{"LaunchTemplateConfigs":[{"Overrides":[{"InstanceType":"t2.small"}]}]}"#), Code("MissingParameter")),
        ("template id and name", p(r#"{"LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateId":"lt-1","LaunchTemplateName":"web"},"Overrides":[{"InstanceType":"t2.small"}]}]}"#), Code("InvalidParameterCombination")),
        ("template neither", p(r#"{"LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"Version":"1"},"Overrides":[{"InstanceType":"t2.small"}]}]}"#), Code("MissingParameter")),
        ("template by name", p(r#"{"LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateName":"web","Version":"$Latest"},"Overrides":[{"InstanceType":"t2.small"}]}]}"#),
            Ok(|s| assert_eq!((s.launch_templates[0].name.as_str(), s.launch_templates[0].requested_version.as_str()), ("web", "$Latest")))),
        ("bad template version", p(r#"{"LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateId":"lt-1","Version":"latest"},"Overrides":[{"InstanceType":"t2.small"}]}]}"#), Code("InvalidLaunchTemplateId.VersionNotFound")),
    ]);
}

#[test]
#[rustfmt::skip]
fn enum_values() {
    check(&[
        ("bad type", p(r#"{"Type":"persistent"}"#), Code("InvalidParameterValue")),
        ("bad default type", p(r#"{"TargetCapacitySpecification":{"DefaultTargetCapacityType":"Spot"}}"#), Code("InvalidParameterValue")),
        ("capacity-block", p(r#"{"TargetCapacitySpecification":{"DefaultTargetCapacityType":"capacity-block"}}"#), Code("Unsupported")),
        ("reserved-capacity", p(r#"{"TargetCapacitySpecification":{"DefaultTargetCapacityType":"reserved-capacity"}}"#), Code("Unsupported")),
        ("bad unit type", p(r#"{"TargetCapacitySpecification":{"TargetCapacityUnitType":"cores"}}"#), Code("InvalidParameterValue")),
        ("bad spot strategy", p(r#"{"SpotOptions":{"AllocationStrategy":"cheapest"}}"#), Code("InvalidParameterValue")),
        ("bad od strategy", p(r#"{"OnDemandOptions":{"AllocationStrategy":"diversified"}}"#), Code("InvalidParameterValue")),
        ("bad behavior", p(r#"{"SpotOptions":{"InstanceInterruptionBehavior":"pause"}}"#), Code("InvalidParameterValue")),
        ("bad excess policy", p(r#"{"ExcessCapacityTerminationPolicy":"terminate"}"#), Code("InvalidParameterValue")),
        ("bad replacement", p(r#"{"SpotOptions":{"MaintenanceStrategies":{"CapacityRebalance":{"ReplacementStrategy":"relaunch"}}}}"#), Code("InvalidParameterValue")),
        ("bad usage strategy", p(r#"{"Type":"instant","OnDemandOptions":{"CapacityReservationOptions":{"UsageStrategy":"never"}}}"#), Code("InvalidParameterValue")),
        ("bad reservation type", p(r#"{"Type":"instant","ReservedCapacityOptions":{"ReservationTypes":["capacity-block"]}}"#), Code("InvalidParameterValue")),
        ("units without requirements", p(r#"{"TargetCapacitySpecification":{"TargetCapacityUnitType":"units"}}"#), Ok(|s| assert_eq!(s.target.unit_type, CapacityUnitType::Units))),
        ("no-termination", p(r#"{"ExcessCapacityTerminationPolicy":"no-termination"}"#), Ok(|s| assert_eq!(s.excess_capacity_policy, ExcessCapacityPolicy::NoTermination))),
    ]);
}

#[test]
fn strategy_spellings() {
    for (spelling, strategy) in [
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
    ] {
        let patch = format!(r#"{{"SpotOptions":{{"AllocationStrategy":"{spelling}"}}}}"#);
        let spec = validate_create(&patched(&patch), &env()).unwrap();
        assert_eq!(spec.spot.strategy, strategy, "{spelling}");
    }
    for (spelling, strategy) in [
        ("lowest-price", OnDemandAllocationStrategy::LowestPrice),
        ("lowestPrice", OnDemandAllocationStrategy::LowestPrice),
        ("prioritized", OnDemandAllocationStrategy::Prioritized),
    ] {
        let patch = format!(r#"{{"OnDemandOptions":{{"AllocationStrategy":"{spelling}"}}}}"#);
        let spec = validate_create(&patched(&patch), &env()).unwrap();
        assert_eq!(spec.on_demand.strategy, strategy, "{spelling}");
    }
}

fn split(s: &FleetSpec) -> (u32, u32, u32) {
    (s.target.total, s.target.on_demand, s.target.spot)
}

#[test]
#[rustfmt::skip]
fn capacity_and_split() {
    check(&[
        ("3 + od 1, default spot", p(r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":3,"OnDemandTargetCapacity":1}}"#), Ok(|s| assert_eq!(split(s), (3, 1, 2)))),
        ("3 + spot 1, default on-demand", p(r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":3,"SpotTargetCapacity":1,"DefaultTargetCapacityType":"on-demand"}}"#), Ok(|s| assert_eq!(split(s), (3, 2, 1)))),
        ("2 = od 1 + spot 1, default spot", p(r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":2,"OnDemandTargetCapacity":1,"SpotTargetCapacity":1}}"#), Ok(|s| assert_eq!(split(s), (2, 1, 1)))),
        ("2 = od 1 + spot 1, default on-demand", p(r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":2,"OnDemandTargetCapacity":1,"SpotTargetCapacity":1,"DefaultTargetCapacityType":"on-demand"}}"#), Ok(|s| assert_eq!(split(s), (2, 1, 1)))),
        // [U] assumption shared with moto: no default type means on-demand.
        ("default type omitted", p(r#"{"TargetCapacitySpecification":{"DefaultTargetCapacityType":null}}"#), Ok(|s| {
            assert_eq!(split(s), (2, 2, 0));
            assert_eq!(s.target.default_type, Lifecycle::OnDemand);
        })),
        ("od + spot > total", p(r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":2,"OnDemandTargetCapacity":2,"SpotTargetCapacity":1}}"#), Code("InvalidParameterValue")),
        ("negative total", p(r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":-1}}"#), Code("InvalidParameterValue")),
        ("negative od", p(r#"{"TargetCapacitySpecification":{"OnDemandTargetCapacity":-1}}"#), Code("InvalidParameterValue")),
        ("negative spot", p(r#"{"TargetCapacitySpecification":{"SpotTargetCapacity":-1}}"#), Code("InvalidParameterValue")),
        ("total 10,000", p(r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":10000}}"#), Ok(|s| assert_eq!(s.target.total, 10_000))),
        ("total 10,001", p(r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":10001}}"#), Code("InvalidParameterValue")),
        ("total 0", p(r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":0}}"#), Ok(|s| assert_eq!(split(s), (0, 0, 0)))),
    ]);
}

#[test]
#[rustfmt::skip]
fn interruption_behavior_and_fleet_type() {
    check(&[
        ("instant + stop", p(r#"{"Type":"instant","SpotOptions":{"InstanceInterruptionBehavior":"stop"}}"#), Code("InvalidParameterValue")),
        ("instant + hibernate", p(r#"{"Type":"instant","SpotOptions":{"InstanceInterruptionBehavior":"hibernate"}}"#), Code("InvalidParameterValue")),
        ("request + stop", p(r#"{"Type":"request","SpotOptions":{"InstanceInterruptionBehavior":"stop"}}"#), Code("InvalidParameterCombination")),
        ("request + hibernate", p(r#"{"Type":"request","SpotOptions":{"InstanceInterruptionBehavior":"hibernate"}}"#), Code("InvalidParameterCombination")),
        ("maintain + stop", p(r#"{"SpotOptions":{"InstanceInterruptionBehavior":"stop"}}"#), Ok(|s| assert_eq!(s.spot.interruption_behavior, InterruptionBehavior::Stop))),
        ("instant + terminate", p(r#"{"Type":"instant","SpotOptions":{"InstanceInterruptionBehavior":"terminate"}}"#), Ok(|s| assert_eq!(s.fleet_type, FleetType::Instant))),
        ("request", p(r#"{"Type":"request"}"#), Ok(|s| assert_eq!(s.fleet_type, FleetType::Request))),
    ]);
}

#[test]
#[rustfmt::skip]
fn pools_to_use_count() {
    check(&[
        ("with capacity-optimized", p(r#"{"SpotOptions":{"AllocationStrategy":"capacity-optimized","InstancePoolsToUseCount":2}}"#), Code("InvalidFleetConfig")),
        ("with diversified", p(r#"{"SpotOptions":{"AllocationStrategy":"diversified","InstancePoolsToUseCount":1}}"#), Code("InvalidFleetConfig")),
        ("zero", p(r#"{"SpotOptions":{"InstancePoolsToUseCount":0}}"#), Code("InvalidParameterValue")),
        ("three, kebab lowest-price", p(r#"{"SpotOptions":{"AllocationStrategy":"lowest-price","InstancePoolsToUseCount":3}}"#), Ok(|s| assert_eq!(s.spot.pools_to_use, 3))),
    ]);
}

/// How many catalogue zones offer `name`.
fn zones_offering(name: &str) -> usize {
    let instance_type = catalog()
        .instance_type_id(name)
        .expect("instance type in the catalogue");
    catalog()
        .zones()
        .filter(|(zone, _)| {
            catalog().is_offered(market::Pool {
                instance_type,
                zone: *zone,
            })
        })
        .count()
}

#[test]
#[rustfmt::skip]
fn pools_and_locations() {
    check(&[
        ("same type, same subnet", overrides(r#"[{"InstanceType":"t2.small","SubnetId":"subnet-0a1b2c3d4e5f60001"},{"InstanceType":"t2.small","SubnetId":"subnet-0a1b2c3d4e5f60001"}]"#), Code("InvalidFleetConfig")),
        ("two subnets in one zone", overrides(r#"[{"InstanceType":"t2.small","SubnetId":"subnet-0a1b2c3d4e5f60001"},{"InstanceType":"t2.small","SubnetId":"subnet-0a1b2c3d4e5f60003"}]"#), Code("InvalidFleetConfig")),
        ("zone name and subnet in one zone", overrides(r#"[{"InstanceType":"t2.small","AvailabilityZone":"us-east-1a"},{"InstanceType":"t2.small","SubnetId":"subnet-0a1b2c3d4e5f60001"}]"#), Code("InvalidFleetConfig")),
        ("no zone and a zone", overrides(r#"[{"InstanceType":"t2.small"},{"InstanceType":"t2.small","AvailabilityZone":"us-east-1a"}]"#), Code("InvalidFleetConfig")),
        ("comma subnets, one zone", overrides(r#"[{"InstanceType":"t2.small","SubnetId":"subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60003"}]"#), Code("InvalidFleetConfig")),
        ("comma subnets, two zones", overrides(r#"[{"InstanceType":"t2.small","SubnetId":"subnet-0a1b2c3d4e5f60001, subnet-0a1b2c3d4e5f60002"}]"#), Ok(|s| {
            assert_eq!(s.specs.len(), 2);
            assert_eq!(s.specs[1].subnet_id.as_deref(), Some("subnet-0a1b2c3d4e5f60002"));
        })),
        ("instant, comma subnets", with(r#"{"Type":"instant"}"#, r#"[{"InstanceType":"t2.small","SubnetId":"subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002"}]"#), Code("InvalidParameterValue")),
        ("duplicate across templates", p(r#"{"LaunchTemplateConfigs":[
            {"LaunchTemplateSpecification":{"LaunchTemplateId":"lt-1"},"Overrides":[{"InstanceType":"c5.large","AvailabilityZone":"us-east-1a"}]},
            {"LaunchTemplateSpecification":{"LaunchTemplateId":"lt-2"},"Overrides":[{"InstanceType":"c5.large","AvailabilityZone":"us-east-1a"}]}]}"#), Code("InvalidFleetConfig")),
        ("two templates", p(r#"{"LaunchTemplateConfigs":[
            {"LaunchTemplateSpecification":{"LaunchTemplateId":"lt-1"},"Overrides":[{"InstanceType":"c5.large","AvailabilityZone":"us-east-1a"}]},
            {"LaunchTemplateSpecification":{"LaunchTemplateId":"lt-2"},"Overrides":[{"InstanceType":"c5.large","AvailabilityZone":"us-east-1b"}]},
            {"LaunchTemplateSpecification":{"LaunchTemplateId":"lt-1"},"Overrides":[{"InstanceType":"c5.xlarge","AvailabilityZone":"us-east-1b"}]}]}"#), Ok(|s| {
            assert_eq!(s.launch_templates.len(), 2);
            let templates: Vec<usize> = s.specs.iter().map(|x| x.template).collect();
            assert_eq!(templates, [0, 1, 0]);
            assert_eq!(s.specs[2].origin, (2, 0));
        })),
        ("unknown subnet", overrides(r#"[{"InstanceType":"t2.small","SubnetId":"subnet-404"}]"#), Code("InvalidSubnetID.NotFound")),
        ("unknown zone name", overrides(r#"[{"InstanceType":"t2.small","AvailabilityZone":"us-east-1z"}]"#), Code("InvalidParameterValue")),
        ("unknown zone id", overrides(r#"[{"InstanceType":"t2.small","AvailabilityZoneId":"use1-az9"}]"#), Code("InvalidParameterValue")),
        ("zone name and id", overrides(r#"[{"InstanceType":"t2.small","AvailabilityZone":"us-east-1a","AvailabilityZoneId":"use1-az2"}]"#), Code("InvalidParameterCombination")),
        ("subnet in another zone", overrides(r#"[{"InstanceType":"t2.small","SubnetId":"subnet-0a1b2c3d4e5f60001","AvailabilityZone":"us-east-1b"}]"#), Code("InvalidParameterCombination")),
        ("zone id", overrides(r#"[{"InstanceType":"t2.small","AvailabilityZoneId":"use1-az4"}]"#), Ok(|s| assert_eq!(s.specs[0].pool.zone_name(), "us-east-1b"))),
        ("placement zone", overrides(r#"[{"InstanceType":"t2.small","Placement":{"AvailabilityZone":"us-east-1c","GroupName":"pg"}}]"#), Ok(|s| assert_eq!(s.specs[0].pool.zone_name(), "us-east-1c"))),
        ("no zone: every default zone offering the type", overrides(r#"[{"InstanceType":"c5.large"}]"#), Ok(|s| {
            assert_eq!(s.specs.len(), zones_offering("c5.large"));
            assert!(s.specs.iter().all(|x| x.pool.zone_name() != "us-east-1e"));
        })),
    ]);
}

#[test]
#[rustfmt::skip]
fn instance_types() {
    check(&[
        ("unknown type", overrides(r#"[{"InstanceType":"t2.smal","AvailabilityZone":"us-east-1a"}]"#), Code("InvalidFleetConfig")),
        ("type not offered in the zone", overrides(r#"[{"InstanceType":"c5.large","AvailabilityZone":"us-east-1e"}]"#), Code("InvalidFleetConfig")),
        ("type without Spot, Spot requested", overrides(r#"[{"InstanceType":"hpc7g.4xlarge"}]"#), Code("InvalidFleetConfig")),
        ("type without Spot, On-Demand request fleet", with(r#"{"Type":"request","TargetCapacitySpecification":{"DefaultTargetCapacityType":"on-demand"}}"#, r#"[{"InstanceType":"hpc7g.4xlarge"}]"#), Ok(|s| assert_eq!(s.specs.len(), zones_offering("hpc7g.4xlarge")))),
        ("no type anywhere", overrides(r#"[{"SubnetId":"subnet-0a1b2c3d4e5f60001"}]"#), Code("InvalidFleetConfig")),
        ("no overrides, template without type", overrides("[]"), Code("InvalidFleetConfig")),
        ("both type and requirements", overrides(r#"[{"InstanceType":"t2.small","InstanceRequirements":{"VCpuCount":{"Min":2},"MemoryMiB":{"Min":0}}}]"#), Code("InvalidParameterCombination")),
    ]);
}

#[test]
fn template_instance_type_fills_in() {
    let env = StaticEnvironment::new()
        .with_template("lt-1", "web", catalog().instance_type_id("t2.small"))
        .with_subnet("subnet-1", zone("us-east-1b"));
    let by_name = r#"{"LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateName":"web"}}]}"#;
    let spec = validate_create(&patched(by_name), &env).unwrap();
    assert_eq!(spec.specs.len(), zones_offering("t2.small"));
    assert!(spec.specs.iter().all(|s| s.pool.type_name() == "t2.small"));
    assert_eq!(spec.launch_templates[0].id, "lt-1");
    assert_eq!(spec.launch_templates[0].requested_version, "$Default");

    let by_id = r#"{"LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateId":"lt-1"},"Overrides":[{"SubnetId":"subnet-1","WeightedCapacity":2}]}]}"#;
    let spec = validate_create(&patched(by_id), &env).unwrap();
    assert_eq!(spec.specs[0].pool.to_string(), "t2.small/us-east-1b");
    assert_eq!(spec.specs[0].weight, Units::from_whole(2));

    for (patch, code) in [
        (
            r#"{"LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateId":"lt-9"}}]}"#,
            "InvalidLaunchTemplateId.NotFound",
        ),
        (
            r#"{"LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateName":"db"}}]}"#,
            "InvalidLaunchTemplateName.NotFoundException",
        ),
    ] {
        let error = validate_create(&patched(patch), &env).unwrap_err();
        assert_eq!(error.code.as_str(), code);
    }
}

#[test]
#[rustfmt::skip]
fn prices_weights_priorities() {
    check(&[
        ("max price not a number", overrides(r#"[{"InstanceType":"t2.small","MaxPrice":"cheap"}]"#), Code("InvalidParameterValue")),
        ("max price negative", overrides(r#"[{"InstanceType":"t2.small","MaxPrice":"-0.1"}]"#), Code("InvalidParameterValue")),
        ("max price below 0.001", overrides(r#"[{"InstanceType":"t2.small","MaxPrice":"0.0009"}]"#), Code("InvalidParameterValue")),
        ("max price 0.001", overrides(r#"[{"InstanceType":"t2.small","AvailabilityZone":"us-east-1a","MaxPrice":"0.001"}]"#), Ok(|s| assert_eq!(s.specs[0].max_price, Some(Price::from_micros(1_000))))),
        ("spot max total price bad", p(r#"{"SpotOptions":{"MaxTotalPrice":"$5"}}"#), Code("InvalidParameterValue")),
        ("od max total price bad", p(r#"{"OnDemandOptions":{"MaxTotalPrice":"five"}}"#), Code("InvalidParameterValue")),
        ("max total prices", p(r#"{"SpotOptions":{"MaxTotalPrice":"1.5"},"OnDemandOptions":{"MaxTotalPrice":"0.25"}}"#), Ok(|s| {
            assert_eq!(s.limits(Lifecycle::Spot).max_total_price, Some(Price::from_micros(1_500_000)));
            assert_eq!(s.limits(Lifecycle::OnDemand).max_total_price, Some(Price::from_micros(250_000)));
        })),
        ("weight 0", overrides(r#"[{"InstanceType":"t2.small","WeightedCapacity":0}]"#), Code("InvalidParameterValue")),
        ("weight negative", overrides(r#"[{"InstanceType":"t2.small","WeightedCapacity":-2}]"#), Code("InvalidParameterValue")),
        ("weight 2.5", overrides(r#"[{"InstanceType":"t2.small","AvailabilityZone":"us-east-1a","WeightedCapacity":2.5}]"#), Ok(|s| assert_eq!(s.specs[0].weight, Units::from_milli(2_500)))),
        ("priority negative", overrides(r#"[{"InstanceType":"t2.small","Priority":-1}]"#), Code("InvalidParameterValue")),
        ("priority 1.5", overrides(r#"[{"InstanceType":"t2.small","AvailabilityZone":"us-east-1a","Priority":1.5}]"#), Ok(|s| assert_eq!(s.specs[0].priority, Some(Priority(1_500))))),
    ]);
}

/// `n` overrides with the same requirements in zones a, b, c, ...
fn with_requirements(n: usize) -> String {
    const IR: &str = r#"{"VCpuCount":{"Min":2,"Max":4},"MemoryMiB":{"Min":4096,"Max":8192}}"#;
    let list: Vec<String> = (0..n)
        .map(|i| {
            let zone = char::from(b'a' + i as u8);
            format!(r#"{{"InstanceRequirements":{IR},"AvailabilityZone":"us-east-1{zone}"}}"#)
        })
        .collect();
    overrides(&format!("[{}]", list.join(",")))
}

#[test]
#[rustfmt::skip]
fn instance_requirements() {
    const IR: &str = r#"{"VCpuCount":{"Min":2,"Max":4},"MemoryMiB":{"Min":4096,"Max":8192}}"#;
    let vcpu = with_requirements(1).replacen('{', r#"{"TargetCapacitySpecification":{"TargetCapacityUnitType":"vcpu"},"#, 1);
    let memory = with_requirements(1).replacen('{', r#"{"TargetCapacitySpecification":{"TargetCapacityUnitType":"memory-mib"},"#, 1);
    check(&[
        ("four", with_requirements(4), Ok(|s| assert!(s.specs.len() > 4))),
        ("five", with_requirements(5), Code("InvalidParameterValue")),
        ("vcpu units", vcpu, Ok(|s| {
            assert_eq!(s.target.unit_type, CapacityUnitType::Vcpu);
            assert!(s.specs.iter().all(|x| x.weight == Units::from_whole(x.pool.instance_type_info().vcpus)));
            assert!(s.specs.iter().all(|x| x.pool.instance_type_info().spot_supported));
        })),
        ("memory units", memory, Ok(|s| {
            assert!(s.specs.iter().all(|x| x.weight.milli() == x.pool.instance_type_info().memory_mib * 1_000));
        })),
        ("unit type without requirements", p(r#"{"TargetCapacitySpecification":{"TargetCapacityUnitType":"vcpu"}}"#), Code("InvalidParameterValue")),
        ("nothing matches", overrides(r#"[{"InstanceRequirements":{"VCpuCount":{"Min":1},"MemoryMiB":{"Min":0},"AcceleratorCount":{"Min":1}}}]"#), Code("InvalidFleetConfig")),
        ("overlapping", overrides(&format!(r#"[{{"InstanceRequirements":{IR}}},{{"InstanceRequirements":{IR}}}]"#)), Code("InvalidParameterValue")),
        ("missing VCpuCount", overrides(r#"[{"InstanceRequirements":{"MemoryMiB":{"Min":0}}}]"#), Code("MissingParameter")),
    ]);
}

#[test]
#[rustfmt::skip]
fn tags() {
    check(&[
        ("fleet tags", p(r#"{"TagSpecifications":[{"ResourceType":"fleet","Tags":[{"Key":"team","Value":"a"}]}]}"#), Ok(|s| assert_eq!(s.fleet_tags[0].key, "team"))),
        ("instance tags on maintain", p(r#"{"TagSpecifications":[{"ResourceType":"instance","Tags":[{"Key":"k","Value":"v"}]}]}"#), Code("InvalidParameterValue")),
        ("instance tags on instant", p(r#"{"Type":"instant","TagSpecifications":[{"ResourceType":"instance","Tags":[{"Key":"k","Value":"v"}]}]}"#), Ok(|s| assert_eq!(s.instance_tags.len(), 1))),
        ("vpc tags", p(r#"{"TagSpecifications":[{"ResourceType":"vpc","Tags":[{"Key":"k","Value":"v"}]}]}"#), Code("InvalidParameterValue")),
        ("spot request tags, no Spot", p(r#"{"Type":"instant","TargetCapacitySpecification":{"DefaultTargetCapacityType":"on-demand"},"TagSpecifications":[{"ResourceType":"spot-instances-request","Tags":[{"Key":"k","Value":"v"}]}]}"#), Code("InvalidParameterValue")),
        ("spot request tags, Spot", p(r#"{"Type":"instant","TagSpecifications":[{"ResourceType":"spot-instances-request","Tags":[{"Key":"k","Value":"v"}]}]}"#), Ok(|s| assert!(s.fleet_tags.is_empty()))),
        ("aws: key", p(r#"{"TagSpecifications":[{"ResourceType":"fleet","Tags":[{"Key":"aws:ec2:fleet-id","Value":"x"}]}]}"#), Code("InvalidParameterValue")),
        ("no resource type", p(r#"{"TagSpecifications":[{"Tags":[{"Key":"k","Value":"v"}]}]}"#), Code("MissingParameter")),
    ]);
}

#[test]
#[rustfmt::skip]
fn capacity_rebalance() {
    check(&[
        ("on request", p(r#"{"Type":"request","SpotOptions":{"MaintenanceStrategies":{"CapacityRebalance":{"ReplacementStrategy":"launch"}}}}"#), Code("InvalidParameterCombination")),
        ("on instant", p(r#"{"Type":"instant","SpotOptions":{"MaintenanceStrategies":{}}}"#), Code("InvalidParameterCombination")),
        ("launch-before-terminate, no delay", p(r#"{"SpotOptions":{"MaintenanceStrategies":{"CapacityRebalance":{"ReplacementStrategy":"launch-before-terminate"}}}}"#), Code("InvalidParameterValue")),
        ("launch with delay", p(r#"{"SpotOptions":{"MaintenanceStrategies":{"CapacityRebalance":{"ReplacementStrategy":"launch","TerminationDelay":300}}}}"#), Code("InvalidParameterCombination")),
        ("delay without strategy", p(r#"{"SpotOptions":{"MaintenanceStrategies":{"CapacityRebalance":{"TerminationDelay":300}}}}"#), Code("InvalidParameterCombination")),
        ("delay 119", p(r#"{"SpotOptions":{"MaintenanceStrategies":{"CapacityRebalance":{"ReplacementStrategy":"launch-before-terminate","TerminationDelay":119}}}}"#), Code("InvalidParameterValue")),
        ("delay 7201", p(r#"{"SpotOptions":{"MaintenanceStrategies":{"CapacityRebalance":{"ReplacementStrategy":"launch-before-terminate","TerminationDelay":7201}}}}"#), Code("InvalidParameterValue")),
        ("delay 600", p(r#"{"SpotOptions":{"MaintenanceStrategies":{"CapacityRebalance":{"ReplacementStrategy":"launch-before-terminate","TerminationDelay":600}}}}"#), Ok(|s| assert_eq!(
            s.spot.capacity_rebalance,
            Some(ReplacementStrategy::LaunchBeforeTerminate { termination_delay: SimDuration::from_secs(600) })
        ))),
        ("launch", p(r#"{"SpotOptions":{"MaintenanceStrategies":{"CapacityRebalance":{"ReplacementStrategy":"launch"}}}}"#), Ok(|s| assert_eq!(s.spot.capacity_rebalance, Some(ReplacementStrategy::Launch)))),
    ]);
}

#[test]
#[rustfmt::skip]
fn instant_only_members() {
    check(&[
        ("spot single type on maintain", p(r#"{"SpotOptions":{"SingleInstanceType":true}}"#), Code("InvalidParameterCombination")),
        ("od single zone on request", p(r#"{"Type":"request","OnDemandOptions":{"SingleAvailabilityZone":true}}"#), Code("InvalidParameterCombination")),
        ("spot min target on maintain", p(r#"{"SpotOptions":{"MinTargetCapacity":1}}"#), Code("InvalidParameterCombination")),
        ("single type false on maintain", p(r#"{"SpotOptions":{"SingleInstanceType":false}}"#), Ok(|s| assert!(!s.spot.limits.single_instance_type))),
        ("image id on maintain", overrides(r#"[{"InstanceType":"t2.small","ImageId":"ami-0123456789abcdef0"}]"#), Code("InvalidParameterCombination")),
        ("block devices on maintain", overrides(r#"[{"InstanceType":"t2.small","BlockDeviceMappings":[{"DeviceName":"/dev/xvda","Ebs":{"VolumeSize":8}}]}]"#), Code("InvalidParameterCombination")),
        ("reserved capacity on maintain", p(r#"{"ReservedCapacityOptions":{"ReservationTypes":["interruptible-capacity-reservation"]}}"#), Code("InvalidParameterCombination")),
        ("capacity reservations on maintain", p(r#"{"OnDemandOptions":{"CapacityReservationOptions":{"UsageStrategy":"use-capacity-reservations-first"}}}"#), Code("InvalidParameterCombination")),
        ("min target over 1000", p(r#"{"Type":"instant","TargetCapacitySpecification":{"TotalTargetCapacity":2000},"SpotOptions":{"MinTargetCapacity":1001,"SingleInstanceType":true}}"#), Code("InvalidParameterValue")),
        ("min target without single", p(r#"{"Type":"instant","SpotOptions":{"MinTargetCapacity":1}}"#), Code("InvalidParameterValue")),
        ("min target over spot target", p(r#"{"Type":"instant","SpotOptions":{"MinTargetCapacity":3,"SingleAvailabilityZone":true}}"#), Code("InvalidParameterValue")),
        ("od min target over od target", p(r#"{"Type":"instant","OnDemandOptions":{"MinTargetCapacity":1,"SingleInstanceType":true}}"#), Code("InvalidParameterValue")),
        ("min target ok", p(r#"{"Type":"instant","SpotOptions":{"MinTargetCapacity":2,"SingleAvailabilityZone":true}}"#), Ok(|s| {
            assert_eq!(s.spot.limits.min_target_capacity, Some(2));
            assert!(s.spot.limits.single_availability_zone);
        })),
        ("image id on instant", with(r#"{"Type":"instant"}"#, r#"[{"InstanceType":"t2.small","AvailabilityZone":"us-east-1a","ImageId":"ami-0123456789abcdef0"}]"#), Ok(|s| assert_eq!(s.specs[0].image_id.as_deref(), Some("ami-0123456789abcdef0")))),
        ("reserved capacity on instant", p(r#"{"Type":"instant","ReservedCapacityOptions":{"ReservationTypes":["interruptible-capacity-reservation"]}}"#), Ok(|_| {})),
    ]);
}

#[test]
#[rustfmt::skip]
fn fleet_level_members() {
    check(&[
        ("replace unhealthy on request", p(r#"{"Type":"request","ReplaceUnhealthyInstances":true}"#), Code("InvalidParameterCombination")),
        ("replace unhealthy on maintain", p(r#"{"ReplaceUnhealthyInstances":true}"#), Ok(|s| assert!(s.replace_unhealthy_instances))),
        ("excess policy on instant", p(r#"{"Type":"instant","ExcessCapacityTerminationPolicy":"termination"}"#), Code("InvalidParameterCombination")),
        ("valid from not a time", p(r#"{"ValidFrom":"yesterday"}"#), Code("InvalidParameterValue")),
        ("valid until not a time", p(r#"{"ValidUntil":"2024-13-01T00:00:00Z"}"#), Code("InvalidParameterValue")),
        ("valid until = valid from", p(r#"{"ValidFrom":"2024-05-01T10:00:00Z","ValidUntil":"2024-05-01T10:00:00Z"}"#), Code("InvalidParameterValue")),
        ("valid window", p(r#"{"ValidFrom":"2024-05-01T10:00:00Z","ValidUntil":"2024-05-02T10:00:00Z","TerminateInstancesWithExpiration":true}"#), Ok(|s| {
            assert_eq!(s.valid_from, Some(SimTime::parse("2024-05-01T10:00:00Z").unwrap()));
            assert!(s.valid_until > s.valid_from && s.terminate_instances_with_expiration);
        })),
        ("client token too long", p(&format!(r#"{{"ClientToken":"{}"}}"#, "x".repeat(65))), Code("InvalidParameterValue")),
        ("client token and context", p(r#"{"ClientToken":"abc","Context":"c"}"#), Ok(|s| assert_eq!((s.client_token.as_deref(), s.context.as_deref()), (Some("abc"), Some("c"))))),
    ]);
}

#[test]
fn override_quota() {
    let list = |n: usize, fleet_type: &str| {
        let overrides: Vec<Value> = catalog()
            .pools()
            .iter()
            .take(n)
            .map(|pool| json!({"InstanceType": pool.type_name(), "AvailabilityZone": pool.zone_name()}))
            .collect();
        let mut request: Value = serde_json::from_str(BASE).unwrap();
        request["Type"] = json!(fleet_type);
        request["TargetCapacitySpecification"]["DefaultTargetCapacityType"] = json!("on-demand");
        request["LaunchTemplateConfigs"][0]["Overrides"] = Value::Array(overrides);
        serde_json::from_value::<CreateFleetRequest>(request).unwrap()
    };
    check_request(
        "300 overrides",
        &list(300, "maintain"),
        &Ok(|s| assert_eq!(s.specs.len(), 300)),
    );
    check_request(
        "301 overrides",
        &list(301, "maintain"),
        &Code("InvalidParameterValue"),
    );
    check_request(
        "301 overrides, instant",
        &list(301, "instant"),
        &Ok(|s| assert_eq!(s.specs.len(), 301)),
    );
}

fn assert_reference_pools(spec: &FleetSpec) {
    let pools: Vec<(String, Units)> = spec
        .specs
        .iter()
        .map(|s| (s.pool.to_string(), s.weight))
        .collect();
    let expected: Vec<(String, Units)> = [
        ("t2.small/us-east-1a", 1),
        ("t2.small/us-east-1b", 1),
        ("c5.large/us-east-1a", 2),
        ("c5.large/us-east-1b", 2),
        ("c5.xlarge/us-east-1a", 4),
        ("c5.xlarge/us-east-1b", 4),
    ]
    .into_iter()
    .map(|(pool, weight)| (pool.to_owned(), Units::from_whole(weight)))
    .collect();
    assert_eq!(pools, expected);
    assert_eq!(spec.spot.strategy, SpotAllocationStrategy::LowestPrice);
    assert_eq!(spec.spot.pools_to_use, 2);
    assert_eq!(
        spec.on_demand.strategy,
        OnDemandAllocationStrategy::Prioritized
    );
    assert_eq!(split(spec), (4, 0, 4));
    assert!(spec.replace_unhealthy_instances);
    assert_eq!(spec.fleet_tags[0].key, "ReInvent-EC2SpotTestDev");
}

#[test]
fn reference_fixture_validates_unchanged() {
    let request: CreateFleetRequest = serde_json::from_str(FIXTURE).unwrap();
    let env = StaticEnvironment::new()
        .with_template("lt-0a1b2c3d4e5f67890", "test-dev", None)
        .with_subnet("subnet-0a1b2c3d4e5f60001", zone("us-east-1a"))
        .with_subnet("subnet-0a1b2c3d4e5f60002", zone("us-east-1b"));
    let spec = validate_create(&request, &env).unwrap();
    assert_reference_pools(&spec);
    assert_eq!(
        spec.specs[5].subnet_id.as_deref(),
        Some("subnet-0a1b2c3d4e5f60002")
    );
    assert_eq!(spec.request, request);
}

#[test]
fn repository_example_validates_in_the_simulator() {
    let request: CreateFleetRequest = serde_json::from_str(EXAMPLE).unwrap();
    let spec = validate_create(&request, &StaticEnvironment::simulator()).unwrap();
    assert_reference_pools(&spec);
    assert!(spec.specs.iter().all(|s| s.subnet_id.is_none()));
}

/// `text` parsed as `T` and serialized again equals `text` as JSON.
fn round_trips<T: serde::de::DeserializeOwned + serde::Serialize>(text: &str) -> bool {
    let original: Value = serde_json::from_str(text).unwrap();
    let parsed: T = serde_json::from_str(text).unwrap();
    serde_json::to_value(parsed).unwrap() == original
}

#[test]
fn wire_shapes_round_trip_and_reject_unknown_keys() {
    use fleet::wire::{
        DeleteFleetsRequest, DescribeFleetHistoryRequest, DescribeFleetInstancesRequest,
        DescribeFleetsRequest, InstanceRequirementsRequest,
    };
    assert!(round_trips::<CreateFleetRequest>(FIXTURE));
    assert!(round_trips::<CreateFleetRequest>(EXAMPLE));
    assert!(round_trips::<CreateFleetRequest>(BASE));
    assert!(round_trips::<InstanceRequirementsRequest>(
        r#"{"VCpuCount":{"Min":2},"MemoryMiB":{"Min":1024},"MemoryGiBPerVCpu":{"Max":4.0},"TotalLocalStorageGB":{"Min":1.0},"AcceleratorTotalMemoryMiB":{"Max":0},"CpuManufacturers":["intel"],"BaselinePerformanceFactors":{"Cpu":{"References":[{"InstanceFamily":"c6i"}]}}}"#
    ));
    assert!(round_trips::<ModifyFleetRequest>(
        r#"{"FleetId":"fleet-1","TargetCapacitySpecification":{"TotalTargetCapacity":0},"ExcessCapacityTerminationPolicy":"termination"}"#
    ));
    assert!(round_trips::<DeleteFleetsRequest>(
        r#"{"FleetIds":["fleet-1"],"TerminateInstances":true}"#
    ));
    assert!(round_trips::<DescribeFleetsRequest>(
        r#"{"FleetIds":["fleet-1"],"Filters":[{"Name":"fleet-state","Values":["active"]}],"MaxResults":10}"#
    ));
    assert!(round_trips::<DescribeFleetInstancesRequest>(
        r#"{"FleetId":"fleet-1","Filters":[{"Name":"instance-type","Values":["t2.small"]}]}"#
    ));
    assert!(round_trips::<DescribeFleetHistoryRequest>(
        r#"{"FleetId":"fleet-1","StartTime":"2019-11-01","EventType":"instance-change"}"#
    ));

    let typo = BASE.replace("TotalTargetCapacity", "TotalTargetCapcity");
    assert!(serde_json::from_str::<CreateFleetRequest>(&typo).is_err());
    let nested = BASE.replace(
        r#""InstanceType": "t2.small","#,
        r#""InstanceTypes": "t2.small","#,
    );
    assert!(serde_json::from_str::<CreateFleetRequest>(&nested).is_err());
    assert!(serde_json::from_str::<DeleteFleetsRequest>(r#"{"FleetId":["fleet-1"]}"#).is_err());
}

const FLEET_ID: &str = "fleet-598fb973-87b7-422d-be4d-6b0809bfff0a";

fn modify(current: &FleetSpec, body: Value) -> Result<FleetSpec, fleet::FleetError> {
    let request: ModifyFleetRequest = serde_json::from_value(body).unwrap();
    validate_modify(&request, current, &env())
}

fn total(n: i32) -> Value {
    json!({"FleetId": FLEET_ID, "TargetCapacitySpecification": {"TotalTargetCapacity": n}})
}

#[test]
fn modify_fleet() {
    let create =
        r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":3,"OnDemandTargetCapacity":1}}"#;
    let current = validate_create(&patched(create), &env()).unwrap();

    assert_eq!(split(&modify(&current, total(5)).unwrap()), (5, 1, 4));
    let idle = modify(&current, total(0)).unwrap();
    assert_eq!(split(&idle), (0, 0, 0));
    assert_eq!(idle.specs, current.specs);
    let explicit = json!({"FleetId": FLEET_ID, "TargetCapacitySpecification": {
        "TotalTargetCapacity": 4, "SpotTargetCapacity": 1, "DefaultTargetCapacityType": "on-demand"}});
    assert_eq!(split(&modify(&current, explicit).unwrap()), (4, 3, 1));
    let policy = json!({"FleetId": FLEET_ID, "ExcessCapacityTerminationPolicy": "no-termination"});
    let next = modify(&current, policy).unwrap();
    assert_eq!(
        next.excess_capacity_policy,
        ExcessCapacityPolicy::NoTermination
    );
    assert_eq!(next.target, current.target);
    let configs = json!({"FleetId": FLEET_ID, "LaunchTemplateConfigs": [{
        "LaunchTemplateSpecification": {"LaunchTemplateId": "lt-2", "Version": "3"},
        "Overrides": [{"InstanceType": "c5.large", "AvailabilityZone": "us-east-1c"}]}]});
    let next = modify(&current, configs).unwrap();
    assert_eq!(next.specs.len(), 1);
    let template = &next.launch_templates[0];
    assert_eq!((template.id.as_str(), template.version), ("lt-2", 3));
    assert_eq!(
        next.request, current.request,
        "the CreateFleet request is kept"
    );
}

#[test]
#[rustfmt::skip]
fn modify_fleet_errors() {
    let create = r#"{"TargetCapacitySpecification":{"TotalTargetCapacity":3,"OnDemandTargetCapacity":1}}"#;
    let current = validate_create(&patched(create), &env()).unwrap();
    for (name, body, code) in [
        ("no fleet id", json!({"TargetCapacitySpecification": {"TotalTargetCapacity": 1}}), "MissingParameter"),
        ("malformed fleet id", json!({"FleetId": "fleet-1"}), "InvalidFleetId.Malformed"),
        ("no total", json!({"FleetId": FLEET_ID, "TargetCapacitySpecification": {"SpotTargetCapacity": 1}}), "MissingParameter"),
        ("od + spot > total", json!({"FleetId": FLEET_ID, "TargetCapacitySpecification": {"TotalTargetCapacity": 2, "OnDemandTargetCapacity": 2, "SpotTargetCapacity": 1}}), "InvalidParameterValue"),
        ("total over 10,000", total(10_001), "InvalidParameterValue"),
        ("negative total", total(-1), "InvalidParameterValue"),
        ("bad policy", json!({"FleetId": FLEET_ID, "ExcessCapacityTerminationPolicy": "keep"}), "InvalidParameterValue"),
        ("unit type change", json!({"FleetId": FLEET_ID, "TargetCapacitySpecification": {"TotalTargetCapacity": 2, "TargetCapacityUnitType": "vcpu"}}), "InvalidParameterValue"),
        ("duplicate pools", json!({"FleetId": FLEET_ID, "LaunchTemplateConfigs": [{"LaunchTemplateSpecification": {"LaunchTemplateId": "lt-2"},
            "Overrides": [{"InstanceType": "c5.large", "AvailabilityZone": "us-east-1c"}, {"InstanceType": "c5.large", "AvailabilityZone": "us-east-1c"}]}]}), "InvalidFleetConfig"),
    ] {
        let error = modify(&current, body).unwrap_err();
        assert_eq!(error.code.as_str(), code, "{name}: {}", error.message);
    }
}

#[test]
fn modify_to_spot_checks_spot_support() {
    let on_demand = with(
        r#"{"TargetCapacitySpecification":{"DefaultTargetCapacityType":"on-demand"}}"#,
        r#"[{"InstanceType":"hpc7g.4xlarge"}]"#,
    );
    let current = validate_create(&patched(&on_demand), &env()).unwrap();
    let spot = json!({"FleetId": FLEET_ID, "TargetCapacitySpecification": {"TotalTargetCapacity": 2, "SpotTargetCapacity": 1}});
    let error = modify(&current, spot).unwrap_err();
    assert_eq!(error.code.as_str(), "InvalidFleetConfig");
}

#[test]
fn fleet_ids() {
    assert!(parse_fleet_id(FLEET_ID).is_ok());
    for bad in [
        "fleet-598FB973-87b7-422d-be4d-6b0809bfff0a",
        "fleet-598fb973-87b7-422d-be4d-6b0809bfff0",
        "fleet-598fb97387b7-422d-be4d-6b0809bfff0a0",
        "sfr-598fb973-87b7-422d-be4d-6b0809bfff0a",
        "fleet-598fb973-87b7-422d-be4d-6b0809bfff0g",
        "",
    ] {
        let error = parse_fleet_id(bad).unwrap_err();
        assert_eq!(error.code.as_str(), "InvalidFleetId.Malformed", "{bad}");
    }
}
