//! Events: EventBridge's envelope (fact sheet 5.1), `PutEvents`, `TestEventPattern`,
//! and routing an event to the targets of the enabled rules it matches.

use serde_json::{Map, Value, json};
use simtime::SimTime;
use watch::pattern::Pattern;

use super::input::{DEFAULT_BUS, bus_name, constraint, required_str, validation};
use super::{Delivery, EventBridge};
use crate::ApiError;

/// The envelope's fields in the order AWS writes them.
const ENVELOPE: [&str; 9] = [
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
];

/// The fields `TestEventPattern` requires of its event. (The API reference also names
/// `resources`, but EventBridge accepts events without it.)
const REQUIRED_TEST_FIELDS: [&str; 6] =
    ["id", "account", "source", "time", "region", "detail-type"];

/// An event as compact JSON, the envelope's fields first in AWS's order (`version`,
/// `id`, `detail-type`, `source`, `account`, `time`, `region`, `resources`, `detail`),
/// any others after them by name. This is what a target without input settings gets.
pub fn event_text(event: &Value) -> String {
    let Value::Object(fields) = event else {
        return event.to_string();
    };
    let known = ENVELOPE
        .iter()
        .filter_map(|key| fields.get(*key).map(|v| (*key, v)));
    let others = fields
        .iter()
        .filter(|(key, _)| !ENVELOPE.contains(&key.as_str()))
        .map(|(key, value)| (key.as_str(), value));
    let parts: Vec<String> = known
        .chain(others)
        .map(|(key, value)| format!("{}:{value}", Value::String(key.to_owned())))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// One `PutEvents` entry that failed on its own.
struct EntryError {
    code: &'static str,
    message: String,
}

impl EntryError {
    fn invalid_argument(message: impl Into<String>) -> EntryError {
        EntryError {
            code: "InvalidArgument",
            message: message.into(),
        }
    }
}

/// A checked `PutEvents` entry.
struct Entry {
    bus: String,
    source: String,
    detail_type: String,
    resources: Vec<String>,
    detail: Value,
    time: SimTime,
}

impl EventBridge {
    /// An event in EventBridge's envelope with a fresh id from the seeded stream, for
    /// events the region publishes itself (alarm state changes).
    pub fn event(
        &mut self,
        source: &str,
        detail_type: &str,
        resources: &[String],
        detail: Value,
        time: SimTime,
    ) -> Value {
        let id = self.new_id();
        json!({
            "version": "0",
            "id": id,
            "detail-type": detail_type,
            "source": source,
            "account": self.account,
            "time": time.to_iso_seconds(),
            "region": self.region,
            "resources": resources,
            "detail": detail,
        })
    }

    /// The deliveries `event` makes on the `default` bus: one per target of every
    /// enabled rule whose pattern it matches, rules by name, targets by id.
    pub fn route(&self, event: &Value) -> Vec<Delivery> {
        self.route_on(DEFAULT_BUS, event)
    }

    /// The deliveries `event` makes on bus `bus`.
    pub fn route_on(&self, bus: &str, event: &Value) -> Vec<Delivery> {
        let Some(rules) = self.buses.get(bus) else {
            return Vec::new();
        };
        rules
            .values()
            .filter(|rule| rule.state.enabled())
            .filter(|rule| {
                rule.event_pattern
                    .as_ref()
                    .is_some_and(|(_, pattern)| pattern.matches(event))
            })
            .flat_map(|rule| {
                rule.targets.values().map(move |target| Delivery {
                    rule_arn: rule.arn.clone(),
                    target_id: target.id.clone(),
                    target_arn: target.arn.clone(),
                    payload: target.payload(rule, event),
                })
            })
            .collect()
    }

    /// `PutEvents`: 1 to 10 entries; an entry missing `Source`, `DetailType` or
    /// `Detail` fails with `InvalidArgument`, one whose `Detail` is not a JSON object
    /// with `MalformedDetail`, the others are put (time defaulting to `now`) and routed,
    /// their deliveries going to the outbox. Results are in request order.
    pub fn put_events(&mut self, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        let entries = match input.get("Entries") {
            None | Some(Value::Null) => {
                return Err(constraint(None, "entries", "Member must not be null"));
            }
            Some(Value::Array(entries)) => entries,
            Some(_) => {
                return Err(validation(
                    "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must be a list",
                ));
            }
        };
        if entries.is_empty() {
            return Err(constraint(
                Some("[]"),
                "entries",
                "Member must have length greater than or equal to 1",
            ));
        }
        if entries.len() > 10 {
            return Err(constraint(
                Some(&format!("[{} entries]", entries.len())),
                "entries",
                "Member must have length less than or equal to 10",
            ));
        }
        let checked = entries
            .iter()
            .enumerate()
            .map(|(index, entry)| check_entry(entry, index + 1, now))
            .collect::<Result<Vec<_>, ApiError>>()?;
        let mut results = Vec::with_capacity(checked.len());
        let mut failed = 0usize;
        for entry in checked {
            match entry {
                Ok(entry) => {
                    let event = self.event(
                        &entry.source,
                        &entry.detail_type,
                        &entry.resources,
                        entry.detail,
                        entry.time,
                    );
                    let deliveries = self.route_on(&entry.bus, &event);
                    self.outbox.extend(deliveries);
                    results.push(json!({ "EventId": event["id"] }));
                    if entry.bus == DEFAULT_BUS {
                        self.put.push(event);
                    }
                }
                Err(error) => {
                    failed += 1;
                    results.push(json!({ "ErrorCode": error.code, "ErrorMessage": error.message }));
                }
            }
        }
        Ok(json!({ "FailedEntryCount": failed, "Entries": results }))
    }

    /// `TestEventPattern`: `{"Result": bool}`. The event must be a JSON object with
    /// `id`, `account`, `source`, `time`, `region` and `detail-type`
    /// (`ValidationException` otherwise); a bad pattern is
    /// `InvalidEventPatternException`.
    pub fn test_event_pattern(&self, input: &Value) -> Result<Value, ApiError> {
        let pattern_text = required_str(input, "EventPattern", "eventPattern")?;
        let event_text = required_str(input, "Event", "event")?;
        let event: Value = serde_json::from_str(event_text)
            .map_err(|_| validation("Parameter Event is not valid."))?;
        let complete = event
            .as_object()
            .is_some_and(|fields| REQUIRED_TEST_FIELDS.iter().all(|f| fields.contains_key(*f)));
        if !complete {
            return Err(validation("Parameter Event is not valid."));
        }
        let pattern = Pattern::parse(pattern_text)
            .map_err(|e| ApiError::new("InvalidEventPatternException", e.to_string()))?;
        Ok(json!({ "Result": pattern.matches(&event) }))
    }

    /// A fresh version-4 UUID from the seeded stream.
    fn new_id(&mut self) -> String {
        use rand::Rng;
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string()
    }
}

/// Checks entry `number` (1-based). The outer error fails the call (a malformed
/// request); the inner one fails this entry only.
fn check_entry(
    entry: &Value,
    number: usize,
    now: SimTime,
) -> Result<Result<Entry, EntryError>, ApiError> {
    let member = |field: &str| format!("entries.{number}.member.{field}");
    let Value::Object(fields) = entry else {
        return Err(constraint(
            None,
            &format!("entries.{number}.member"),
            "Member must not be null",
        ));
    };
    let text = |name: &str, wire: &str| -> Result<Option<String>, ApiError> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(validation(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must be a string",
                member(wire)
            ))),
        }
    };
    let source = text("Source", "source")?;
    let detail_type = text("DetailType", "detailType")?;
    let detail = text("Detail", "detail")?;
    let bus = bus_name(&Value::Object(fields_subset(fields, "EventBusName")))?;
    let resources = resources(fields.get("Resources"), &member("resources"))?;
    let time = match fields.get("Time") {
        None | Some(Value::Null) => Some(now),
        Some(Value::Number(seconds)) => seconds
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| SimTime::from_millis((s * 1000.0) as u64)),
        Some(Value::String(text)) => SimTime::parse(text).ok(),
        Some(_) => None,
    };
    let Some(source) = source.filter(|s| !s.is_empty()) else {
        return Ok(Err(EntryError::invalid_argument(
            "Parameter Source is not valid. Reason: Source is a required argument.",
        )));
    };
    let Some(detail_type) = detail_type.filter(|s| !s.is_empty()) else {
        return Ok(Err(EntryError::invalid_argument(
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
        )));
    };
    let Some(detail) = detail.filter(|s| !s.is_empty()) else {
        return Ok(Err(EntryError::invalid_argument(
            "Parameter Detail is not valid. Reason: Detail is a required argument.",
        )));
    };
    let Some(time) = time else {
        return Ok(Err(EntryError::invalid_argument(
            "Parameter Time is not valid.",
        )));
    };
    let detail = match serde_json::from_str::<Value>(&detail) {
        Ok(detail @ Value::Object(_)) => detail,
        _ => {
            return Ok(Err(EntryError {
                code: "MalformedDetail",
                message: "Detail is malformed.".to_owned(),
            }));
        }
    };
    Ok(Ok(Entry {
        bus,
        source,
        detail_type,
        resources,
        detail,
        time,
    }))
}

/// A map holding only `name` of `fields`, to read it with the shared helpers.
fn fields_subset(fields: &Map<String, Value>, name: &str) -> Map<String, Value> {
    fields
        .get(name)
        .map(|value| Map::from_iter([(name.to_owned(), value.clone())]))
        .unwrap_or_default()
}

/// `Resources`: a list of strings, empty when absent.
fn resources(value: Option<&Value>, member: &str) -> Result<Vec<String>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    validation(format!(
                        "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must be a list of strings"
                    ))
                })
            })
            .collect(),
        Some(_) => Err(validation(format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must be a list"
        ))),
    }
}
