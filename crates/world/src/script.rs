//! Scenario scripts: tests as data. A script is a list of commands run against a
//! [`World`]; its output is the event log plus whatever the commands print, which the
//! tests compare with a snapshot.
//!
//! ```text
//! # comment
//! seed 7                              (header: before the first other command)
//! interruption-scale 0                (header)
//! subnet subnet-0a1 us-east-1a        (header or later)
//! create web fleets/reference.json {"Type":"request"}   (file, then an optional JSON merge patch)
//! advance 10m
//! modify web total=8 [policy=no-termination]
//! delete web terminate|no-terminate
//! interrupt web#2 [web#3 ...]         (the k-th instance launched by fleet `web`)
//! rebalance web#1
//! terminate web#1
//! drop-capacity t2.small/us-east-1a 0 [for 30m]
//! restore-capacity t2.small/us-east-1a
//! describe web                        (prints state, activity, capacity, live instances per pool)
//! history web                         (prints DescribeFleetHistory)
//! summary                             (prints the run summary)
//! ```
//! A command the API refuses prints `error: Code: message` and the script goes on, so
//! validation failures are part of the snapshot.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use fleet::wire::{
    CreateFleetRequest, DeleteFleetsRequest, DescribeFleetHistoryRequest, DescribeFleetsRequest,
    ModifyFleetRequest,
};
use fleet::{FleetId, InstanceId};
use market::{Pool, catalog};
use simtime::{SimDuration, SimTime};

use crate::{Injection, World, WorldConfig};

/// Why a script could not run (as opposed to an API error, which is output).
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// A line that does not parse.
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Reads a file a script refers to (relative to the script's directory). Injected so
/// the interpreter stays free of I/O.
pub type ReadFile<'a> = &'a dyn Fn(&Path) -> Result<String, String>;

/// Runs `script` and returns its output: every log entry and printed line in order.
pub fn run(script: &str, read_file: ReadFile<'_>) -> Result<String, ScriptError> {
    let mut config = WorldConfig::with_seed(0);
    let mut lines = script.lines().enumerate().peekable();
    // Header.
    while let Some((n, line)) = lines.peek() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            [first, ..] if first.starts_with('#') => {}
            ["seed", value] => {
                config.market.seed = value
                    .parse()
                    .map_err(|_| syntax(*n, "seed must be an integer"))?
            }
            ["interruption-scale", value] => {
                config.market.interruption_scale = value
                    .parse()
                    .map_err(|_| syntax(*n, "interruption-scale must be a number"))?
            }
            ["start", value] => {
                config.market.start =
                    SimTime::parse(value).map_err(|e| syntax(*n, &e.to_string()))?
            }
            _ => break,
        }
        lines.next();
    }
    let mut world = World::new(config);
    let mut names: BTreeMap<String, FleetId> = BTreeMap::new();
    let mut out = String::new();
    let mut logged = 0;
    for (n, line) in lines {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (command, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let words: Vec<&str> = rest.split_whitespace().collect();
        let mut printed = String::new();
        let result: Result<(), String> = match command {
            "subnet" => {
                let [id, zone] = words[..] else {
                    return Err(syntax(n, "usage: subnet ID ZONE"));
                };
                let zone = catalog()
                    .zone_by_name(zone)
                    .ok_or_else(|| syntax(n, "unknown zone"))?;
                world.add_subnet(id, zone);
                Ok(())
            }
            "create" => {
                let (name, rest) = rest
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| syntax(n, "usage: create NAME FILE [PATCH]"))?;
                let (file, patch) = rest
                    .trim()
                    .split_once(char::is_whitespace)
                    .unwrap_or((rest.trim(), ""));
                let text = read_file(Path::new(file)).map_err(|e| syntax(n, &e))?;
                let mut json: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| syntax(n, &e.to_string()))?;
                if !patch.trim().is_empty() {
                    let patch: serde_json::Value = serde_json::from_str(patch)
                        .map_err(|e| syntax(n, &format!("patch: {e}")))?;
                    merge_patch(&mut json, &patch);
                }
                match serde_json::from_value::<CreateFleetRequest>(json) {
                    Err(e) => Err(format!("invalid request: {e}")),
                    Ok(request) => match world.create_fleet(&request) {
                        Ok(id) => {
                            names.insert(name.to_owned(), id);
                            Ok(())
                        }
                        Err(e) => Err(e.to_string()),
                    },
                }
            }
            "advance" => {
                let span = SimDuration::parse(rest).ok_or_else(|| syntax(n, "bad duration"))?;
                world.advance(span).map_err(|e| e.to_string())
            }
            "modify" => {
                let fleet = fleet_id(&names, words.first().copied(), n)?;
                let mut request = ModifyFleetRequest {
                    fleet_id: Some(fleet.to_string()),
                    ..ModifyFleetRequest::default()
                };
                for word in words.iter().skip(1) {
                    match word.split_once('=') {
                        Some(("total", v)) => {
                            let total = v
                                .parse()
                                .map_err(|_| syntax(n, "total must be an integer"))?;
                            request.target_capacity_specification =
                                Some(fleet::wire::TargetCapacitySpecification {
                                    total_target_capacity: Some(total),
                                    ..Default::default()
                                });
                        }
                        Some(("policy", v)) => {
                            request.excess_capacity_termination_policy = Some(v.to_owned())
                        }
                        _ => return Err(syntax(n, "usage: modify NAME total=N [policy=P]")),
                    }
                }
                world.modify_fleet(&request).map_err(|e| e.to_string())
            }
            "delete" => {
                let fleet = fleet_id(&names, words.first().copied(), n)?;
                let terminate = match words.get(1).copied() {
                    Some("terminate") => true,
                    Some("no-terminate") => false,
                    _ => return Err(syntax(n, "usage: delete NAME terminate|no-terminate")),
                };
                let request = DeleteFleetsRequest {
                    fleet_ids: Some(vec![fleet.to_string()]),
                    terminate_instances: Some(terminate),
                    ..Default::default()
                };
                match world.delete_fleets(&request) {
                    Ok(output) => {
                        for failure in output.unsuccessful_fleet_deletions {
                            let _ = writeln!(
                                printed,
                                "delete failed: {} {}",
                                failure.error.code, failure.error.message
                            );
                        }
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            "interrupt" | "rebalance" | "terminate" => {
                let ids = words
                    .iter()
                    .map(|w| instance_ref(&world, &names, w, n))
                    .collect::<Result<Vec<_>, _>>()?;
                match command {
                    "interrupt" => world.inject(Injection::Interrupt { instances: ids }),
                    "rebalance" => world.inject(Injection::Rebalance { instances: ids }),
                    _ => world.terminate_instances(&ids),
                }
                .map_err(|e| e.to_string())
            }
            "drop-capacity" => {
                let pool = pool_ref(words.first().copied(), n)?;
                let level = words
                    .get(1)
                    .and_then(|w| w.parse().ok())
                    .ok_or_else(|| syntax(n, "usage: drop-capacity POOL LEVEL [for SPAN]"))?;
                let until = match (words.get(2), words.get(3)) {
                    (Some(&"for"), Some(span)) => Some(
                        world.now()
                            + SimDuration::parse(span).ok_or_else(|| syntax(n, "bad duration"))?,
                    ),
                    (None, None) => None,
                    _ => return Err(syntax(n, "usage: drop-capacity POOL LEVEL [for SPAN]")),
                };
                world
                    .inject(Injection::DropCapacity { pool, level, until })
                    .map_err(|e| e.to_string())
            }
            "restore-capacity" => {
                let pool = pool_ref(words.first().copied(), n)?;
                world
                    .inject(Injection::RestoreCapacity { pool })
                    .map_err(|e| e.to_string())
            }
            "describe" => {
                let fleet = fleet_id(&names, words.first().copied(), n)?;
                describe(&world, &fleet, &mut printed).map_err(|e| e.to_string())
            }
            "history" => {
                let fleet = fleet_id(&names, words.first().copied(), n)?;
                history(&world, &fleet, &mut printed).map_err(|e| e.to_string())
            }
            "summary" => {
                let _ = write!(printed, "{}", world.summary());
                Ok(())
            }
            other => return Err(syntax(n, &format!("unknown command {other:?}"))),
        };
        for entry in &world.log()[logged..] {
            let _ = writeln!(out, "{entry}");
        }
        logged = world.log().len();
        let _ = writeln!(out, "> {line}");
        if let Err(message) = result {
            let _ = writeln!(out, "error: {message}");
        }
        out.push_str(&printed);
    }
    for entry in &world.log()[logged..] {
        let _ = writeln!(out, "{entry}");
    }
    Ok(out)
}

fn syntax(line: usize, message: &str) -> ScriptError {
    ScriptError::Syntax {
        line: line + 1,
        message: message.to_owned(),
    }
}

fn fleet_id(
    names: &BTreeMap<String, FleetId>,
    name: Option<&str>,
    line: usize,
) -> Result<FleetId, ScriptError> {
    let name = name.ok_or_else(|| syntax(line, "missing fleet name"))?;
    names
        .get(name)
        .cloned()
        .ok_or_else(|| syntax(line, &format!("no fleet named {name:?}")))
}

/// `web#2`: the second instance fleet `web` launched.
fn instance_ref(
    world: &World,
    names: &BTreeMap<String, FleetId>,
    word: &str,
    line: usize,
) -> Result<InstanceId, ScriptError> {
    let (name, k) = word
        .split_once('#')
        .ok_or_else(|| syntax(line, "instances are written NAME#K"))?;
    let k: usize = k.parse().map_err(|_| syntax(line, "K must be a number"))?;
    let id = fleet_id(names, Some(name), line)?;
    world
        .engine()
        .fleet(&id)
        .and_then(|f| f.instances.get(k.wrapping_sub(1)))
        .cloned()
        .ok_or_else(|| syntax(line, &format!("fleet {name} has no instance #{k}")))
}

fn pool_ref(word: Option<&str>, line: usize) -> Result<Pool, ScriptError> {
    let word = word.ok_or_else(|| syntax(line, "missing pool"))?;
    let (type_name, zone) = word
        .split_once('/')
        .ok_or_else(|| syntax(line, "pools are written TYPE/ZONE"))?;
    let c = catalog();
    match (c.instance_type_id(type_name), c.zone_by_name(zone)) {
        (Some(instance_type), Some(zone)) => Ok(Pool {
            instance_type,
            zone,
        }),
        _ => Err(syntax(line, &format!("unknown pool {word}"))),
    }
}

fn describe(world: &World, fleet: &FleetId, out: &mut String) -> Result<(), fleet::FleetError> {
    let request = DescribeFleetsRequest {
        fleet_ids: Some(vec![fleet.to_string()]),
        ..Default::default()
    };
    let output = world.engine().describe_fleets(&request, world.now())?;
    for data in output.fleets {
        let _ = writeln!(
            out,
            "  {} {} target={} fulfilled={:.1} on-demand={:.1}",
            data.fleet_state.as_str(),
            data.activity_status.as_str(),
            data.target_capacity_specification.total_target_capacity,
            data.fulfilled_capacity,
            data.fulfilled_on_demand_capacity
        );
        for error in data.errors.iter().flatten() {
            let overrides = &error.launch_template_and_overrides.overrides;
            let _ = writeln!(
                out,
                "  error {} {} {} {}",
                overrides.instance_type.as_deref().unwrap_or("-"),
                overrides.availability_zone.as_deref().unwrap_or("-"),
                error.lifecycle,
                error.error_code
            );
        }
    }
    let mut per_pool: BTreeMap<String, usize> = BTreeMap::new();
    if let Some(f) = world.engine().fleet(fleet) {
        for instance in f.live(world.engine().instance_map()) {
            *per_pool
                .entry(format!("{} {}", instance.pool, instance.lifecycle.as_str()))
                .or_default() += 1;
        }
    }
    for (pool, count) in per_pool {
        let _ = writeln!(out, "  {pool}: {count}");
    }
    Ok(())
}

fn history(world: &World, fleet: &FleetId, out: &mut String) -> Result<(), fleet::FleetError> {
    let request = DescribeFleetHistoryRequest {
        fleet_id: Some(fleet.to_string()),
        start_time: Some(world.config().market.start.to_iso_seconds()),
        ..Default::default()
    };
    let output = world
        .engine()
        .describe_fleet_history(&request, world.now())?;
    for record in output.history_records {
        let info = &record.event_information;
        let _ = writeln!(
            out,
            "  {} {}/{} {} {}",
            record.timestamp.to_iso_seconds(),
            record.event_type,
            info.event_sub_type,
            info.instance_id.as_deref().unwrap_or("-"),
            info.event_description
        );
    }
    Ok(())
}

/// RFC 7396 JSON merge patch.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(target), serde_json::Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge_patch(
                        target.entry(key.clone()).or_insert(serde_json::Value::Null),
                        value,
                    );
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}
