//! The world's event log: one ordered list of everything that happened, with a stable
//! one-line text form (the `simulate` timeline, the scenario snapshots) and a JSON form.

use std::fmt;

use fleet::Event;
use market::{MarketEvent, Pool, Price};
use serde::Serialize;
use simtime::SimTime;

use crate::Injection;

/// One thing that happened, at its virtual time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogEntry {
    /// When.
    pub at: SimTime,
    /// What.
    #[serde(flatten)]
    pub record: LogRecord,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LogRecord {
    /// Fleet engine events: launches, notices, terminations, fleet states.
    Fleet(Event),
    /// Market events: price changes, capacity shortfalls.
    Market(#[serde(serialize_with = "market_event")] MarketEvent),
    /// An injected fault.
    Injected(Injection),
}

fn market_event<S: serde::Serializer>(
    event: &MarketEvent,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(tag = "event", rename_all = "snake_case")]
    enum Shape {
        PriceChange { pool: Pool, price: Price },
        CapacityShortfall { pool: Pool, excess: u32 },
    }
    match *event {
        MarketEvent::PriceChanged { pool, price, .. } => {
            Shape::PriceChange { pool, price }.serialize(serializer)
        }
        MarketEvent::CapacityShortfall { pool, excess, .. } => {
            Shape::CapacityShortfall { pool, excess }.serialize(serializer)
        }
    }
}

impl fmt::Display for LogEntry {
    /// `2026-01-01T00:00:20Z  running        i-0123...`: time, a fixed-width verb, details.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (verb, details) = match &self.record {
            LogRecord::Fleet(event) => fleet_line(event),
            LogRecord::Market(MarketEvent::PriceChanged { pool, price, .. }) => {
                ("price", format!("{pool} {price}/h"))
            }
            LogRecord::Market(MarketEvent::CapacityShortfall { pool, excess, .. }) => {
                ("shortfall", format!("{pool} reclaims {excess}"))
            }
            LogRecord::Injected(injection) => ("inject", injection_line(injection)),
        };
        write!(f, "{}  {verb:<13} {details}", self.at)
    }
}

fn fleet_line(event: &Event) -> (&'static str, String) {
    match event {
        Event::FleetState { fleet, state, .. } => ("fleet", format!("{fleet} {}", state.as_str())),
        Event::Launched {
            instance,
            pool,
            lifecycle,
            price,
            replacement,
            ..
        } => (
            if *replacement { "replace" } else { "launch" },
            format!("{instance} {pool} {} {price}/h", lifecycle.as_str()),
        ),
        Event::LaunchFailed {
            pool,
            lifecycle,
            code,
            ..
        } => (
            "launch-error",
            format!("{pool} {} {code}", lifecycle.as_str()),
        ),
        Event::Running { instance, .. } => ("running", instance.to_string()),
        Event::Resumed { instance, pool, .. } => ("resume", format!("{instance} {pool}")),
        Event::Notice {
            instance, notice, ..
        } => (
            "notice",
            format!(
                "{instance} {} at {} ({})",
                notice.action.as_str(),
                notice.action_at,
                notice.reason.as_str()
            ),
        ),
        Event::Rebalance { instance, .. } => ("rebalance", instance.to_string()),
        Event::Stopping {
            instance, state, ..
        } => (*state, instance.to_string()),
        Event::Terminated { instance, pool, .. } => ("terminated", format!("{instance} {pool}")),
        Event::Stopped { instance, pool, .. } => ("stopped", format!("{instance} {pool}")),
    }
}

fn injection_line(injection: &Injection) -> String {
    match injection {
        Injection::DropCapacity { pool, level, until } => match until {
            Some(until) => format!("drop-capacity {pool} to {level} until {until}"),
            None => format!("drop-capacity {pool} to {level}"),
        },
        Injection::RestoreCapacity { pool } => format!("restore-capacity {pool}"),
        Injection::Interrupt { instances } => format!(
            "interrupt {}",
            instances
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Injection::Rebalance { instances } => format!(
            "rebalance {}",
            instances
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}
