//! `spotlab events`: prints the local cloud's event bus (`GET /spotlab/v1/events`, JSON
//! lines of EventBridge envelopes), once or as it grows, optionally only the events an
//! EventBridge pattern matches (matched here, with `watch`'s pattern language, the one
//! the cloud's rules use). There is no AWS API to read a bus, so this is local only.

use std::io::Write as _;

use anyhow::Context as _;
use futures_util::StreamExt as _;
use serde_json::Value;

use crate::cli::{EventFilter, EventsArgs, Format};

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
                print_event(&line[..end], args.pattern.as_ref(), args.format)?;
            }
        }
        Ok(())
    })
}

fn print_event(line: &[u8], pattern: Option<&EventFilter>, format: Format) -> anyhow::Result<()> {
    let value: Value = serde_json::from_slice(line).context("a bus line is not JSON")?;
    if pattern.is_some_and(|EventFilter(p)| !p.matches(&value["event"])) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            out.write_all(line)?;
            out.write_all(b"\n")?;
        }
        Format::Text => writeln!(out, "{}", text_line(&value))?,
    }
    out.flush()?;
    Ok(())
}

/// `seq  time  detail-type  resource  details`.
fn text_line(value: &Value) -> String {
    let event = &value["event"];
    let (resource, details) = summary(event);
    let line = format!(
        "{:>6}  {}  {:<40} {resource}  {details}",
        value["seq"].as_u64().unwrap_or_default(),
        text(&event["time"]),
        text(&event["detail-type"])
    );
    line.trim_end().to_owned()
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// What an event is about (an instance, a fleet, an alarm...) and its key details.
fn summary(event: &Value) -> (String, String) {
    let detail = &event["detail"];
    let instance = text(&detail["instance-id"]).to_owned();
    match text(&event["detail-type"]) {
        "EC2 Spot Instance Interruption Warning" => {
            (instance, text(&detail["instance-action"]).to_owned())
        }
        "EC2 Instance State-change Notification" => (instance, text(&detail["state"]).to_owned()),
        "EC2 Instance Rebalance Recommendation" => (instance, String::new()),
        "CloudWatch Alarm State Change" => (
            text(&detail["alarmName"]).to_owned(),
            format!(
                "{} -> {}: {}",
                text(&detail["previousState"]["value"]),
                text(&detail["state"]["value"]),
                text(&detail["state"]["reason"])
            ),
        ),
        fleet if fleet.starts_with("EC2 Fleet") => {
            let fleet = text(&event["resources"][0])
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            let details: Vec<&str> = ["sub-type", "instance-id", "description"]
                .into_iter()
                .map(|key| text(&detail[key]))
                .filter(|v| !v.is_empty())
                .collect();
            (fleet, details.join(" "))
        }
        // Anything else (PutEvents' own): the first resource, or the source; the
        // detail as compact JSON.
        _ => {
            let resource = event["resources"][0]
                .as_str()
                .unwrap_or_else(|| text(&event["source"]))
                .to_owned();
            let mut details = detail.to_string();
            if details.chars().count() > 160 {
                details = details.chars().take(157).collect::<String>() + "...";
            }
            (resource, details)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn one_line_per_event() {
        let cases = [
            (
                json!({"seq": 3, "event": {"time": "2026-01-01T00:00:00Z",
                    "detail-type": "EC2 Spot Instance Interruption Warning",
                    "detail": {"instance-id": "i-1", "instance-action": "terminate"}}}),
                "     3  2026-01-01T00:00:00Z  EC2 Spot Instance Interruption Warning   i-1  terminate",
            ),
            (
                json!({"seq": 4, "event": {"time": "2026-01-01T00:01:00Z",
                    "detail-type": "CloudWatch Alarm State Change",
                    "detail": {"alarmName": "errors", "state": {"value": "ALARM", "reason": "set"},
                        "previousState": {"value": "OK"}}}}),
                "     4  2026-01-01T00:01:00Z  CloudWatch Alarm State Change            errors  OK -> ALARM: set",
            ),
            (
                json!({"seq": 5, "event": {"time": "2026-01-01T00:02:00Z",
                    "detail-type": "EC2 Fleet Instance Change",
                    "resources": ["arn:aws:ec2:us-east-1:000000000000:fleet/fleet-1"],
                    "detail": {"sub-type": "launched", "instance-id": "i-2"}}}),
                "     5  2026-01-01T00:02:00Z  EC2 Fleet Instance Change                fleet-1  launched i-2",
            ),
            (
                json!({"seq": 6, "event": {"time": "2026-01-01T00:03:00Z",
                    "detail-type": "Order Placed", "source": "com.example", "resources": [],
                    "detail": {"order": 1}}}),
                "     6  2026-01-01T00:03:00Z  Order Placed                             com.example  {\"order\":1}",
            ),
        ];
        for (value, want) in cases {
            assert_eq!(text_line(&value), want);
        }
    }
}
