//! The fleet API's contracts as AWS documents them, through a world: ClientToken
//! idempotency, DryRun, DescribeFleets (instant fleets only by id, filters, pagination),
//! DescribeFleetInstances and DescribeFleetHistory, DeleteFleets' per-fleet outcomes.

#![allow(clippy::unwrap_used)] // A panic in a test helper is a failed test with a message.

use fleet::wire::{
    CreateFleetRequest, DeleteFleetsRequest, DescribeFleetHistoryRequest,
    DescribeFleetInstancesRequest, DescribeFleetsRequest, Filter,
};
use fleet::{ErrorCode, FleetId};
use simtime::SimDuration;
use world::{World, WorldConfig, WorldError};

const REFERENCE: &str = include_str!("../../../examples/create_fleet.json");

fn request(patch: serde_json::Value) -> CreateFleetRequest {
    let mut json: serde_json::Value =
        serde_json::from_str(REFERENCE).expect("patching the reference fleet request");
    let object = json
        .as_object_mut()
        .expect("patching the reference fleet request");
    for (key, value) in patch
        .as_object()
        .expect("patching the reference fleet request")
    {
        if value.is_null() {
            object.remove(key);
        } else {
            object.insert(key.clone(), value.clone());
        }
    }
    serde_json::from_value(json).expect("patching the reference fleet request")
}

/// The reference fleet as an instant fleet, without the maintain-only members.
fn instant() -> serde_json::Value {
    serde_json::json!({
        "Type": "instant",
        "ExcessCapacityTerminationPolicy": null,
        "ReplaceUnhealthyInstances": null
    })
}

fn world() -> World {
    let mut config = WorldConfig::with_seed(3);
    config.market.interruption_scale = 0.0;
    World::new(config)
}

fn code(error: WorldError) -> ErrorCode {
    match error {
        WorldError::Api(e) => e.code,
        other => panic!("not an API error: {other}"),
    }
}

#[test]
fn client_token_makes_create_fleet_idempotent() {
    let mut w = world();
    let first = w
        .create_fleet(&request(serde_json::json!({"ClientToken": "t-1"})))
        .unwrap();
    let again = w
        .create_fleet(&request(serde_json::json!({"ClientToken": "t-1"})))
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(w.engine().fleets().count(), 1, "nothing launched twice");
    let changed = w.create_fleet(&request(serde_json::json!({
        "ClientToken": "t-1",
        "TargetCapacitySpecification": {"TotalTargetCapacity": 8, "DefaultTargetCapacityType": "spot"}
    })));
    assert_eq!(
        code(changed.unwrap_err()),
        ErrorCode::IdempotentParameterMismatch
    );
}

#[test]
fn dry_run_answers_412_and_creates_nothing() {
    let mut w = world();
    let error = w
        .create_fleet(&request(serde_json::json!({"DryRun": true})))
        .unwrap_err();
    assert_eq!(code(error.clone()), ErrorCode::DryRunOperation);
    assert_eq!(ErrorCode::DryRunOperation.http_status(), 412);
    assert_eq!(w.engine().fleets().count(), 0);
    // An invalid request fails validation before the DryRun answer.
    let invalid = w.create_fleet(&request(serde_json::json!({
        "DryRun": true, "Type": "instant",
        "SpotOptions": {"InstanceInterruptionBehavior": "stop"}
    })));
    assert_eq!(code(invalid.unwrap_err()), ErrorCode::InvalidParameterValue);
}

#[test]
fn describe_fleets_filters_pages_and_lists_instant_fleets_only_by_id() {
    let mut w = world();
    let maintain: Vec<FleetId> = (0..3)
        .map(|_| w.create_fleet(&request(serde_json::json!({}))).unwrap())
        .collect();
    let instant = w.create_fleet(&request(instant())).unwrap();
    w.advance(SimDuration::from_mins(1)).unwrap();
    let all = w
        .engine()
        .describe_fleets(&DescribeFleetsRequest::default(), w.now())
        .unwrap();
    assert_eq!(all.fleets.len(), 3, "instant fleets are listed only by id");
    let by_id = w
        .engine()
        .describe_fleets(
            &DescribeFleetsRequest {
                fleet_ids: Some(vec![instant.to_string()]),
                ..Default::default()
            },
            w.now(),
        )
        .unwrap();
    assert_eq!(by_id.fleets[0].fleet_type, "instant");
    assert!(
        by_id.fleets[0]
            .instances
            .as_ref()
            .is_some_and(|i| !i.is_empty())
    );

    // Pagination: 2 + 1.
    let page = |token: Option<String>| {
        w.engine()
            .describe_fleets(
                &DescribeFleetsRequest {
                    max_results: Some(2),
                    next_token: token,
                    ..Default::default()
                },
                w.now(),
            )
            .unwrap()
    };
    let first = page(None);
    assert_eq!(first.fleets.len(), 2);
    let second = page(first.next_token.clone());
    assert_eq!(second.fleets.len(), 1);
    assert!(second.next_token.is_none());

    // Filters, with AWS's and the hyphenated spellings.
    w.delete_fleets(&DeleteFleetsRequest {
        fleet_ids: Some(vec![maintain[0].to_string()]),
        terminate_instances: Some(false),
        ..Default::default()
    })
    .unwrap();
    for value in ["deleted_running", "deleted-running"] {
        let filtered = w
            .engine()
            .describe_fleets(
                &DescribeFleetsRequest {
                    filters: Some(vec![Filter {
                        name: Some("fleet-state".into()),
                        values: Some(vec![value.into()]),
                    }]),
                    ..Default::default()
                },
                w.now(),
            )
            .unwrap();
        assert_eq!(filtered.fleets.len(), 1, "{value}");
    }
    let bad_filter = w.engine().describe_fleets(
        &DescribeFleetsRequest {
            filters: Some(vec![Filter {
                name: Some("colour".into()),
                values: Some(vec!["blue".into()]),
            }]),
            ..Default::default()
        },
        w.now(),
    );
    assert_eq!(
        bad_filter.unwrap_err().code,
        ErrorCode::InvalidParameterValue
    );
    let unknown = w.engine().describe_fleets(
        &DescribeFleetsRequest {
            fleet_ids: Some(vec!["fleet-00000000-0000-4000-8000-000000000000".into()]),
            ..Default::default()
        },
        w.now(),
    );
    assert_eq!(unknown.unwrap_err().code, ErrorCode::InvalidFleetIdNotFound);
    let malformed = w.engine().describe_fleets(
        &DescribeFleetsRequest {
            fleet_ids: Some(vec!["fleet-nope".into()]),
            ..Default::default()
        },
        w.now(),
    );
    assert_eq!(
        malformed.unwrap_err().code,
        ErrorCode::InvalidFleetIdMalformed
    );
}

#[test]
fn fulfilled_capacity_is_a_double_and_lowest_price_echoes_camel_case() {
    let mut w = world();
    let id = w.create_fleet(&request(serde_json::json!({}))).unwrap();
    w.advance(SimDuration::from_mins(1)).unwrap();
    let output = w
        .engine()
        .describe_fleets(
            &DescribeFleetsRequest {
                fleet_ids: Some(vec![id.to_string()]),
                ..Default::default()
            },
            w.now(),
        )
        .unwrap();
    let json = serde_json::to_value(&output).unwrap();
    let fleet = &json["Fleets"][0];
    assert_eq!(fleet["ActivityStatus"], "fulfilled");
    assert_eq!(fleet["FulfilledCapacity"].as_f64(), Some(4.0));
    assert!(fleet["FulfilledCapacity"].is_f64());
    assert_eq!(fleet["SpotOptions"]["AllocationStrategy"], "lowestPrice");
    assert_eq!(fleet["SpotOptions"]["InstancePoolsToUseCount"], 2);
    assert_eq!(
        fleet["TargetCapacitySpecification"]["SpotTargetCapacity"],
        4
    );
    assert_eq!(fleet["Tags"][0]["Key"], "ReInvent-EC2SpotTestDev");
}

#[test]
fn fleet_instances_and_history_follow_aws() {
    let mut w = world();
    let id = w.create_fleet(&request(serde_json::json!({}))).unwrap();
    let instant = w.create_fleet(&request(instant())).unwrap();
    w.advance(SimDuration::from_mins(1)).unwrap();
    let instances = w
        .engine()
        .describe_fleet_instances(&DescribeFleetInstancesRequest {
            fleet_id: Some(id.to_string()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(instances.active_instances.len(), 2 + 2);
    assert!(instances.active_instances.iter().all(|i| {
        i.spot_instance_request_id
            .as_deref()
            .is_some_and(|r| r.starts_with("sir-"))
    }));
    let unsupported = w
        .engine()
        .describe_fleet_instances(&DescribeFleetInstancesRequest {
            fleet_id: Some(instant.to_string()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(unsupported.code, ErrorCode::Unsupported);

    let history = |event_type: Option<&str>| {
        w.engine().describe_fleet_history(
            &DescribeFleetHistoryRequest {
                fleet_id: Some(id.to_string()),
                start_time: Some("2019-11-01".into()),
                event_type: event_type.map(Into::into),
                ..Default::default()
            },
            w.now(),
        )
    };
    let all = history(None).unwrap();
    assert!(all.last_evaluated_time.is_some());
    let launched = history(Some("instance-change")).unwrap();
    assert_eq!(launched.history_records.len(), 4);
    assert!(
        launched.history_records[0]
            .event_information
            .event_description
            .contains("\"instanceType\":\"t2.small\"")
    );
    let fleet_changes = history(Some("fleet-change")).unwrap();
    let sub_types: Vec<&str> = fleet_changes
        .history_records
        .iter()
        .map(|r| r.event_information.event_sub_type)
        .collect();
    assert_eq!(sub_types, ["submitted", "active"]);
    assert_eq!(
        history(Some("bogus")).unwrap_err().code,
        ErrorCode::InvalidParameterValue
    );
}

#[test]
fn delete_fleets_reports_each_fleet() {
    let mut w = world();
    let maintain = w.create_fleet(&request(serde_json::json!({}))).unwrap();
    let instant = w.create_fleet(&request(instant())).unwrap();
    let output = w
        .delete_fleets(&DeleteFleetsRequest {
            fleet_ids: Some(vec![
                maintain.to_string(),
                instant.to_string(),
                "fleet-00000000-0000-4000-8000-000000000000".into(),
                "fleet-bad".into(),
            ]),
            terminate_instances: Some(false),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(output.successful_fleet_deletions.len(), 1);
    assert_eq!(
        output.successful_fleet_deletions[0].current_fleet_state,
        fleet::FleetState::DeletedRunning
    );
    let codes: Vec<&str> = output
        .unsuccessful_fleet_deletions
        .iter()
        .map(|f| f.error.code)
        .collect();
    assert_eq!(
        codes,
        [
            "NoTerminateInstancesNotSupported",
            "fleetIdDoesNotExist",
            "fleetIdMalformed"
        ]
    );
    let missing = w.delete_fleets(&DeleteFleetsRequest {
        fleet_ids: Some(vec![maintain.to_string()]),
        ..Default::default()
    });
    assert_eq!(code(missing.unwrap_err()), ErrorCode::MissingParameter);
}

#[test]
fn unknown_instances_are_refused_with_ec2s_code() {
    let mut w = world();
    let unknown = fleet::InstanceId::new("i-0123456789abcdef0");
    let error = w
        .terminate_instances(std::slice::from_ref(&unknown))
        .unwrap_err();
    assert_eq!(code(error), ErrorCode::InvalidInstanceIdNotFound);
    assert_eq!(
        ErrorCode::InvalidInstanceIdNotFound.as_str(),
        "InvalidInstanceID.NotFound"
    );
    let error = w
        .inject(world::Injection::Interrupt {
            instances: vec![unknown],
        })
        .unwrap_err();
    assert_eq!(code(error), ErrorCode::InvalidInstanceIdNotFound);
}
