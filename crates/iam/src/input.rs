//! Reading IAM call inputs: members by their model names, checked against the service
//! model's constraints with IAM's `ValidationError` messages (`1 validation error
//! detected: Value 'x' at 'roleName' failed to satisfy constraint: ...`, the member
//! named in camel case as IAM names it), and `Marker`/`MaxItems` pagination.

use serde_json::Value;

use crate::IamError;

/// The pattern of role, instance profile and policy names (`\w` is `[A-Za-z0-9_]`).
const NAME_PATTERN: &str = r"[\w+=,.@-]+";
/// The pattern of paths: `/` alone, or `/` printable ASCII `/`.
const PATH_PATTERN: &str = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)";
/// The pattern of path prefixes.
const PATH_PREFIX_PATTERN: &str = r"\u002F[\u0021-\u007F]*";
/// The pattern of policy documents.
const DOCUMENT_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";
/// The pattern of role descriptions.
const DESCRIPTION_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*";
/// The pattern of markers.
const MARKER_PATTERN: &str = r"[\u0020-\u00FF]+";
/// The pattern of tag keys.
const TAG_KEY_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
/// The pattern of tag values.
const TAG_VALUE_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";
/// Most tags an entity has, or a call names.
pub(crate) const MAX_TAGS: usize = 50;
/// `MaxItems` when a list call gives none.
const DEFAULT_MAX_ITEMS: usize = 100;

/// How IAM names a member in its messages: the model's name with a lower-case first
/// letter (`RoleName` is `roleName`).
fn wire(member: &str) -> String {
    let mut chars = member.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A model constraint `rule` broken by `value` (`None`: missing) at `member` (IAM's
/// camel-case path, e.g. `tags.1.member.key`).
pub(crate) fn constraint(value: Option<&str>, member: &str, rule: &str) -> IamError {
    let shown = value.map_or_else(|| "null".to_owned(), |v| format!("'{v}'"));
    IamError::Validation(format!(
        "1 validation error detected: Value {shown} at '{member}' failed to satisfy constraint: {rule}"
    ))
}

/// The string member `name`, if present (`null` counts as absent).
pub(crate) fn optional_str<'a>(input: &'a Value, name: &str) -> Result<Option<&'a str>, IamError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(constraint(None, &wire(name), "Member must be a string")),
    }
}

/// The required string member `name`.
pub(crate) fn required_str<'a>(input: &'a Value, name: &str) -> Result<&'a str, IamError> {
    optional_str(input, name)?
        .ok_or_else(|| constraint(None, &wire(name), "Member must not be null"))
}

/// Checks a length in characters against the model's bounds.
fn check_length(value: &str, member: &str, min: usize, max: usize) -> Result<(), IamError> {
    let length = value.chars().count();
    if length < min {
        return Err(constraint(
            Some(value),
            member,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if length > max {
        return Err(constraint(
            Some(value),
            member,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// Checks that every character of `value` is allowed by the model's `pattern`, which
/// `allowed` implements.
fn check_pattern(
    value: &str,
    member: &str,
    pattern: &str,
    allowed: impl Fn(char) -> bool,
) -> Result<(), IamError> {
    if value.chars().all(allowed) {
        Ok(())
    } else {
        Err(constraint(
            Some(value),
            member,
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        ))
    }
}

/// The required name member `name` (a role's, instance profile's or policy's): 1 to
/// `max` characters of `[\w+=,.@-]`.
pub(crate) fn name<'a>(input: &'a Value, name: &str, max: usize) -> Result<&'a str, IamError> {
    let value = required_str(input, name)?;
    let member = wire(name);
    check_length(value, &member, 1, max)?;
    check_pattern(value, &member, NAME_PATTERN, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
    })?;
    Ok(value)
}

/// `Path`: `/` when absent; else 1 to 512 characters, `/` or `/.../` of printable ASCII.
pub(crate) fn path(input: &Value) -> Result<String, IamError> {
    let Some(value) = optional_str(input, "Path")? else {
        return Ok("/".to_owned());
    };
    check_length(value, "path", 1, 512)?;
    let printable = |c: char| ('\u{21}'..='\u{7e}').contains(&c);
    let valid = value == "/"
        || (value.len() >= 3
            && value.starts_with('/')
            && value.ends_with('/')
            && value.chars().all(printable));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(constraint(
            Some(value),
            "path",
            &format!("Member must satisfy regular expression pattern: {PATH_PATTERN}"),
        ))
    }
}

/// `PathPrefix`: `/` when absent; else 1 to 512 characters starting with `/`.
pub(crate) fn path_prefix(input: &Value) -> Result<String, IamError> {
    let Some(value) = optional_str(input, "PathPrefix")? else {
        return Ok("/".to_owned());
    };
    check_length(value, "pathPrefix", 1, 512)?;
    let valid = value.starts_with('/') && value.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(constraint(
            Some(value),
            "pathPrefix",
            &format!("Member must satisfy regular expression pattern: {PATH_PREFIX_PATTERN}"),
        ))
    }
}

/// The required policy document member `name`: 1 to 131,072 characters of tab, line
/// breaks and U+0020 to U+00FF, and a JSON object (`MalformedPolicyDocument`
/// otherwise). Returned as sent.
pub(crate) fn policy_document<'a>(input: &'a Value, name: &str) -> Result<&'a str, IamError> {
    let value = required_str(input, name)?;
    let member = wire(name);
    check_length(value, &member, 1, 131_072)?;
    check_pattern(value, &member, DOCUMENT_PATTERN, |c| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}')
    })?;
    match serde_json::from_str::<Value>(value) {
        Ok(Value::Object(_)) => Ok(value),
        _ => Err(IamError::MalformedPolicyDocument(
            "This policy contains invalid Json".to_owned(),
        )),
    }
}

/// `Description`, if given: at most 1,000 characters of tab, line breaks, printable
/// ASCII and U+00A1 to U+00FF.
pub(crate) fn description(input: &Value) -> Result<Option<&str>, IamError> {
    let Some(value) = optional_str(input, "Description")? else {
        return Ok(None);
    };
    check_length(value, "description", 0, 1000)?;
    check_pattern(
        value,
        "description",
        DESCRIPTION_PATTERN,
        |c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}'),
    )?;
    Ok(Some(value))
}

/// The integer member `name`, if given, within `min..=max`.
pub(crate) fn integer(
    input: &Value,
    name: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, IamError> {
    let member = wire(name);
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let Some(n) = value.as_i64() else {
                return Err(constraint(None, &member, "Member must be an integer"));
            };
            if n < min {
                Err(constraint(
                    Some(&n.to_string()),
                    &member,
                    &format!("Member must have value greater than or equal to {min}"),
                ))
            } else if n > max {
                Err(constraint(
                    Some(&n.to_string()),
                    &member,
                    &format!("Member must have value less than or equal to {max}"),
                ))
            } else {
                Ok(Some(n))
            }
        }
    }
}

/// Whether `c` is one of `\p{L}\p{Z}\p{N}_.:/=+\-@` (letters, separators, numbers and
/// the listed symbols).
fn tag_char(c: char) -> bool {
    c.is_alphanumeric()
        || c.is_whitespace()
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

fn check_tag_key(key: &str, member: &str) -> Result<(), IamError> {
    check_length(key, member, 1, 128)?;
    check_pattern(key, member, TAG_KEY_PATTERN, tag_char)
}

/// `Tags` (required when `required`): at most 50 `{Key, Value}` pairs, keys 1 to 128
/// and values 0 to 256 characters of the tag pattern, keys distinct regardless of case
/// (`InvalidInput` otherwise).
pub(crate) fn tags(input: &Value, required: bool) -> Result<Vec<(String, String)>, IamError> {
    let items = match input.get("Tags") {
        None | Some(Value::Null) if required => {
            return Err(constraint(None, "tags", "Member must not be null"));
        }
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(constraint(None, "tags", "Member must be a list")),
    };
    if items.len() > MAX_TAGS {
        return Err(constraint(
            None,
            "tags",
            &format!("Member must have length less than or equal to {MAX_TAGS}"),
        ));
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("tags.{}.member", i + 1);
        let key = optional_str(item, "Key")?
            .ok_or_else(|| constraint(None, &format!("{at}.key"), "Member must not be null"))?;
        let value = optional_str(item, "Value")?
            .ok_or_else(|| constraint(None, &format!("{at}.value"), "Member must not be null"))?;
        check_tag_key(key, &format!("{at}.key"))?;
        check_length(value, &format!("{at}.value"), 0, 256)?;
        check_pattern(value, &format!("{at}.value"), TAG_VALUE_PATTERN, tag_char)?;
        if out
            .iter()
            .any(|(k, _)| k.to_lowercase() == key.to_lowercase())
        {
            return Err(IamError::InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
                    .to_owned(),
            ));
        }
        out.push((key.to_owned(), value.to_owned()));
    }
    Ok(out)
}

/// `TagKeys` (required): at most 50 keys.
pub(crate) fn tag_keys(input: &Value) -> Result<Vec<String>, IamError> {
    let items = match input.get("TagKeys") {
        None | Some(Value::Null) => {
            return Err(constraint(None, "tagKeys", "Member must not be null"));
        }
        Some(Value::Array(items)) => items,
        Some(_) => return Err(constraint(None, "tagKeys", "Member must be a list")),
    };
    if items.len() > MAX_TAGS {
        return Err(constraint(
            None,
            "tagKeys",
            &format!("Member must have length less than or equal to {MAX_TAGS}"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let member = format!("tagKeys.{}.member", i + 1);
            let key = item
                .as_str()
                .ok_or_else(|| constraint(None, &member, "Member must be a string"))?;
            check_tag_key(key, &member)?;
            Ok(key.to_owned())
        })
        .collect()
}

/// Where a list call starts and how much it returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Page {
    /// The `Marker` of the previous page: the sort key of the first item to return.
    marker: Option<String>,
    /// `MaxItems` (1 to 1,000; 100 by default).
    max_items: usize,
}

/// `Marker` and `MaxItems`.
pub(crate) fn page(input: &Value) -> Result<Page, IamError> {
    let marker = optional_str(input, "Marker")?;
    if let Some(marker) = marker {
        check_length(marker, "marker", 1, 320)?;
        check_pattern(marker, "marker", MARKER_PATTERN, |c| {
            ('\u{20}'..='\u{ff}').contains(&c)
        })?;
    }
    let max_items = integer(input, "MaxItems", 1, 1000)?
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_MAX_ITEMS);
    Ok(Page {
        marker: marker.map(str::to_owned),
        max_items,
    })
}

impl Page {
    /// One page of `items`, sorted by their keys: those from the marker's key on, at
    /// most `MaxItems`; then the list member `field` with `IsTruncated`, and `Marker`
    /// (the next item's key) when more follow. A marker whose item is gone starts at the
    /// next key after it, so a page is never lost to a deletion.
    pub(crate) fn answer(&self, field: &str, items: Vec<(String, Value)>) -> Value {
        let mut rest = items
            .into_iter()
            .filter(|(key, _)| self.marker.as_ref().is_none_or(|m| key >= m));
        let shown: Vec<Value> = rest
            .by_ref()
            .take(self.max_items)
            .map(|(_, value)| value)
            .collect();
        let next = rest.next().map(|(key, _)| key);
        let mut out = serde_json::Map::new();
        out.insert(field.to_owned(), Value::Array(shown));
        out.insert("IsTruncated".to_owned(), Value::Bool(next.is_some()));
        if let Some(next) = next {
            out.insert("Marker".to_owned(), Value::String(next));
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_the_model_pattern_and_length() {
        assert_eq!(
            name(&json!({"RoleName": "a+b=c,d.e@f-g_1"}), "RoleName", 64),
            Ok("a+b=c,d.e@f-g_1")
        );
        let err = name(&json!({"RoleName": "bad name"}), "RoleName", 64).expect_err("space");
        assert_eq!(
            err.message(),
            r"1 validation error detected: Value 'bad name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"
        );
        assert_eq!(err.code(), "ValidationError");
        let long = "r".repeat(65);
        assert!(name(&json!({"RoleName": long}), "RoleName", 64).is_err());
        let err = name(&json!({}), "RoleName", 64).expect_err("missing");
        assert!(err.message().contains("Value null at 'roleName'"), "{err}");
    }

    #[test]
    fn paths_are_a_slash_or_slash_delimited() {
        assert_eq!(path(&json!({})), Ok("/".to_owned()));
        assert_eq!(
            path(&json!({"Path": "/spotlab/"})),
            Ok("/spotlab/".to_owned())
        );
        for bad in ["spotlab/", "/spotlab", "//x y/", ""] {
            assert!(path(&json!({"Path": bad})).is_err(), "{bad}");
        }
    }

    #[test]
    fn policy_documents_must_be_json_objects() {
        let doc = r#"{"Version": "2012-10-17"}"#;
        assert_eq!(policy_document(&json!({"D": doc}), "D"), Ok(doc));
        for bad in ["[]", "\"x\"", "{", "not json"] {
            let err = policy_document(&json!({"D": bad}), "D").expect_err(bad);
            assert_eq!(err.code(), "MalformedPolicyDocument", "{bad}");
        }
        let err = policy_document(&json!({"D": "{\"a\": \"\u{263a}\"}"}), "D").expect_err("char");
        assert_eq!(err.code(), "ValidationError");
    }

    #[test]
    fn tags_are_checked_and_keys_distinct_regardless_of_case() {
        let tags_in =
            json!({"Tags": [{"Key": "app", "Value": "spotlab"}, {"Key": "k", "Value": ""}]});
        assert_eq!(
            tags(&tags_in, true),
            Ok(vec![
                ("app".to_owned(), "spotlab".to_owned()),
                ("k".to_owned(), String::new())
            ])
        );
        let twice = json!({"Tags": [{"Key": "App", "Value": "a"}, {"Key": "app", "Value": "b"}]});
        assert_eq!(
            tags(&twice, true).expect_err("duplicate").code(),
            "InvalidInput"
        );
        let bad = json!({"Tags": [{"Key": "a*b", "Value": "x"}]});
        let err = tags(&bad, true).expect_err("pattern");
        assert!(err.message().contains("'tags.1.member.key'"), "{err}");
        assert!(tags(&json!({}), true).is_err());
        assert_eq!(tags(&json!({}), false), Ok(Vec::new()));
    }

    #[test]
    fn pages_resume_at_the_marker() {
        let items = |keys: &[&str]| -> Vec<(String, Value)> {
            keys.iter().map(|k| ((*k).to_owned(), json!(k))).collect()
        };
        let first = page(&json!({"MaxItems": 2})).expect("page");
        assert_eq!(
            first.answer("Names", items(&["a", "b", "c"])),
            json!({"Names": ["a", "b"], "IsTruncated": true, "Marker": "c"})
        );
        let second = page(&json!({"MaxItems": 2, "Marker": "c"})).expect("page");
        assert_eq!(
            second.answer("Names", items(&["a", "b", "d"])),
            json!({"Names": ["d"], "IsTruncated": false})
        );
        assert!(page(&json!({"MaxItems": 0})).is_err());
        assert!(page(&json!({"MaxItems": 1001})).is_err());
    }
}
