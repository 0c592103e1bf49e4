//! `spotlab ec2 ...`: EC2 Fleet's calls shaped like the AWS CLI's (`--cli-input-json
//! file://...`, the same option names, `--output json|table|text`), on aws-sdk-ec2.
//! The default endpoint is the local cloud; `--aws` sends the same calls to AWS with
//! the standard credential and region chain. One code path: the local cloud is just
//! another endpoint.
//!
//! Answers are printed with the AWS CLI's member names. Only the members listed in
//! each `*_json` function are printed (the ones a fleet test reads); the rest of the
//! SDK's answer is not.

use std::io::Write as _;

use anyhow::Context as _;
use aws_sdk_ec2::primitives::DateTime;
use aws_sdk_ec2::types::{Filter, Instance, Tag};
use serde_json::{Map, Value, json};

use crate::aws::{Clients, Context as _, next_token};
use crate::cli::{Ec2Args, Ec2Call, Ec2Output};
use crate::run::FleetRequest;

/// Runs the command.
pub fn run(args: Ec2Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let clients = if args.aws {
            Clients::aws(args.region.as_deref(), args.profile.as_deref()).await
        } else {
            Clients::at(
                &args.endpoint_url,
                args.region.as_deref().unwrap_or(crate::aws::DEFAULT_REGION),
            )
            .await
        };
        let answer = call(&clients, &args.call).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", render(&answer, args.output))?;
        out.flush()?;
        Ok(())
    })
}

fn time(t: Option<&DateTime>) -> Value {
    t.and_then(|t| {
        t.fmt(aws_sdk_ec2::primitives::DateTimeFormat::DateTime)
            .ok()
    })
    .map_or(Value::Null, Value::String)
}

fn tags(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({"Key": t.key(), "Value": t.value()}))
            .collect(),
    )
}

/// Drops null members, as the AWS CLI prints only what the service answered.
fn compact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, compact(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(compact).collect()),
        other => other,
    }
}

fn instance_json(i: &Instance) -> Value {
    json!({
        "InstanceId": i.instance_id(),
        "InstanceType": i.instance_type().map(|t| t.as_str()),
        "ImageId": i.image_id(),
        "State": i.state().map(|s| json!({"Code": s.code(), "Name": s.name().map(|n| n.as_str())})),
        "Placement": i.placement().map(|p| json!({"AvailabilityZone": p.availability_zone()})),
        "LaunchTime": time(i.launch_time()),
        "InstanceLifecycle": i.instance_lifecycle().map(|l| l.as_str()),
        "SpotInstanceRequestId": i.spot_instance_request_id(),
        "SubnetId": i.subnet_id(),
        "VpcId": i.vpc_id(),
        "PrivateIpAddress": i.private_ip_address(),
        "Tags": tags(i.tags()),
    })
}

async fn call(clients: &Clients, call: &Ec2Call) -> anyhow::Result<Value> {
    let ec2 = &clients.ec2;
    let answer = match call {
        Ec2Call::CreateFleet { cli_input_json } => {
            let text = read_input(cli_input_json)?;
            let request = FleetRequest::parse(&text, &|_| None)?;
            let a = request
                .apply(ec2.create_fleet())
                .send()
                .await
                .doing(|| "CreateFleet".to_owned())?;
            json!({
                "FleetId": a.fleet_id(),
                "Errors": a.errors().iter().map(|e| json!({
                    "ErrorCode": e.error_code(),
                    "ErrorMessage": e.error_message(),
                    "Lifecycle": e.lifecycle().map(|l| l.as_str()),
                })).collect::<Vec<_>>(),
                "Instances": a.instances().iter().map(|i| json!({
                    "InstanceIds": i.instance_ids(),
                    "InstanceType": i.instance_type().map(|t| t.as_str()),
                    "Lifecycle": i.lifecycle().map(|l| l.as_str()),
                })).collect::<Vec<_>>(),
            })
        }
        Ec2Call::ModifyFleet {
            fleet_id,
            total_target_capacity,
        } => {
            let a = ec2
                .modify_fleet()
                .fleet_id(fleet_id)
                .target_capacity_specification(
                    aws_sdk_ec2::types::TargetCapacitySpecificationRequest::builder()
                        .total_target_capacity(*total_target_capacity)
                        .build(),
                )
                .send()
                .await
                .doing(|| format!("ModifyFleet {fleet_id}"))?;
            json!({"Return": a.r#return()})
        }
        Ec2Call::DescribeFleets { fleet_ids } => {
            let mut fleets = Vec::new();
            let mut pages = ec2
                .describe_fleets()
                .set_fleet_ids((!fleet_ids.is_empty()).then(|| fleet_ids.clone()))
                .into_paginator()
                .send();
            while let Some(a) = pages.next().await {
                let a = a.doing(|| "DescribeFleets".to_owned())?;
                for f in a.fleets() {
                    let t = f.target_capacity_specification();
                    fleets.push(json!({
                        "FleetId": f.fleet_id(),
                        "FleetState": f.fleet_state().map(|s| s.as_str()),
                        "ActivityStatus": f.activity_status().map(|s| s.as_str()),
                        "Type": f.r#type().map(|s| s.as_str()),
                        "CreateTime": time(f.create_time()),
                        "FulfilledCapacity": f.fulfilled_capacity(),
                        "FulfilledOnDemandCapacity": f.fulfilled_on_demand_capacity(),
                        "TargetCapacitySpecification": t.map(|t| json!({
                            "TotalTargetCapacity": t.total_target_capacity(),
                            "OnDemandTargetCapacity": t.on_demand_target_capacity(),
                            "SpotTargetCapacity": t.spot_target_capacity(),
                            "DefaultTargetCapacityType": t.default_target_capacity_type().map(|d| d.as_str()),
                        })),
                        "ExcessCapacityTerminationPolicy": f.excess_capacity_termination_policy().map(|p| p.as_str()),
                        "Tags": tags(f.tags()),
                    }));
                }
            }
            json!({ "Fleets": fleets })
        }
        Ec2Call::DescribeFleetInstances { fleet_id } => {
            let mut active = Vec::new();
            let mut token = None;
            loop {
                let a = ec2
                    .describe_fleet_instances()
                    .fleet_id(fleet_id)
                    .set_next_token(token)
                    .send()
                    .await
                    .doing(|| format!("DescribeFleetInstances {fleet_id}"))?;
                for i in a.active_instances() {
                    active.push(json!({
                        "InstanceId": i.instance_id(),
                        "InstanceType": i.instance_type(),
                        "SpotInstanceRequestId": i.spot_instance_request_id(),
                        "InstanceHealth": i.instance_health().map(|h| h.as_str()),
                    }));
                }
                token = next_token(a.next_token());
                if token.is_none() {
                    break;
                }
            }
            json!({ "ActiveInstances": active, "FleetId": fleet_id })
        }
        Ec2Call::DescribeFleetHistory {
            fleet_id,
            start_time,
        } => {
            let start = DateTime::from_str(
                start_time,
                aws_sdk_ec2::primitives::DateTimeFormat::DateTimeWithOffset,
            )
            .or_else(|_| {
                DateTime::from_str(
                    start_time,
                    aws_sdk_ec2::primitives::DateTimeFormat::DateTime,
                )
            })
            .with_context(|| {
                format!("--start-time {start_time:?} is not a time such as 2026-01-01T00:00:00Z")
            })?;
            let mut records = Vec::new();
            let mut token = None;
            loop {
                let a = ec2
                    .describe_fleet_history()
                    .fleet_id(fleet_id)
                    .start_time(start)
                    .set_next_token(token)
                    .send()
                    .await
                    .doing(|| format!("DescribeFleetHistory {fleet_id}"))?;
                for r in a.history_records() {
                    let info = r.event_information();
                    records.push(json!({
                        "EventType": r.event_type().map(|e| e.as_str()),
                        "Timestamp": time(r.timestamp()),
                        "EventInformation": info.map(|i| json!({
                            "EventSubType": i.event_sub_type(),
                            "InstanceId": i.instance_id(),
                            "EventDescription": i.event_description(),
                        })),
                    }));
                }
                token = next_token(a.next_token());
                if token.is_none() {
                    break;
                }
            }
            json!({ "FleetId": fleet_id, "HistoryRecords": records })
        }
        Ec2Call::DeleteFleets {
            fleet_ids,
            terminate_instances,
            no_terminate_instances,
        } => {
            let terminate = *terminate_instances || !*no_terminate_instances;
            let a = ec2
                .delete_fleets()
                .set_fleet_ids(Some(fleet_ids.clone()))
                .terminate_instances(terminate)
                .send()
                .await
                .doing(|| "DeleteFleets".to_owned())?;
            json!({
                "SuccessfulFleetDeletions": a.successful_fleet_deletions().iter().map(|d| json!({
                    "FleetId": d.fleet_id(),
                    "CurrentFleetState": d.current_fleet_state().map(|s| s.as_str()),
                    "PreviousFleetState": d.previous_fleet_state().map(|s| s.as_str()),
                })).collect::<Vec<_>>(),
                "UnsuccessfulFleetDeletions": a.unsuccessful_fleet_deletions().iter().map(|d| json!({
                    "FleetId": d.fleet_id(),
                    "Error": d.error().map(|e| json!({"Code": e.code().map(|c| c.as_str()), "Message": e.message()})),
                })).collect::<Vec<_>>(),
            })
        }
        Ec2Call::DescribeInstances {
            instance_ids,
            filters,
        } => {
            let filters = filters
                .iter()
                .map(|f| parse_filter(f))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mut reservations = Vec::new();
            let mut pages = ec2
                .describe_instances()
                .set_instance_ids((!instance_ids.is_empty()).then(|| instance_ids.clone()))
                .set_filters((!filters.is_empty()).then_some(filters))
                .into_paginator()
                .send();
            while let Some(a) = pages.next().await {
                let a = a.doing(|| "DescribeInstances".to_owned())?;
                for r in a.reservations() {
                    reservations.push(json!({
                        "ReservationId": r.reservation_id(),
                        "OwnerId": r.owner_id(),
                        "Instances": r.instances().iter().map(instance_json).collect::<Vec<_>>(),
                    }));
                }
            }
            json!({ "Reservations": reservations })
        }
        Ec2Call::DescribeSpotPriceHistory {
            instance_types,
            availability_zone,
            product_descriptions,
            max_items,
        } => {
            let mut prices = Vec::new();
            let mut pages = ec2
                .describe_spot_price_history()
                .set_instance_types(Some(
                    instance_types
                        .iter()
                        .map(|t| aws_sdk_ec2::types::InstanceType::from(t.as_str()))
                        .collect(),
                ))
                .set_availability_zone(availability_zone.clone())
                .set_product_descriptions(
                    (!product_descriptions.is_empty()).then(|| product_descriptions.clone()),
                )
                .into_paginator()
                .send();
            while let Some(a) = pages.next().await {
                let a = a.doing(|| "DescribeSpotPriceHistory".to_owned())?;
                for p in a.spot_price_history() {
                    prices.push(json!({
                        "AvailabilityZone": p.availability_zone(),
                        "InstanceType": p.instance_type().map(|t| t.as_str()),
                        "ProductDescription": p.product_description().map(|d| d.as_str()),
                        "SpotPrice": p.spot_price(),
                        "Timestamp": time(p.timestamp()),
                    }));
                }
                if max_items.is_some_and(|m| prices.len() >= m) {
                    break;
                }
            }
            if let Some(max) = max_items {
                prices.truncate(*max);
            }
            json!({ "SpotPriceHistory": prices })
        }
    };
    Ok(compact(answer))
}

/// `file://PATH` (the AWS CLI's form) or a path; `-` reads standard input.
fn read_input(spec: &str) -> anyhow::Result<String> {
    let path = spec.strip_prefix("file://").unwrap_or(spec);
    if path == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("reading the request from standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {path}"))
}

/// `Name=instance-state-name,Values=running,pending` (the AWS CLI's shorthand).
fn parse_filter(text: &str) -> anyhow::Result<Filter> {
    let (name, values) = text
        .strip_prefix("Name=")
        .and_then(|rest| rest.split_once(",Values="))
        .with_context(|| format!("--filters {text:?}: expected Name=NAME,Values=V1,V2"))?;
    Ok(Filter::builder()
        .name(name)
        .set_values(Some(values.split(',').map(str::to_owned).collect()))
        .build())
}

/// The answer as the AWS CLI prints it: JSON; text (one line per innermost object,
/// its scalar values tab-separated, prefixed by the list's name in upper case); or a
/// table of each list's objects.
pub fn render(answer: &Value, output: Ec2Output) -> String {
    match output {
        Ec2Output::Json => serde_json::to_string_pretty(answer).unwrap_or_default(),
        Ec2Output::Text => {
            let mut lines = Vec::new();
            text_lines(answer, "", &mut lines);
            lines.join("\n")
        }
        Ec2Output::Table => {
            let mut out = String::new();
            table_sections(answer, "", &mut out);
            out.trim_end().to_owned()
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_owned()),
        _ => None,
    }
}

fn text_lines(value: &Value, label: &str, lines: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let scalars: Vec<String> = map.values().filter_map(scalar).collect();
            if !scalars.is_empty() {
                let mut line = String::new();
                if !label.is_empty() {
                    line.push_str(&label.to_uppercase());
                    line.push('\t');
                }
                line.push_str(&scalars.join("\t"));
                lines.push(line);
            }
            for (key, v) in map {
                if matches!(v, Value::Object(_) | Value::Array(_)) {
                    text_lines(v, key, lines);
                }
            }
        }
        Value::Array(items) => {
            if items.iter().all(|i| scalar(i).is_some()) && !items.is_empty() {
                let values: Vec<String> = items.iter().filter_map(scalar).collect();
                lines.push(format!("{}\t{}", label.to_uppercase(), values.join("\t")));
            } else {
                for item in items {
                    text_lines(item, label, lines);
                }
            }
        }
        other => {
            if let Some(s) = scalar(other) {
                lines.push(s);
            }
        }
    }
}

fn table_sections(value: &Value, label: &str, out: &mut String) {
    match value {
        Value::Object(map) => {
            let scalars: Vec<(&String, String)> = map
                .iter()
                .filter_map(|(k, v)| scalar(v).map(|s| (k, s)))
                .collect();
            if !scalars.is_empty() {
                if !label.is_empty() {
                    out.push_str(&format!("{label}\n"));
                }
                let headers: Vec<&str> = scalars.iter().map(|(k, _)| k.as_str()).collect();
                let row: Vec<String> = scalars.into_iter().map(|(_, v)| v).collect();
                out.push_str(&crate::view::table(&headers, &[row]));
                out.push('\n');
            }
            for (key, v) in map {
                if matches!(v, Value::Object(_) | Value::Array(_)) {
                    table_sections(v, key, out);
                }
            }
        }
        Value::Array(items) => {
            let objects: Vec<&Map<String, Value>> =
                items.iter().filter_map(Value::as_object).collect();
            if objects.is_empty() {
                return;
            }
            let mut headers: Vec<&str> = Vec::new();
            for o in &objects {
                for (k, v) in o.iter() {
                    if scalar(v).is_some() && !headers.contains(&k.as_str()) {
                        headers.push(k);
                    }
                }
            }
            if !headers.is_empty() {
                let rows: Vec<Vec<String>> = objects
                    .iter()
                    .map(|o| {
                        headers
                            .iter()
                            .map(|h| o.get(*h).and_then(scalar).unwrap_or_default())
                            .collect()
                    })
                    .collect();
                out.push_str(&format!("{label}\n"));
                out.push_str(&crate::view::table(&headers, &rows));
                out.push('\n');
            }
            for o in objects {
                for (k, v) in o.iter() {
                    if matches!(v, Value::Object(_) | Value::Array(_)) {
                        table_sections(v, k, out);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_output_is_one_line_per_object_with_its_list_name() {
        let answer = json!({"Fleets": [{"FleetId": "fleet-1", "FulfilledCapacity": 4.0,
            "TargetCapacitySpecification": {"TotalTargetCapacity": 4}}]});
        assert_eq!(
            render(&answer, Ec2Output::Text),
            "FLEETS\tfleet-1\t4.0\nTARGETCAPACITYSPECIFICATION\t4"
        );
    }

    #[test]
    fn filters_use_the_cli_shorthand() {
        let f = parse_filter("Name=instance-state-name,Values=running,pending")
            .expect("the shorthand parses");
        assert_eq!(f.name(), Some("instance-state-name"));
        assert_eq!(f.values(), ["running", "pending"]);
        assert!(parse_filter("instance-state-name=running").is_err());
    }

    #[test]
    fn nulls_are_left_out() {
        assert_eq!(
            compact(json!({"A": null, "B": [{"C": null, "D": 1}]})),
            json!({"B": [{"D": 1}]})
        );
    }
}
