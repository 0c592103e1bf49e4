//! The query protocol's request side: a form-encoded body (and/or URL query string) with
//! `Action`, `Version` and parameters whose keys are dot paths.
//!
//! `LaunchTemplateConfigs.1.Overrides.2.InstanceType=c5.large` becomes
//! `{"LaunchTemplateConfigs": [{"Overrides": [{}, {"InstanceType": "c5.large"}]}]}`: a
//! path segment that is a positive integer indexes a list (1-based, as every AWS client
//! sends them), any other segment names a structure member. Every leaf stays a string;
//! typing and renaming (a list's wire name often differs from its member name, e.g.
//! `TagSpecification.N` for `TagSpecifications`) belong to each operation's decoder,
//! which knows the shape. What this module guarantees is that any body decodes into one
//! unambiguous tree or a precise error, never a panic.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Largest list index accepted; AWS's own limits are far below it, and it bounds the
/// memory a hostile body can ask for.
pub const MAX_INDEX: usize = 10_000;

/// Why a query request could not be decoded. Each maps to an AWS client error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// No `Action` parameter (AWS: `MissingAction`).
    #[error("the request must contain the parameter Action")]
    MissingAction,
    /// A parameter name that is not a dot path of non-empty segments.
    #[error("invalid parameter name {0:?}")]
    BadName(String),
    /// A list index of 0 or above [`MAX_INDEX`].
    #[error("invalid list index in {0:?}: indices run from 1 to {MAX_INDEX}")]
    BadIndex(String),
    /// The same path used as a value and as a structure or list, or given twice.
    #[error("conflicting values for parameter {0:?}")]
    Conflict(String),
}

/// A decoded query request.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    /// The `Action` parameter.
    pub action: String,
    /// The `Version` parameter, if sent.
    pub version: Option<String>,
    /// Every other parameter, as a tree (a JSON object).
    pub params: Value,
}

/// Decodes a request from its URL query string and form body (both may carry
/// parameters; the body wins on a clash, as it is what signed clients send).
pub fn decode(url_query: &str, body: &[u8]) -> Result<QueryRequest, QueryError> {
    let mut flat: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(url_query.as_bytes()) {
        flat.insert(key.into_owned(), value.into_owned());
    }
    let mut seen_in_body = std::collections::BTreeSet::new();
    for (key, value) in form_urlencoded::parse(body) {
        let key = key.into_owned();
        if !seen_in_body.insert(key.clone()) {
            return Err(QueryError::Conflict(key));
        }
        flat.insert(key, value.into_owned());
    }
    let action = flat
        .remove("Action")
        .filter(|a| !a.is_empty())
        .ok_or(QueryError::MissingAction)?;
    let version = flat.remove("Version");
    let params = tree(flat.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(QueryRequest {
        action,
        version,
        params,
    })
}

/// One step of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Member(&'a str),
    Index(usize),
}

fn segments(key: &str) -> Result<Vec<Segment<'_>>, QueryError> {
    key.split('.')
        .map(|part| {
            if part.is_empty() {
                Err(QueryError::BadName(key.to_owned()))
            } else if part.bytes().all(|b| b.is_ascii_digit()) {
                match part.parse::<usize>() {
                    Ok(index) if (1..=MAX_INDEX).contains(&index) => Ok(Segment::Index(index)),
                    _ => Err(QueryError::BadIndex(key.to_owned())),
                }
            } else {
                Ok(Segment::Member(part))
            }
        })
        .collect()
}

/// Builds the tree of `pairs` (keys must be distinct). Lists come out dense: an index
/// that was never sent leaves an empty object (`{}`) in its place, so positions keep
/// their meaning and the operation's decoder can reject the hole.
pub fn tree<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Value, QueryError> {
    let mut root = Value::Object(Map::new());
    for (key, value) in pairs {
        let path = segments(key)?;
        insert(&mut root, &path, value, key)?;
    }
    Ok(root)
}

fn insert(
    node: &mut Value,
    path: &[Segment<'_>],
    value: &str,
    key: &str,
) -> Result<(), QueryError> {
    let conflict = || QueryError::Conflict(key.to_owned());
    let Some((first, rest)) = path.split_first() else {
        return Err(conflict());
    };
    let slot: &mut Value = match (*first, node) {
        (Segment::Member(name), Value::Object(map)) => {
            map.entry(name.to_owned()).or_insert(Value::Null)
        }
        (Segment::Index(index), Value::Array(items)) => {
            if items.len() < index {
                items.resize(index, Value::Object(Map::new()));
            }
            &mut items[index - 1]
        }
        _ => return Err(conflict()),
    };
    if rest.is_empty() {
        return match slot {
            Value::Null => {
                *slot = Value::String(value.to_owned());
                Ok(())
            }
            // A hole a later index left behind is an empty object: fill it.
            Value::Object(map) if map.is_empty() => {
                *slot = Value::String(value.to_owned());
                Ok(())
            }
            _ => Err(conflict()),
        };
    }
    let wants_list = matches!(rest[0], Segment::Index(_));
    match slot {
        Value::Null => {
            *slot = if wants_list {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            };
        }
        Value::Object(map) if map.is_empty() && wants_list => *slot = Value::Array(Vec::new()),
        _ => {}
    }
    insert(slot, rest, value, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn decodes_a_create_fleet_body() {
        let body = "Action=CreateFleet&Version=2016-11-15&Type=maintain\
            &LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateId=lt-0abc\
            &LaunchTemplateConfigs.1.LaunchTemplateSpecification.Version=%24Latest\
            &LaunchTemplateConfigs.1.Overrides.1.InstanceType=t2.small\
            &LaunchTemplateConfigs.1.Overrides.2.InstanceType=c5.large\
            &LaunchTemplateConfigs.1.Overrides.2.WeightedCapacity=2\
            &TargetCapacitySpecification.TotalTargetCapacity=4\
            &TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=spotlab";
        let request = decode("", body.as_bytes()).expect("decodes");
        assert_eq!(request.action, "CreateFleet");
        assert_eq!(request.version.as_deref(), Some("2016-11-15"));
        assert_eq!(
            request.params,
            json!({
                "Type": "maintain",
                "LaunchTemplateConfigs": [{
                    "LaunchTemplateSpecification": {"LaunchTemplateId": "lt-0abc", "Version": "$Latest"},
                    "Overrides": [
                        {"InstanceType": "t2.small"},
                        {"InstanceType": "c5.large", "WeightedCapacity": "2"}
                    ]
                }],
                "TargetCapacitySpecification": {"TotalTargetCapacity": "4"},
                "TagSpecification": [{"Tag": [{"Key": "Name", "Value": "spotlab"}]}]
            })
        );
    }

    #[test]
    fn rejects_what_aws_rejects() {
        assert_eq!(
            decode("", b"Version=2016-11-15"),
            Err(QueryError::MissingAction)
        );
        let err = |body: &str| decode("", body.as_bytes()).unwrap_err();
        assert!(matches!(err("Action=X&A..B=1"), QueryError::BadName(_)));
        assert!(matches!(err("Action=X&A.0.B=1"), QueryError::BadIndex(_)));
        assert!(matches!(
            err("Action=X&A.99999999999999999999=1"),
            QueryError::BadIndex(_)
        ));
        assert!(matches!(err("Action=X&A=1&A.B=2"), QueryError::Conflict(_)));
        assert!(matches!(
            err("Action=X&A.1=1&A.B=2"),
            QueryError::Conflict(_)
        ));
        assert!(matches!(err("Action=X&A=1&A=2"), QueryError::Conflict(_)));
    }

    #[test]
    fn url_query_parameters_count_and_the_body_wins() {
        let request =
            decode("Action=DescribeRegions&DryRun=false", b"DryRun=true").expect("decodes");
        assert_eq!(request.action, "DescribeRegions");
        assert_eq!(request.params, json!({"DryRun": "true"}));
    }

    #[test]
    fn holes_in_lists_stay_visible() {
        let value = tree([("FleetId.2", "fleet-b")]).expect("the test's input is valid");
        assert_eq!(value, json!({"FleetId": [{}, "fleet-b"]}));
    }

    /// Flattens a tree the way AWS clients serialise one.
    fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
        let join = |name: &str| {
            if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}.{name}")
            }
        };
        match value {
            Value::Object(map) => map.iter().for_each(|(k, v)| flatten(&join(k), v, out)),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| flatten(&join(&(i + 1).to_string()), v, out)),
            Value::String(s) => out.push((prefix.to_owned(), s.clone())),
            _ => unreachable!("trees hold only strings"),
        }
    }

    fn arb_tree() -> impl Strategy<Value = Value> {
        let leaf = "[a-z0-9 $%&=.]{0,8}".prop_map(Value::String);
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..4).prop_map(Value::Array),
                proptest::collection::btree_map("[A-Z][a-zA-Z]{0,6}", inner, 1..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn serialised_trees_decode_back(tree_value in arb_tree()) {
            let root = json!({"Root": tree_value});
            let mut pairs = Vec::new();
            flatten("", &root, &mut pairs);
            let mut body = form_urlencoded::Serializer::new(String::new());
            body.append_pair("Action", "Test");
            for (k, v) in &pairs {
                body.append_pair(k, v);
            }
            let request = decode("", body.finish().as_bytes()).expect("decodes");
            prop_assert_eq!(request.params, root);
        }

        #[test]
        fn any_body_decodes_or_errs_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode("", &body);
        }

        #[test]
        fn path_shaped_garbage_never_panics(
            keys in proptest::collection::vec("[A-Za-z0-9.]{0,12}", 0..12),
        ) {
            let mut body = String::from("Action=X");
            for key in keys {
                body.push('&');
                body.push_str(&key);
                body.push_str("=v");
            }
            let _ = decode("", body.as_bytes());
        }
    }
}
