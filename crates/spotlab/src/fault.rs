//! `spotlab fault`: sends a fault to the local cloud's fault-injection API and prints
//! what it did.

use std::io::Write as _;

use anyhow::{Context as _, bail};
use ec2::{FaultRequest, Targets};
use serde_json::Value;

use crate::cli::{Fault, FaultArgs, TargetArgs};

fn targets(args: TargetArgs, percent: u32) -> Targets {
    match (args.fleet, args.pool) {
        (Some(fleet_id), _) => Targets::Fleet { fleet_id, percent },
        (None, Some((instance_type, availability_zone))) => Targets::Pool {
            instance_type,
            availability_zone,
            percent,
        },
        (None, None) => Targets::Instances(args.instances),
    }
}

/// Runs the command.
pub fn run(args: FaultArgs) -> anyhow::Result<()> {
    let request = match args.fault {
        Fault::Interrupt {
            targets: t,
            percent,
            before,
        } => FaultRequest::Interrupt {
            targets: targets(t, percent),
            before_ms: before.map(|d| d.as_millis()),
        },
        Fault::Rebalance {
            targets: t,
            percent,
        } => FaultRequest::Rebalance {
            targets: targets(t, percent),
        },
        Fault::DropCapacity {
            pool: (instance_type, availability_zone),
            level,
            duration,
        } => FaultRequest::DropCapacity {
            instance_type,
            availability_zone,
            level,
            for_ms: duration.map(|d| d.as_millis()),
        },
        Fault::RestoreCapacity {
            pool: (instance_type, availability_zone),
        } => FaultRequest::RestoreCapacity {
            instance_type,
            availability_zone,
        },
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let url = args.endpoint.endpoint.join("/spotlab/v1/faults")?;
    let (status, body) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(url.clone())
            .json(&request)
            .send()
            .await
            .with_context(|| {
                format!("cannot reach the local cloud at {}", args.endpoint.endpoint)
            })?;
        let status = response.status();
        let body: Value = response.json().await.context("the answer is not JSON")?;
        anyhow::Ok((status, body))
    })?;
    if !status.is_success() {
        bail!(
            "{}: {}",
            body["code"].as_str().unwrap_or("Error"),
            body["message"].as_str().unwrap_or_default()
        );
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
    Ok(())
}
