//! Property tests of the simulated region (`world::World`) driving maintain fleets: after
//! random interruptions, target changes, terminations and capacity drops a maintain
//! fleet returns to its target once capacity exists; the same seed and operations give
//! the same event log; and every Spot instance lost to a capacity or price interruption
//! is replaced by exactly one replacement launch. The fleets are the walkthrough's
//! reference fleet (`examples/create_fleet.json`, AvailabilityZone overrides) and its
//! diversified and capacity-optimized variants. Allocation details are
//! `fleet/tests/allocation_properties.rs`'s business; calibration of interruption rates
//! is `calibration.rs`'s.

// A failed unwrap is a failed test. clippy.toml allows unwrap in `#[test]` functions but
// not in their helpers.
#![allow(clippy::unwrap_used)]

use fleet::wire::{CreateFleetRequest, DescribeFleetsRequest, ModifyFleetRequest};
use fleet::{ActivityStatus, Event, FleetId, InstanceId, InstanceState, InterruptionReason};
use market::Pool;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use serde_json::{Value, json};
use simtime::SimDuration;
use world::{Injection, LogRecord, World, WorldConfig};

const REFERENCE: &str = include_str!("../../../examples/create_fleet.json");

/// The largest `WeightedCapacity` of the reference fleet (`c5.xlarge`).
const REFERENCE_MAX_WEIGHT: f64 = 4.0;

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Failures are reported with their minimal case; no regression files are
        // written into the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

/// The reference fleet and the variants the properties run.
#[derive(Clone, Copy, Debug)]
enum Variant {
    /// As in the walkthrough: lowest-price over the 2 cheapest pools.
    Reference,
    /// The same overrides, diversified.
    Diversified,
    /// The same overrides, capacity-optimized.
    CapacityOptimized,
}

fn variant() -> impl Strategy<Value = Variant> {
    prop_oneof![
        Just(Variant::Reference),
        Just(Variant::Diversified),
        Just(Variant::CapacityOptimized),
    ]
}

/// The reference fleet as `variant`, with a Spot target of `target` units; with
/// `unit_weights` every override weighs 1.
fn fleet_request(variant: Variant, target: u32, unit_weights: bool) -> CreateFleetRequest {
    let mut request: Value =
        serde_json::from_str(REFERENCE).expect("building the test fleet request");
    request["TargetCapacitySpecification"] = json!({
        "TotalTargetCapacity": target,
        "OnDemandTargetCapacity": 0,
        "SpotTargetCapacity": target,
        "DefaultTargetCapacityType": "spot"
    });
    let spot = request["SpotOptions"]
        .as_object_mut()
        .expect("building the test fleet request");
    let strategy = match variant {
        Variant::Reference => None,
        Variant::Diversified => Some("diversified"),
        Variant::CapacityOptimized => Some("capacity-optimized"),
    };
    if let Some(strategy) = strategy {
        spot.insert("AllocationStrategy".into(), json!(strategy));
        spot.remove("InstancePoolsToUseCount");
    }
    let overrides = request["LaunchTemplateConfigs"][0]["Overrides"]
        .as_array_mut()
        .expect("building the test fleet request");
    for o in overrides.iter() {
        assert!(o.get("AvailabilityZone").is_some(), "{o}");
    }
    if unit_weights {
        for o in overrides.iter_mut() {
            o["WeightedCapacity"] = json!(1.0);
        }
    }
    serde_json::from_value(request).expect("building the test fleet request")
}

/// The pools the reference fleet names, in override order.
fn reference_pools() -> Vec<Pool> {
    let request = fleet_request(Variant::Reference, 1, false);
    let spec = fleet::validate::validate_create(
        &request,
        &fleet::validate::StaticEnvironment::simulator(),
    )
    .expect("reference pools in the catalogue");
    spec.specs.iter().map(|s| s.pool).collect()
}

/// Something done to the fleet or its market, then time passing.
#[derive(Clone, Debug)]
enum Op {
    /// Interrupt 1 to 3 of the fleet's live instances (picked among them).
    Interrupt(Vec<Index>),
    /// ModifyFleet to a new total target.
    Modify(u32),
    /// TerminateInstances on one live instance.
    Terminate(Index),
    /// Drop one of the fleet's pools to 0 for `minutes`: with an end time given to the
    /// drop, or by restoring it explicitly after that long.
    DropCapacity {
        pool: Index,
        minutes: u64,
        restore_explicitly: bool,
    },
}

#[derive(Clone, Debug)]
struct Step {
    op: Op,
    /// Minutes to advance after the operation.
    then: u64,
}

fn op(max_target: u32) -> impl Strategy<Value = Op> {
    prop_oneof![
        prop::collection::vec(any::<Index>(), 1..=3).prop_map(Op::Interrupt),
        (1..=max_target).prop_map(Op::Modify),
        any::<Index>().prop_map(Op::Terminate),
        (any::<Index>(), 1u64..=20, any::<bool>()).prop_map(
            |(pool, minutes, restore_explicitly)| Op::DropCapacity {
                pool,
                minutes,
                restore_explicitly,
            }
        ),
    ]
}

fn steps(max_gap_minutes: u64) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (op(20), 0..=max_gap_minutes).prop_map(|(op, then)| Step { op, then }),
        1..=6,
    )
}

/// The fleet's live instances, in launch order.
fn live(world: &World, fleet: &FleetId) -> Vec<InstanceId> {
    let engine = world.engine();
    engine
        .fleet(fleet)
        .expect("fleet instances readable")
        .live(engine.instance_map())
        .map(|i| i.id.clone())
        .collect()
}

/// Performs `step` on `world`; returns the fleet's target afterwards.
fn perform(world: &mut World, fleet: &FleetId, pools: &[Pool], step: &Step, target: u32) -> u32 {
    let mut target = target;
    match &step.op {
        Op::Interrupt(picks) => {
            let live = live(world, fleet);
            if !live.is_empty() {
                let mut instances: Vec<InstanceId> =
                    picks.iter().map(|p| p.get(&live).clone()).collect();
                instances.sort();
                instances.dedup();
                world
                    .inject(Injection::Interrupt { instances })
                    .expect("the world accepts the generated step");
            }
        }
        Op::Modify(total) => {
            let request: ModifyFleetRequest = serde_json::from_value(json!({
                "FleetId": fleet.as_str(),
                "TargetCapacitySpecification": {"TotalTargetCapacity": total}
            }))
            .expect("the world accepts the generated step");
            world
                .modify_fleet(&request)
                .expect("the world accepts the generated step");
            target = *total;
        }
        Op::Terminate(pick) => {
            let live = live(world, fleet);
            if !live.is_empty() {
                world
                    .terminate_instances(&[pick.get(&live).clone()])
                    .expect("the world accepts the generated step");
            }
        }
        Op::DropCapacity {
            pool,
            minutes,
            restore_explicitly,
        } => {
            let pool = *pool.get(pools);
            let span = SimDuration::from_mins(*minutes);
            if *restore_explicitly {
                world
                    .inject(Injection::DropCapacity {
                        pool,
                        level: 0,
                        until: None,
                    })
                    .expect("the world accepts the generated step");
                world
                    .advance(span)
                    .expect("the world accepts the generated step");
                world
                    .inject(Injection::RestoreCapacity { pool })
                    .expect("the world accepts the generated step");
            } else {
                let until = world.now() + span;
                world
                    .inject(Injection::DropCapacity {
                        pool,
                        level: 0,
                        until: Some(until),
                    })
                    .expect("the world accepts the generated step");
            }
        }
    }
    world
        .advance(SimDuration::from_mins(step.then))
        .expect("the world accepts the generated step");
    target
}

/// A world with the fleet created at its start.
fn start(seed: u64, interruption_scale: f64, request: &CreateFleetRequest) -> (World, FleetId) {
    let mut config = WorldConfig::with_seed(seed);
    config.market.interruption_scale = interruption_scale;
    let mut world = World::new(config);
    let fleet = world
        .create_fleet(request)
        .expect("creating the test fleet");
    (world, fleet)
}

/// The log as its text lines.
fn log_lines(world: &World) -> Vec<String> {
    world.log().iter().map(|e| e.to_string()).collect()
}

proptest! {
    #![proptest_config(config(256))]

    /// 7. A maintain fleet returns to its target whenever capacity exists: after random
    /// interruptions, target changes, terminations and capacity drops (all over within
    /// 30 minutes), 30 quiet minutes later (reclaims off) DescribeFleets shows fulfilled
    /// capacity at or above target, less than one largest instance above it, and
    /// activity `fulfilled`.
    #[test]
    fn a_maintain_fleet_returns_to_target(
        seed in any::<u64>(),
        target in 1u32..=20,
        variant in variant(),
        steps in steps(10),
    ) {
        let pools = reference_pools();
        let (mut world, fleet) = start(seed, 0.0, &fleet_request(variant, target, false));
        let mut target = target;
        for step in &steps {
            target = perform(&mut world, &fleet, &pools, step, target);
        }
        world.advance(SimDuration::from_mins(30)).unwrap();

        let request = DescribeFleetsRequest {
            fleet_ids: Some(vec![fleet.to_string()]),
            ..DescribeFleetsRequest::default()
        };
        let described = world.engine().describe_fleets(&request, world.now()).unwrap();
        let data = &described.fleets[0];
        let target = f64::from(target);
        let log = log_lines(&world).join("\n");
        prop_assert!(
            data.fulfilled_capacity >= target,
            "fulfilled {} below target {}\n{}", data.fulfilled_capacity, target, log
        );
        prop_assert!(
            data.fulfilled_capacity < target + REFERENCE_MAX_WEIGHT,
            "fulfilled {} overshoots target {} by a whole instance or more\n{}",
            data.fulfilled_capacity, target, log
        );
        prop_assert_eq!(data.activity_status, ActivityStatus::Fulfilled, "{}", log);
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// 8. Determinism: two worlds with the same seed and operations (spread over two
    /// simulated days, reclaims at 20x the advisor rates) write identical logs.
    #[test]
    fn same_seed_and_operations_give_the_same_log(
        seed in any::<u64>(),
        target in 1u32..=20,
        variant in variant(),
        steps in steps(8 * 60),
    ) {
        let pools = reference_pools();
        let request = fleet_request(variant, target, false);
        let run = || {
            let (mut world, fleet) = start(seed, 20.0, &request);
            let end = world.now() + SimDuration::from_days(2);
            let mut target = target;
            for step in &steps {
                target = perform(&mut world, &fleet, &pools, step, target);
            }
            world.advance_to(end.max(world.now())).unwrap();
            log_lines(&world)
        };
        let first = run();
        let second = run();
        prop_assert!(first.len() > 1);
        prop_assert_eq!(first, second);
    }
}

/// Whether an instance has begun shutting down or is gone (its replacement launches as
/// the shutdown begins, 10 s before `terminated`).
fn ended(world: &World, instance: &InstanceId) -> bool {
    world.engine().instance(instance).is_some_and(|i| {
        matches!(
            i.state,
            InstanceState::ShuttingDown { .. } | InstanceState::Terminated
        )
    })
}

proptest! {
    #![proptest_config(config(64))]

    /// 9. Every Spot instance of a maintain fleet ended by a capacity or price
    /// interruption is replaced: over 30 simulated days at 30x the advisor reclaim
    /// rates, the replacement launches equal those interruptions, and the fleet ends at
    /// its target. Every override weighs 1 here, so one lost instance is one
    /// replacement (with mixed weights a replacement may be several smaller instances).
    #[test]
    fn every_interrupted_instance_is_replaced(
        seed in any::<u64>(),
        target in 1u32..=20,
        variant in variant(),
    ) {
        let (mut world, fleet) = start(seed, 30.0, &fleet_request(variant, target, true));
        world.advance(SimDuration::from_days(30)).unwrap();

        let mut replacements = 0usize;
        let mut interrupted = Vec::new();
        for entry in world.log() {
            match &entry.record {
                LogRecord::Fleet(Event::Launched { replacement: true, .. }) => replacements += 1,
                LogRecord::Fleet(Event::Notice { instance, notice, .. })
                    if matches!(
                        notice.reason,
                        InterruptionReason::Capacity | InterruptionReason::Price
                    ) =>
                {
                    interrupted.push(instance.clone());
                }
                _ => {}
            }
        }
        let ended_by_interruption = interrupted.iter().filter(|i| ended(&world, i)).count();
        prop_assert_eq!(
            replacements, ended_by_interruption,
            "{} replacements for {} interrupted instances ({} notices)",
            replacements, ended_by_interruption, interrupted.len()
        );

        let request = DescribeFleetsRequest {
            fleet_ids: Some(vec![fleet.to_string()]),
            ..DescribeFleetsRequest::default()
        };
        let described = world.engine().describe_fleets(&request, world.now()).unwrap();
        prop_assert_eq!(described.fleets[0].fulfilled_capacity, f64::from(target));
    }
}
