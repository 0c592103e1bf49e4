//! Crash tests: `spotlab up` killed with SIGKILL at random moments of a scenario
//! (creating, scaling and deleting fleets, terminating instances, injecting
//! interruptions), restarted on the same state directory each time. After every
//! restart:
//!
//! - every fleet and instance the cloud acknowledged is still known;
//! - every user data ran at most once (no instance is launched or booted twice);
//! - no process of the cloud belongs to a terminated or unknown instance (adopted or
//!   reaped, never orphaned);
//! - active maintain fleets get back to their targets;
//! - a clean stop at the end leaves no process behind.
//!
//! Kill moments come from a seeded generator; which request a kill interrupts still
//! depends on timing, which is the point.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    DefaultTargetCapacityType, FleetLaunchTemplateConfigRequest,
    FleetLaunchTemplateOverridesRequest, FleetLaunchTemplateSpecificationRequest, FleetType,
    RequestLaunchTemplateData, TargetCapacitySpecificationRequest,
};
use base64::Engine as _;
use rand::{RngExt as _, SeedableRng as _};
use support::{Up, client};

const ROUNDS: usize = 8;

fn start(state: &Path, listen: Option<&str>) -> Up {
    let mut args = vec!["--time-scale", "60", "--seed", "17"];
    if let Some(listen) = listen {
        args.extend(["--listen", listen]);
    }
    Up::start(state, &args)
}

/// Every live process carrying a mark of the cloud `uid`: (instance, pid).
fn marked(uid: &str) -> Vec<(String, i32)> {
    let prefix = format!("SPOTLAB_INSTANCE={uid}/");
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        for var in environ.split(|b| *b == 0) {
            if let Some(rest) = var.strip_prefix(prefix.as_bytes()) {
                out.push((String::from_utf8_lossy(rest).into_owned(), pid));
            }
        }
    }
    out
}

/// Instance id -> state name, for every instance the cloud shows.
async fn states(ec2: &Client) -> BTreeMap<String, String> {
    let out = ec2
        .describe_instances()
        .send()
        .await
        .expect("describe instances");
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| {
            (
                i.instance_id().unwrap_or_default().to_owned(),
                i.state()
                    .and_then(|s| s.name())
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// (instance, cloud uid) of every boot the user data recorded.
fn boots(log: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mark = line.split_whitespace().next()?;
            let (uid, instance) = mark.split_once('/')?;
            Some((instance.to_owned(), uid.to_owned()))
        })
        .collect()
}

async fn create_fleet(ec2: &Client, lt: &str, subnets: &[String], target: i32) -> Option<String> {
    let overrides = subnets
        .iter()
        .map(|s| {
            FleetLaunchTemplateOverridesRequest::builder()
                .instance_type("t2.small".into())
                .subnet_id(s)
                .build()
        })
        .collect();
    ec2.create_fleet()
        .r#type(FleetType::Maintain)
        .target_capacity_specification(
            TargetCapacitySpecificationRequest::builder()
                .total_target_capacity(target)
                .default_target_capacity_type(DefaultTargetCapacityType::Spot)
                .build(),
        )
        .launch_template_configs(
            FleetLaunchTemplateConfigRequest::builder()
                .launch_template_specification(
                    FleetLaunchTemplateSpecificationRequest::builder()
                        .launch_template_id(lt)
                        .version("1")
                        .build(),
                )
                .set_overrides(Some(overrides))
                .build(),
        )
        .send()
        .await
        .ok()
        .and_then(|o| o.fleet_id().map(str::to_owned))
}

/// Active fleets and their targets.
async fn targets(ec2: &Client) -> BTreeMap<String, (String, i32, f64)> {
    let out = ec2.describe_fleets().send().await.expect("describe fleets");
    out.fleets()
        .iter()
        .map(|f| {
            (
                f.fleet_id().unwrap_or_default().to_owned(),
                (
                    f.fleet_state()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    f.target_capacity_specification()
                        .and_then(|t| t.total_target_capacity())
                        .unwrap_or_default(),
                    f.fulfilled_capacity().unwrap_or_default(),
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_any_moment_the_cloud_recovers_without_orphans_or_double_launches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let log: PathBuf = dir.path().join("boots.log");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x00c0_ffee);

    let mut up = start(&state, Some("127.0.0.1:0"));
    let ec2 = client(&up.url);
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
        let out = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(cidr)
            .availability_zone(zone)
            .send()
            .await
            .expect("subnet");
        subnets.push(
            out.subnet()
                .and_then(|s| s.subnet_id())
                .expect("id")
                .to_owned(),
        );
    }
    let script = format!(
        "#!/bin/sh\necho \"$SPOTLAB_INSTANCE $$\" >> {}\ntrap 'exit 0' TERM\nwhile :; do sleep 1 & wait $!; done\n",
        log.display()
    );
    let lt = ec2
        .create_launch_template()
        .launch_template_name("crash")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id("ami-1")
                .user_data(base64::engine::general_purpose::STANDARD.encode(script))
                .build(),
        )
        .send()
        .await
        .expect("template")
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .expect("lt id")
        .to_owned();

    let mut known_fleets: BTreeSet<String> = BTreeSet::new();
    let mut known_instances: BTreeSet<String> = BTreeSet::new();
    let mut uid = String::new();
    for round in 0..ROUNDS {
        let ec2 = client(&up.url);
        // A few operations, then a kill at a random moment while more are sent.
        let kill_after = Duration::from_millis(rng.random_range(0..900));
        let started = Instant::now();
        while started.elapsed() < kill_after {
            let fleets: Vec<String> = known_fleets.iter().cloned().collect();
            let live: Vec<String> = states(&ec2)
                .await
                .into_iter()
                .filter(|(_, s)| s == "running")
                .map(|(i, _)| i)
                .collect();
            match rng.random_range(0..5) {
                0 if fleets.len() < 3 => {
                    if let Some(id) =
                        create_fleet(&ec2, &lt, &subnets, rng.random_range(1..5)).await
                    {
                        known_fleets.insert(id);
                    }
                }
                1 if !fleets.is_empty() => {
                    let fleet = &fleets[rng.random_range(0..fleets.len())];
                    let _ = ec2
                        .modify_fleet()
                        .fleet_id(fleet)
                        .target_capacity_specification(
                            TargetCapacitySpecificationRequest::builder()
                                .total_target_capacity(rng.random_range(0..7))
                                .build(),
                        )
                        .send()
                        .await;
                }
                2 if !live.is_empty() => {
                    let victim = &live[rng.random_range(0..live.len())];
                    let _ = ec2.terminate_instances().instance_ids(victim).send().await;
                }
                3 if !fleets.is_empty() => {
                    let fleet = &fleets[rng.random_range(0..fleets.len())];
                    let body = format!(
                        r#"{{"action":"interrupt","targets":{{"fleet":{{"fleet_id":"{fleet}","percent":50}}}}}}"#
                    );
                    let _ = reqwest::Client::new()
                        .post(format!("{}/spotlab/v1/faults", up.url))
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                }
                _ => tokio::time::sleep(Duration::from_millis(rng.random_range(0..150))).await,
            }
        }
        for id in states(&ec2).await.into_keys() {
            known_instances.insert(id);
        }
        up.child.kill().expect("kill -9");
        up.child.wait().expect("reaped");

        // Restart on the same state directory and address.
        up = start(&state, None);
        let ec2 = client(&up.url);

        // Everything acknowledged is still known.
        let fleets = targets(&ec2).await;
        for id in &known_fleets {
            assert!(
                fleets.contains_key(id),
                "round {round}: fleet {id} was forgotten"
            );
        }
        let now = states(&ec2).await;
        for id in &known_instances {
            assert!(
                now.contains_key(id),
                "round {round}: instance {id} was forgotten"
            );
        }

        // Maintain fleets get back to their targets, and no instance boots twice.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let fleets = targets(&ec2).await;
            let settled = fleets
                .values()
                .filter(|(state, _, _)| state == "active")
                .all(|(_, target, fulfilled)| *fulfilled == f64::from(*target));
            if settled {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: fleets did not return to their targets: {fleets:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let booted = boots(&log);
        let mut seen = BTreeSet::new();
        for (instance, cloud) in &booted {
            assert!(
                seen.insert(instance.clone()),
                "round {round}: instance {instance} booted twice"
            );
            uid.clone_from(cloud);
        }

        // No process belongs to a terminated or unknown instance.
        if !uid.is_empty() {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let states = states(&ec2).await;
                let orphans: Vec<(String, i32)> = marked(&uid)
                    .into_iter()
                    .filter(|(instance, _)| {
                        !matches!(
                            states.get(instance).map(String::as_str),
                            Some("pending" | "running" | "shutting-down" | "stopping")
                        )
                    })
                    .collect();
                if orphans.is_empty() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "round {round}: orphaned processes {orphans:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert!(
        !uid.is_empty(),
        "no instance ever booted: the scenario tested nothing"
    );
    eprintln!(
        "{ROUNDS} kills survived: {} fleets, {} instances, {} boots",
        known_fleets.len(),
        known_instances.len(),
        boots(&log).len()
    );

    // A clean stop takes every instance's processes down.
    let status = up.stop().expect("spotlab up stops within 10 s");
    drop(up);
    assert!(status.success(), "spotlab up exited with {status}");
    let left = marked(&uid);
    assert!(
        left.is_empty(),
        "processes left after a clean stop: {left:?}"
    );
}
