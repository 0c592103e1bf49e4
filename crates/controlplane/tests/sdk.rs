//! The local cloud driven by the official Rust SDK (aws-sdk-ec2), its endpoint set to a
//! control plane started on 127.0.0.1:0 in a temporary state directory. Virtual time
//! runs 600 times faster than real time, so a 2-minute notice takes 0.2 s.

mod support;

use std::time::Duration;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    DefaultTargetCapacityType, Filter, FleetLaunchTemplateConfigRequest,
    FleetLaunchTemplateOverridesRequest, FleetLaunchTemplateSpecificationRequest, FleetType,
    RequestLaunchTemplateData, SpotAllocationStrategy, SpotOptionsRequest,
    TargetCapacitySpecificationRequest,
};
use base64::Engine as _;
use support::Cloud;

const SCALE: u32 = 600;

async fn cloud(auth: Option<(&str, &str)>) -> Cloud {
    Cloud::start(SCALE, 11, |config| {
        config.require_auth = auth.map(|(key, secret)| aws_wire::sigv4::Credentials {
            access_key_id: key.to_owned(),
            secret_access_key: secret.to_owned(),
        });
    })
    .await
}

fn client(cloud: &Cloud, key: &str, secret: &str) -> Client {
    cloud.client(key, secret)
}

/// Polls `check` every 20 ms for up to 20 s of real time.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1_000 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn fleet_status(client: &Client, id: &str) -> (String, f64, String) {
    let out = client
        .describe_fleets()
        .fleet_ids(id)
        .send()
        .await
        .expect("describe fleets");
    let fleet = &out.fleets()[0];
    (
        fleet
            .activity_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        fleet.fulfilled_capacity().unwrap_or_default(),
        fleet
            .fleet_state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
    )
}

/// `(id, type, zone)` of the instances matching both filters.
async fn running_instances(
    client: &Client,
    a: &Filter,
    b: &Filter,
) -> Vec<(String, String, String)> {
    let out = client
        .describe_instances()
        .filters(a.clone())
        .filters(b.clone())
        .send()
        .await
        .expect("instances");
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| {
            (
                i.instance_id().unwrap_or_default().to_owned(),
                i.instance_type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                i.placement()
                    .and_then(|p| p.availability_zone())
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_walkthrough_through_the_rust_sdk() {
    let cloud = cloud(None).await;
    let ec2 = client(&cloud, "AKIDEXAMPLE", "secret");

    let zones = ec2
        .describe_availability_zones()
        .send()
        .await
        .expect("zones");
    assert_eq!(zones.availability_zones().len(), 6);
    let t2 = ec2
        .describe_instance_types()
        .instance_types(aws_sdk_ec2::types::InstanceType::T2Small)
        .send()
        .await
        .expect("types");
    let info = &t2.instance_types()[0];
    assert_eq!(info.v_cpu_info().and_then(|v| v.default_v_cpus()), Some(1));
    let prices = ec2
        .describe_spot_price_history()
        .instance_types(aws_sdk_ec2::types::InstanceType::T2Small)
        .availability_zone("us-east-1a")
        .send()
        .await
        .expect("prices");
    assert!(!prices.spot_price_history().is_empty());
    for price in prices.spot_price_history() {
        let dollars: f64 = price.spot_price().expect("price").parse().expect("number");
        assert!(dollars > 0.0 && dollars <= 0.023, "{dollars}");
    }

    // The stack: a VPC, two subnets in two zones, a launch template.
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect("vpc");
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_owned();
    let mut subnets = Vec::new();
    for (cidr, zone) in [("10.0.1.0/24", "us-east-1a"), ("10.0.2.0/24", "us-east-1b")] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(cidr)
            .availability_zone(zone)
            .send()
            .await
            .expect("subnet");
        subnets.push(
            subnet
                .subnet()
                .and_then(|s| s.subnet_id())
                .expect("subnet id")
                .to_owned(),
        );
    }
    let script = "#!/bin/sh\necho \"booted $(cat /proc/self/environ | tr '\\0' '\\n' | grep -c SPOTLAB_INSTANCE)\"\nexec sleep 600\n";
    let template = ec2
        .create_launch_template()
        .launch_template_name("sdk-test")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id("ami-0ff8a91507f77f867")
                .user_data(base64::engine::general_purpose::STANDARD.encode(script))
                .build(),
        )
        .send()
        .await
        .expect("template");
    let lt = template
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .expect("template id")
        .to_owned();

    // The reference fleet: 4 units over the 2 cheapest of 6 pools, weighted by vCPU.
    let mut overrides = Vec::new();
    for (kind, weight) in [("t2.small", 1.0), ("c5.large", 2.0), ("c5.xlarge", 4.0)] {
        for subnet in &subnets {
            overrides.push(
                FleetLaunchTemplateOverridesRequest::builder()
                    .instance_type(kind.into())
                    .weighted_capacity(weight)
                    .subnet_id(subnet)
                    .build(),
            );
        }
    }
    let created = ec2
        .create_fleet()
        .r#type(FleetType::Maintain)
        .target_capacity_specification(
            TargetCapacitySpecificationRequest::builder()
                .total_target_capacity(4)
                .on_demand_target_capacity(0)
                .spot_target_capacity(4)
                .default_target_capacity_type(DefaultTargetCapacityType::Spot)
                .build(),
        )
        .spot_options(
            SpotOptionsRequest::builder()
                .allocation_strategy(SpotAllocationStrategy::LowestPrice)
                .instance_pools_to_use_count(2)
                .build(),
        )
        .launch_template_configs(
            FleetLaunchTemplateConfigRequest::builder()
                .launch_template_specification(
                    FleetLaunchTemplateSpecificationRequest::builder()
                        .launch_template_id(&lt)
                        .version("1")
                        .build(),
                )
                .set_overrides(Some(overrides))
                .build(),
        )
        .send()
        .await
        .expect("create fleet");
    let fleet_id = created.fleet_id().expect("fleet id").to_owned();
    eventually("4 units fulfilled", || async {
        fleet_status(&ec2, &fleet_id).await == ("fulfilled".to_owned(), 4.0, "active".to_owned())
    })
    .await;

    let by_fleet = Filter::builder()
        .name("tag:aws:ec2:fleet-id")
        .values(&fleet_id)
        .build();
    let running = Filter::builder()
        .name("instance-state-name")
        .values("running")
        .build();
    let mut listed = Vec::new();
    for _ in 0..1_000 {
        listed = running_instances(&ec2, &by_fleet, &running).await;
        let units: u32 = listed
            .iter()
            .map(|(_, kind, _)| match kind.as_str() {
                "c5.xlarge" => 4,
                "c5.large" => 2,
                _ => 1,
            })
            .sum();
        if units == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pools: std::collections::BTreeSet<(String, String)> = listed
        .iter()
        .map(|(_, kind, zone)| (kind.clone(), zone.clone()))
        .collect();
    let ids: Vec<String> = listed.iter().map(|(id, _, _)| id.clone()).collect();
    assert!(!ids.is_empty(), "instances running");
    assert!(pools.len() <= 2, "at most 2 pools: {pools:?}");

    // Each instance runs its user data once, as a process with its own mark.
    let first = ids[0].clone();
    eventually("console output", || async {
        let out = ec2
            .get_console_output()
            .instance_id(&first)
            .send()
            .await
            .expect("console");
        out.output()
            .and_then(|o| base64::engine::general_purpose::STANDARD.decode(o).ok())
            .is_some_and(|bytes| String::from_utf8_lossy(&bytes).contains("booted 1"))
    })
    .await;

    // Scale up to 8, then down to 2: the removed Spot instances get notices.
    ec2.modify_fleet()
        .fleet_id(&fleet_id)
        .target_capacity_specification(
            TargetCapacitySpecificationRequest::builder()
                .total_target_capacity(8)
                .build(),
        )
        .send()
        .await
        .expect("modify to 8");
    eventually("8 units fulfilled", || async {
        let (status, capacity, _) = fleet_status(&ec2, &fleet_id).await;
        status == "fulfilled" && capacity == 8.0
    })
    .await;
    let history = ec2
        .describe_fleet_history()
        .fleet_id(&fleet_id)
        .start_time(aws_sdk_ec2::primitives::DateTime::from_secs(0))
        .send()
        .await
        .expect("history");
    assert!(
        history
            .history_records()
            .iter()
            .any(|r| r.event_information().and_then(|i| i.event_sub_type()) == Some("launched"))
    );
    ec2.modify_fleet()
        .fleet_id(&fleet_id)
        .excess_capacity_termination_policy(
            aws_sdk_ec2::types::FleetExcessCapacityTerminationPolicy::Termination,
        )
        .target_capacity_specification(
            TargetCapacitySpecificationRequest::builder()
                .total_target_capacity(2)
                .build(),
        )
        .send()
        .await
        .expect("modify to 2");
    let requests = ec2
        .describe_spot_instance_requests()
        .filters(
            Filter::builder()
                .name("status-code")
                .values("marked-for-termination")
                .build(),
        )
        .send()
        .await
        .expect("spot requests");
    assert!(!requests.spot_instance_requests().is_empty());
    eventually("2 units left", || async {
        let (status, capacity, _) = fleet_status(&ec2, &fleet_id).await;
        status == "fulfilled" && capacity == 2.0
    })
    .await;

    // Cleanup: delete with termination.
    let deleted = ec2
        .delete_fleets()
        .fleet_ids(&fleet_id)
        .terminate_instances(true)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.successful_fleet_deletions().len(), 1);
    eventually("fleet deleted", || async {
        fleet_status(&ec2, &fleet_id).await.2 == "deleted"
    })
    .await;
    let left = ec2
        .describe_instances()
        .filters(by_fleet.clone())
        .filters(running.clone())
        .send()
        .await
        .expect("instances");
    assert!(left.reservations().is_empty());

    cloud.running.stop.cancel();
    cloud.running.done.await.expect("join").expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_reach_the_sdk_with_ec2_codes() {
    let cloud = cloud(None).await;
    let ec2 = client(&cloud, "AKIDEXAMPLE", "secret");
    let err = ec2
        .describe_fleets()
        .fleet_ids("fleet-00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .expect_err("unknown fleet");
    assert_eq!(err.code(), Some("InvalidFleetId.NotFound"));
    let err = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .dry_run(true)
        .send()
        .await
        .expect_err("dry run");
    assert_eq!(err.code(), Some("DryRunOperation"));
    let err = ec2
        .delete_subnet()
        .subnet_id("subnet-0123456789abcdef0")
        .send()
        .await
        .expect_err("unknown subnet");
    assert_eq!(err.code(), Some("InvalidSubnetID.NotFound"));
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_verified_when_credentials_are_required() {
    let cloud = cloud(Some(("AKIDLOCAL", "local-secret"))).await;
    let good = client(&cloud, "AKIDLOCAL", "local-secret");
    good.describe_regions()
        .send()
        .await
        .expect("signed request");
    let wrong_secret = client(&cloud, "AKIDLOCAL", "not-the-secret");
    let err = wrong_secret
        .describe_regions()
        .send()
        .await
        .expect_err("bad signature");
    assert_eq!(err.code(), Some("AuthFailure"));
    let unknown = client(&cloud, "AKIDOTHER", "local-secret");
    let err = unknown
        .describe_regions()
        .send()
        .await
        .expect_err("unknown key");
    assert_eq!(err.code(), Some("AuthFailure"));
    cloud.stop().await;
}
