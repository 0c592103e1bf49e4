//! ListMetrics: filters with name-only dimension matching, each metric once, pages of
//! 500 with an opaque `NextToken`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};
use watch::metrics::{ListFilter, MetricId, Store};

use super::input::{
    check_size, invalid, item, list, metric_json, object, object_at, required_string, string,
};
use crate::ApiError;

/// Metrics per page.
pub(super) const PAGE: usize = 500;

/// How long a metric stays listed after its latest datum.
const LISTED_FOR: SimDuration = SimDuration::from_days(14);

fn encode_token(after: &MetricId) -> String {
    // A MetricId always serialises.
    let text = serde_json::to_string(after).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(text)
}

fn decode_token(token: &str) -> Option<MetricId> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub(super) fn list_metrics(store: &Store, input: &Value, now: SimTime) -> Result<Value, ApiError> {
    let input = object(input, "")?;
    let mut filter = ListFilter {
        namespace: string(input, "Namespace", "")?.map(str::to_owned),
        name: string(input, "MetricName", "")?.map(str::to_owned),
        dimensions: Vec::new(),
        active_since: Some(now - LISTED_FOR),
    };
    let dimension_filters = list(input, "Dimensions", "")?.unwrap_or_default();
    check_size(dimension_filters.len(), 10, "Dimensions")?;
    for (index, entry) in dimension_filters.iter().enumerate() {
        let entry_path = item("Dimensions", index);
        let entry = object_at(entry, &entry_path)?;
        let name = required_string(entry, "Name", &entry_path)?;
        let value = string(entry, "Value", &entry_path)?;
        filter
            .dimensions
            .push((name.to_owned(), value.map(str::to_owned)));
    }
    match string(input, "RecentlyActive", "")? {
        None => {}
        Some("PT3H") => filter.active_since = Some(now - SimDuration::from_hours(3)),
        Some(other) => return Err(invalid(other, "RecentlyActive")),
    }
    let after = match string(input, "NextToken", "")? {
        None => None,
        Some(token) => Some(decode_token(token).ok_or_else(|| invalid(token, "NextToken"))?),
    };
    let mut page: Vec<&MetricId> = store.list(&filter, after.as_ref()).take(PAGE + 1).collect();
    let more = page.len() > PAGE;
    page.truncate(PAGE);
    let metrics: Vec<Value> = page.iter().map(|metric| metric_json(metric)).collect();
    let mut out = json!({ "Metrics": metrics });
    if more && let Some(last) = page.last() {
        out["NextToken"] = json!(encode_token(last));
    }
    Ok(out)
}
