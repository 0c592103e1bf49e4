//! `spotlab events`: prints the local cloud's event bus, once or as it grows.

use std::io::Write as _;

use anyhow::Context as _;
use futures_util::StreamExt as _;
use serde_json::Value;

use crate::cli::{EventsArgs, Format};

/// Runs the command.
pub fn run(args: EventsArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let mut url = args.endpoint.endpoint.join("/spotlab/v1/events")?;
        url.query_pairs_mut()
            .append_pair("after", &args.after.to_string())
            .append_pair("follow", &args.follow.to_string());
        let response = reqwest::Client::new()
            .get(url.clone())
            .send()
            .await
            .with_context(|| format!("cannot reach the local cloud at {}", args.endpoint.endpoint))?
            .error_for_status()
            .with_context(|| format!("{url}"))?;
        let mut body = response.bytes_stream();
        let mut pending: Vec<u8> = Vec::new();
        while let Some(chunk) = body.next().await {
            pending.extend_from_slice(&chunk.context("reading events")?);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                print_event(&line[..line.len() - 1], args.format)?;
            }
        }
        Ok(())
    })
}

fn print_event(line: &[u8], format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            out.write_all(line)?;
            out.write_all(b"\n")?;
        }
        Format::Text => {
            let value: Value = serde_json::from_slice(line).context("event is not JSON")?;
            writeln!(out, "{}", text_line(&value))?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `seq  time  detail-type  what`.
fn text_line(value: &Value) -> String {
    let event = &value["event"];
    let detail = &event["detail"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let what = match text(&event["detail-type"]).as_str() {
        "EC2 Spot Instance Interruption Warning" => format!(
            "{} {}",
            text(&detail["instance-id"]),
            text(&detail["instance-action"])
        ),
        "EC2 Instance State-change Notification" => {
            format!(
                "{} {}",
                text(&detail["instance-id"]),
                text(&detail["state"])
            )
        }
        "EC2 Instance Rebalance Recommendation" => text(&detail["instance-id"]),
        _ => {
            let fleet = event["resources"][0]
                .as_str()
                .and_then(|r| r.rsplit('/').next())
                .unwrap_or_default()
                .to_owned();
            let mut parts = vec![fleet, text(&detail["sub-type"])];
            for key in ["instance-id", "description"] {
                let v = text(&detail[key]);
                if !v.is_empty() {
                    parts.push(v);
                }
            }
            parts.join(" ")
        }
    };
    format!(
        "{:>6}  {}  {:<40} {what}",
        value["seq"].as_u64().unwrap_or_default(),
        text(&event["time"]),
        text(&event["detail-type"])
    )
}
