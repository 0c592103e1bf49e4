//! On `stack down`, first of all: the fleets launched from the stack's launch template
//! are deleted with their instances, any other instance launched from it is
//! terminated, and `down` waits until none is left running (subnets cannot go while
//! instances use them).

use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, FleetStateCode};

use super::network::filter;
use super::note;
use super::spec::Stack;
use super::template;
use crate::aws::{Context as _, next_token, required};

/// Deletes the fleets that launch from the stack's templates (terminating their
/// instances), terminates any other instance launched from them, and waits, for up
/// to `wait`, until none of those instances is left running.
pub async fn stop(ec2: &Client, stack: &Stack, wait: Duration) -> anyhow::Result<()> {
    let templates = template::of_stack(ec2, stack).await?;
    if templates.is_empty() {
        return Ok(());
    }
    let mut fleets = Vec::new();
    let mut token = None;
    loop {
        let page = ec2
            .describe_fleets()
            .set_next_token(token)
            .send()
            .await
            .doing(|| "listing fleets".to_owned())?;
        for fleet in page.fleets() {
            let live = !matches!(
                fleet.fleet_state(),
                Some(
                    FleetStateCode::Deleted
                        | FleetStateCode::DeletedRunning
                        | FleetStateCode::DeletedTerminatingInstances
                )
            );
            let ours = fleet.launch_template_configs().iter().any(|config| {
                config.launch_template_specification().is_some_and(|spec| {
                    templates.iter().any(|(id, name)| {
                        spec.launch_template_id() == Some(id.as_str())
                            || spec.launch_template_name() == Some(name.as_str())
                    })
                })
            });
            if live && ours {
                fleets.push(required(fleet.fleet_id(), "DescribeFleets", "FleetId")?.to_owned());
            }
        }
        token = next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    for chunk in fleets.chunks(25) {
        let deleted = ec2
            .delete_fleets()
            .set_fleet_ids(Some(chunk.to_vec()))
            .terminate_instances(true)
            .send()
            .await
            .doing(|| format!("deleting fleets {}", chunk.join(", ")))?;
        if let Some(failure) = deleted.unsuccessful_fleet_deletions().first() {
            let error = failure.error();
            bail!(
                "deleting fleet {}: {}: {}",
                failure.fleet_id().unwrap_or_default(),
                error
                    .and_then(|e| e.code())
                    .map(|c| c.as_str())
                    .unwrap_or("unknown"),
                error.and_then(|e| e.message()).unwrap_or_default()
            );
        }
        note(stack, &format!("deleted fleet(s) {}", chunk.join(", ")));
    }
    let template_ids: Vec<&str> = templates.iter().map(|(id, _)| id.as_str()).collect();
    let launched = filter("tag:aws:ec2launchtemplate:id", &template_ids);
    let to_terminate = instances(
        ec2,
        &launched,
        &["pending", "running", "stopping", "stopped"],
    )
    .await?;
    for chunk in to_terminate.chunks(100) {
        ec2.terminate_instances()
            .set_instance_ids(Some(chunk.to_vec()))
            .send()
            .await
            .doing(|| format!("terminating {}", chunk.join(", ")))?;
    }
    let deadline = Instant::now() + wait;
    let mut reported = false;
    loop {
        let left = instances(
            ec2,
            &launched,
            &["pending", "running", "shutting-down", "stopping", "stopped"],
        )
        .await?;
        if left.is_empty() {
            return Ok(());
        }
        if !reported {
            note(
                stack,
                &format!("waiting for {} instance(s) to terminate", left.len()),
            );
            reported = true;
        }
        ensure!(
            Instant::now() < deadline,
            "instances still not terminated after {}s: {}",
            wait.as_secs(),
            left.join(", ")
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn instances(ec2: &Client, which: &Filter, states: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = ec2
            .describe_instances()
            .filters(which.clone())
            .filters(filter("instance-state-name", states))
            .set_next_token(token)
            .send()
            .await
            .doing(|| "listing the instances launched from the stack's template".to_owned())?;
        ids.extend(
            page.reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter_map(|i| i.instance_id())
                .map(str::to_owned),
        );
        token = next_token(page.next_token());
        if token.is_none() {
            return Ok(ids);
        }
    }
}
