//! The exit summary: what the run did, as text or JSON. Pure formatting.

use std::fmt::Write as _;

use agent_wire::{Checkpoint, Latency, Outcome};
use serde::Serialize;

/// Everything the summary shows.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The run's checkpoint (totals, histograms, reason).
    pub checkpoint: Checkpoint,
    /// Where the checkpoint was written, or why it was not.
    pub checkpoint_location: Result<String, String>,
    /// Per sink: (description, delivered, undelivered).
    pub sinks: Vec<(String, u64, u64)>,
}

fn percentiles(latency: &Latency) -> String {
    let ms = |us: u64| us as f64 / 1000.0;
    format!(
        "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms",
        ms(latency.quantile_micros(0.5)),
        ms(latency.quantile_micros(0.9)),
        ms(latency.quantile_micros(0.99)),
        ms(latency.quantile_micros(0.999)),
        ms(latency.max_micros()),
    )
}

impl Summary {
    /// The human form.
    pub fn to_text(&self) -> String {
        let c = &self.checkpoint;
        let t = &c.totals;
        let mut out = String::new();
        let span_ms = match (c.first_send, c.last_send) {
            (Some(first), Some(last)) => last.saturating_since(first).as_millis(),
            _ => 0,
        };
        let rate = if span_ms > 0 {
            (t.sent.saturating_sub(1)) as f64 * 1000.0 / span_ms as f64
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "spotlab agent: {} callers x {}/s, stopped: {}",
            c.callers,
            c.rate_per_caller,
            reason(c)
        );
        let _ = writeln!(
            out,
            "  requests  {} sent ({rate:.2}/s), {} completed, {} late, {} skipped, {} reports",
            t.sent,
            t.completed(),
            t.late,
            t.skipped,
            c.reports
        );
        let classes: Vec<String> = Outcome::ALL
            .iter()
            .filter(|&&o| t.get(o) > 0 || o == Outcome::Success)
            .map(|&o| format!("{} {}", o.as_str(), t.get(o)))
            .collect();
        let _ = writeln!(
            out,
            "  outcomes  {} (error rate {:.2}%)",
            classes.join(", "),
            t.error_rate() * 100.0
        );
        let _ = writeln!(
            out,
            "  latency from schedule  {}",
            percentiles(&c.latency_scheduled)
        );
        let _ = writeln!(
            out,
            "  latency from send      {}",
            percentiles(&c.latency_actual)
        );
        for (sink, delivered, undelivered) in &self.sinks {
            let _ = writeln!(
                out,
                "  reports to {sink}: {delivered} delivered, {undelivered} undelivered"
            );
        }
        let _ = match &self.checkpoint_location {
            Ok(location) => writeln!(out, "  checkpoint  {location}"),
            Err(error) => writeln!(out, "  checkpoint  NOT WRITTEN: {error}"),
        };
        out
    }
}

fn reason(c: &Checkpoint) -> String {
    match &c.reason {
        agent_wire::StopReason::SpotInterruption { action, time } => {
            format!(
                "Spot interruption notice ({action} at {})",
                time.to_iso_seconds()
            )
        }
        agent_wire::StopReason::RebalanceRecommendation { notice_time } => {
            format!(
                "rebalance recommendation ({})",
                notice_time.to_iso_seconds()
            )
        }
        agent_wire::StopReason::Signal { signal } => signal.clone(),
        agent_wire::StopReason::Finished => "duration reached".to_owned(),
    }
}
