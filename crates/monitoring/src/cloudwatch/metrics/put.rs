//! PutMetricData's validation (fact sheet 2.1): the whole call is checked into
//! [`Datum`]s before anything is stored, so a refused call stores nothing.

use serde_json::{Map, Value};
use simtime::{SimDuration, SimTime};
use watch::metrics::{MetricId, Resolution, Sample, StatisticSet, Unit};

use super::input::{
    check_length, check_size, dimensions, invalid, item, list, number, number_value, object,
    object_at, path, required_string, timestamp, unit,
};
use crate::ApiError;

/// Largest magnitude CloudWatch accepts: 2^360.
const LIMIT: f64 = 2.348_542_582_773_833e108;
/// Datums per call (MetricData and EntityMetricData together).
const MAX_DATUMS: usize = 1_000;
/// Distinct values in one `Values` array.
const MAX_VALUES: usize = 150;
/// Dimensions per datum.
const MAX_DIMENSIONS: usize = 30;

/// A datum's value form, owned.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Form {
    Value(f64),
    Values(Vec<f64>, Option<Vec<f64>>),
    Set(StatisticSet),
}

/// One checked datum.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Datum {
    pub(super) metric: MetricId,
    pub(super) unit: Unit,
    pub(super) resolution: Resolution,
    pub(super) at: SimTime,
    pub(super) form: Form,
}

impl Datum {
    pub(super) fn sample(&self) -> Sample<'_> {
        match &self.form {
            Form::Value(v) => Sample::Value(*v),
            Form::Values(values, counts) => Sample::Values {
                values,
                counts: counts.as_deref(),
            },
            Form::Set(set) => Sample::StatisticSet(*set),
        }
    }
}

/// Checks a namespace: 1-255 characters, no leading `:`, not `AWS/` (reserved for AWS's
/// own services).
pub(super) fn check_namespace(namespace: &str, path: &str) -> Result<(), ApiError> {
    check_length(namespace, 1, 255, path)?;
    if namespace.starts_with(':') || !namespace.is_ascii() {
        return Err(invalid(namespace, path));
    }
    Ok(())
}

/// Validates a whole PutMetricData input.
pub(super) fn validate(input: &Value, now: SimTime) -> Result<Vec<Datum>, ApiError> {
    let input = object(input, "")?;
    let namespace = required_string(input, "Namespace", "")?;
    check_namespace(namespace, "Namespace")?;
    if namespace.starts_with("AWS/") {
        return Err(ApiError::invalid_value(format!(
            "The value {namespace} for parameter Namespace is not a valid value. \
             Namespaces beginning with AWS/ are reserved for AWS."
        )));
    }
    let mut lists: Vec<(String, &[Value])> = Vec::new();
    if let Some(items) = list(input, "MetricData", "")? {
        lists.push(("MetricData".to_owned(), items));
    }
    if let Some(entities) = list(input, "EntityMetricData", "")? {
        check_size(entities.len(), 2, "EntityMetricData")?;
        for (index, entity) in entities.iter().enumerate() {
            let entity_path = item("EntityMetricData", index);
            let entity = object_at(entity, &entity_path)?;
            if let Some(items) = list(entity, "MetricData", &entity_path)? {
                lists.push((path(&entity_path, "MetricData"), items));
            }
        }
    }
    let total: usize = lists.iter().map(|(_, items)| items.len()).sum();
    if total == 0 {
        return Err(ApiError::missing("MetricData"));
    }
    check_size(total, MAX_DATUMS, "MetricData")?;
    let mut datums = Vec::with_capacity(total);
    for (list_path, items) in lists {
        for (index, datum) in items.iter().enumerate() {
            let datum_path = item(&list_path, index);
            datums.push(validate_datum(namespace, datum, &datum_path, now)?);
        }
    }
    Ok(datums)
}

fn in_range(value: f64, path: &str) -> Result<f64, ApiError> {
    if value.abs() > LIMIT {
        return Err(invalid(value, path));
    }
    Ok(value)
}

fn validate_datum(
    namespace: &str,
    datum: &Value,
    prefix: &str,
    now: SimTime,
) -> Result<Datum, ApiError> {
    let datum = object_at(datum, prefix)?;
    let name = required_string(datum, "MetricName", prefix)?;
    check_length(name, 1, 255, &path(prefix, "MetricName"))?;
    let dimensions = dimensions(datum, "Dimensions", prefix, MAX_DIMENSIONS)?;
    let form = value_form(datum, prefix)?;
    let at = match timestamp(datum, "Timestamp", prefix)? {
        None => now,
        Some(at) => {
            let field = path(prefix, "Timestamp");
            if at < now - SimDuration::from_days(14) {
                return Err(ApiError::invalid_value(format!(
                    "The parameter {field} must specify a time no more than two weeks in the past."
                )));
            }
            if at > now + SimDuration::from_hours(2) {
                return Err(ApiError::invalid_value(format!(
                    "The parameter {field} must specify a time no more than two hours in the future."
                )));
            }
            at
        }
    };
    let unit = unit(datum, "Unit", prefix)?.unwrap_or(Unit::None);
    let resolution = match super::input::integer(datum, "StorageResolution", prefix)? {
        None => Resolution::Standard,
        Some(seconds) => Resolution::from_seconds(seconds)
            .ok_or_else(|| invalid(seconds, &path(prefix, "StorageResolution")))?,
    };
    Ok(Datum {
        metric: MetricId {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            dimensions,
        },
        unit,
        resolution,
        at,
        form,
    })
}

/// Exactly one of `Value`, `Values` (+ `Counts`), `StatisticValues`.
fn value_form(datum: &Map<String, Value>, prefix: &str) -> Result<Form, ApiError> {
    let present: Vec<&str> = ["Value", "Values", "StatisticValues"]
        .into_iter()
        .filter(|name| super::input::member(datum, name).is_some())
        .collect();
    let counts = list(datum, "Counts", prefix)?;
    match present.as_slice() {
        [] => Err(ApiError::missing(&format!(
            "{} or {} or {}",
            path(prefix, "Value"),
            path(prefix, "Values"),
            path(prefix, "StatisticValues")
        ))),
        [first, second, ..] => Err(ApiError::invalid_combination(format!(
            "The parameters {} and {} are mutually exclusive and you have specified both.",
            path(prefix, first),
            path(prefix, second)
        ))),
        ["Value"] | ["StatisticValues"] if counts.is_some() => {
            Err(ApiError::invalid_combination(format!(
                "The parameter {} may only be specified with {}.",
                path(prefix, "Counts"),
                path(prefix, "Values")
            )))
        }
        ["Value"] => {
            let field = path(prefix, "Value");
            let value = number(datum, "Value", prefix)?.ok_or_else(|| ApiError::missing(&field))?;
            Ok(Form::Value(in_range(value, &field)?))
        }
        ["Values"] => {
            let values_path = path(prefix, "Values");
            let items = list(datum, "Values", prefix)?.unwrap_or_default();
            check_size(items.len(), MAX_VALUES, &values_path)?;
            let values = items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let field = item(&values_path, i);
                    in_range(number_value(v, &field)?, &field)
                })
                .collect::<Result<Vec<f64>, ApiError>>()?;
            let counts = match counts {
                None => None,
                Some(counts) => {
                    let counts_path = path(prefix, "Counts");
                    if counts.len() != values.len() {
                        return Err(ApiError::invalid_value(format!(
                            "The parameters {values_path} and {counts_path} must be of the same size."
                        )));
                    }
                    let counts = counts
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            let field = item(&counts_path, i);
                            let count = number_value(c, &field)?;
                            if !(0.0..=LIMIT).contains(&count) {
                                return Err(invalid(count, &field));
                            }
                            Ok(count)
                        })
                        .collect::<Result<Vec<f64>, ApiError>>()?;
                    Some(counts)
                }
            };
            Ok(Form::Values(values, counts))
        }
        _ => statistic_set(datum, prefix).map(Form::Set),
    }
}

fn statistic_set(datum: &Map<String, Value>, prefix: &str) -> Result<StatisticSet, ApiError> {
    let set_path = path(prefix, "StatisticValues");
    let set = object_at(
        super::input::member(datum, "StatisticValues").unwrap_or(&Value::Null),
        &set_path,
    )?;
    let field = |name: &str| -> Result<f64, ApiError> {
        let value = number(set, name, &set_path)?
            .ok_or_else(|| ApiError::missing(&path(&set_path, name)))?;
        in_range(value, &path(&set_path, name))
    };
    let set = StatisticSet {
        sample_count: field("SampleCount")?,
        sum: field("Sum")?,
        minimum: field("Minimum")?,
        maximum: field("Maximum")?,
    };
    if set.sample_count <= 0.0 {
        return Err(invalid(set.sample_count, &path(&set_path, "SampleCount")));
    }
    if set.minimum > set.maximum {
        return Err(ApiError::invalid_value(format!(
            "The parameter {} must not be greater than {}.",
            path(&set_path, "Minimum"),
            path(&set_path, "Maximum")
        )));
    }
    Ok(set)
}
