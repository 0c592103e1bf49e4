//! The EC2 protocol, both directions, driven by the service model.
//!
//! Requests: a query tree (from [`crate::query::decode`]) becomes JSON named by the
//! model's members and typed by its shapes, ready for `serde` into an operation's input
//! type: `LaunchTemplateConfigs.1.Overrides.1.WeightedCapacity=2` becomes
//! `{"LaunchTemplateConfigs": [{"Overrides": [{"WeightedCapacity": 2.0}]}]}`. A parameter
//! the operation does not have is EC2's `UnknownParameter`; a value of the wrong type is
//! `InvalidParameterValue`.
//!
//! Responses: JSON named by members (what the services build) becomes EC2's XML:
//! `<{Action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">`, a lower-camel
//! `requestId`, members under their `locationName`s, lists as `<name><item>…</item></name>`,
//! booleans `true`/`false`, doubles with a decimal point. Errors are EC2's
//! `<Response><Errors><Error>…` document with `RequestID`.
//!
//! What a request means and whether it is allowed is not decided here.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::model::{Member, Model, Scalar, Shape, ShapeId, find_member};

/// Why a request did not fit its operation's input shape. Each is an EC2 client error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A parameter the operation does not have (`UnknownParameter`).
    #[error("The parameter {0} is not recognized")]
    UnknownParameter(String),
    /// A value that does not parse as the member's type, or a list where a value was
    /// expected and vice versa (`InvalidParameterValue`).
    #[error("Value ({value}) for parameter {parameter} is invalid. {reason}")]
    InvalidValue {
        /// The parameter, as sent (e.g. `MaxResults`).
        parameter: String,
        /// What was sent.
        value: String,
        /// What was expected.
        reason: String,
    },
}

impl InputError {
    /// EC2's error code.
    pub fn code(&self) -> &'static str {
        match self {
            InputError::UnknownParameter(_) => "UnknownParameter",
            InputError::InvalidValue { .. } => "InvalidParameterValue",
        }
    }
}

/// Why an answer could not be rendered: the service built JSON its output shape does
/// not have. A defect, answered as `InternalError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot render {path}: {reason}")]
pub struct OutputError {
    /// Where in the answer, e.g. `Fleets[0].Bogus`.
    pub path: String,
    /// What was wrong.
    pub reason: String,
}

/// Decodes an operation's parameters (a query tree) into JSON of its input shape.
pub fn decode_input(model: &Model, input: ShapeId, tree: &Value) -> Result<Value, InputError> {
    decode(model, input, tree, "")
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn decode(model: &Model, shape: ShapeId, value: &Value, path: &str) -> Result<Value, InputError> {
    let invalid = |reason: &str| InputError::InvalidValue {
        parameter: path.to_owned(),
        value: describe(value),
        reason: reason.to_owned(),
    };
    match model.shape(shape) {
        Shape::Structure { members, .. } => {
            let Value::Object(given) = value else {
                return Err(invalid("Expecting a structure."));
            };
            let mut out = Map::new();
            let mut used = 0;
            for member in members {
                let wire = member.ec2_query_name();
                if let Some(sent) = given.get(wire) {
                    used += 1;
                    out.insert(
                        member.name.clone(),
                        decode(model, member.shape, sent, &join(path, wire))?,
                    );
                }
            }
            if used < given.len() {
                let unknown = given
                    .keys()
                    .find(|key| !members.iter().any(|m| m.ec2_query_name() == key.as_str()))
                    .map(|key| join(path, key))
                    .unwrap_or_default();
                return Err(InputError::UnknownParameter(unknown));
            }
            Ok(Value::Object(out))
        }
        Shape::List { member, .. } => {
            let Value::Array(items) = value else {
                return Err(invalid("Expecting a list (Name.1, Name.2, ...)."));
            };
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    decode(model, member.shape, item, &join(path, &(i + 1).to_string()))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        // EC2's model has no maps; a trimmed model that grew one needs a codec first.
        Shape::Map { .. } => Err(invalid("Maps are not part of the EC2 protocol.")),
        Shape::Scalar(scalar) => {
            let Value::String(text) = value else {
                return Err(invalid("Expecting a single value."));
            };
            scalar_from_text(*scalar, text).ok_or_else(|| invalid(expectation(*scalar)))
        }
    }
}

fn expectation(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::Integer | Scalar::Long => "Expecting an integer.",
        Scalar::Boolean => "Expecting true or false.",
        Scalar::Double | Scalar::Float => "Expecting a number.",
        Scalar::String | Scalar::Timestamp | Scalar::Blob => "Expecting text.",
    }
}

fn scalar_from_text(scalar: Scalar, text: &str) -> Option<Value> {
    match scalar {
        Scalar::String | Scalar::Timestamp | Scalar::Blob => Some(Value::String(text.to_owned())),
        Scalar::Integer => text
            .trim()
            .parse::<i32>()
            .ok()
            .map(|n| Value::Number(n.into())),
        Scalar::Long => text
            .trim()
            .parse::<i64>()
            .ok()
            .map(|n| Value::Number(n.into())),
        Scalar::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        Scalar::Double | Scalar::Float => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
    }
}

/// A short rendering of a sent value for messages.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a structure".to_owned(),
        other => other.to_string(),
    }
}

/// Where in an answer the writer is, built on the stack and rendered only for an error
/// (answers can hold thousands of values; naming each one would cost more than
/// writing it).
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, key) => join(&parent.render(), key),
            Path::Index(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }
}

/// Renders a successful answer: `value` is JSON of the operation's output shape.
pub fn encode_output(
    model: &Model,
    action: &str,
    output: Option<ShapeId>,
    value: &Value,
    request_id: &str,
) -> Result<String, OutputError> {
    let namespace = model.xml_namespace.as_deref().unwrap_or_default();
    let mut xml = String::with_capacity(1024);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(xml, "<{action}Response xmlns=\"{namespace}/\">");
    let _ = write!(xml, "<requestId>{}</requestId>", escape(request_id));
    if let Some(shape) = output {
        match (model.shape(shape), value) {
            (Shape::Structure { members, .. }, Value::Object(map)) => {
                write_members(model, members, map, &Path::Root, &mut xml)?;
            }
            (_, Value::Null) => {}
            _ => {
                return Err(OutputError {
                    path: String::new(),
                    reason: "the answer must be a structure".to_owned(),
                });
            }
        }
    }
    let _ = write!(xml, "</{action}Response>");
    Ok(xml)
}

fn write_members(
    model: &Model,
    members: &[Member],
    map: &Map<String, Value>,
    path: &Path<'_>,
    xml: &mut String,
) -> Result<(), OutputError> {
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        let here = Path::Key(path, key);
        let member = find_member(members, key).ok_or_else(|| OutputError {
            path: here.render(),
            reason: "no such member".to_owned(),
        })?;
        write_member(
            model,
            member.shape,
            member.xml_name(),
            member.flattened,
            value,
            &here,
            xml,
        )?;
    }
    Ok(())
}

/// Writes one member: a list as `<name><item>...</item></name>` (or repeated `<name>`
/// when flattened), anything else as `<name>...</name>`.
fn write_member(
    model: &Model,
    shape: ShapeId,
    name: &str,
    flattened_member: bool,
    value: &Value,
    path: &Path<'_>,
    xml: &mut String,
) -> Result<(), OutputError> {
    let Shape::List {
        member: element,
        flattened,
    } = model.shape(shape)
    else {
        return write_value(model, shape, name, value, path, xml);
    };
    let Value::Array(items) = value else {
        return Err(OutputError {
            path: path.render(),
            reason: "expected a list".to_owned(),
        });
    };
    if *flattened || flattened_member {
        for (i, item) in items.iter().enumerate() {
            write_value(model, element.shape, name, item, &Path::Index(path, i), xml)?;
        }
        return Ok(());
    }
    if items.is_empty() {
        let _ = write!(xml, "<{name}/>");
        return Ok(());
    }
    let _ = write!(xml, "<{name}>");
    let item_name = element.location_name.as_deref().unwrap_or("member");
    for (i, item) in items.iter().enumerate() {
        write_value(
            model,
            element.shape,
            item_name,
            item,
            &Path::Index(path, i),
            xml,
        )?;
    }
    let _ = write!(xml, "</{name}>");
    Ok(())
}

fn write_value(
    model: &Model,
    shape: ShapeId,
    name: &str,
    value: &Value,
    path: &Path<'_>,
    xml: &mut String,
) -> Result<(), OutputError> {
    let wrong = |expected: &str| OutputError {
        path: path.render(),
        reason: format!("expected {expected}, found {value}"),
    };
    match model.shape(shape) {
        Shape::Structure { members, .. } => {
            let Value::Object(map) = value else {
                return Err(wrong("a structure"));
            };
            let _ = write!(xml, "<{name}>");
            write_members(model, members, map, path, xml)?;
            let _ = write!(xml, "</{name}>");
        }
        // A list directly inside a list: wrap it as its own member.
        Shape::List { .. } => write_member(model, shape, name, false, value, path, xml)?,
        Shape::Map { .. } => return Err(wrong("no map (EC2 answers have none)")),
        Shape::Scalar(scalar) => {
            let text = scalar_text(*scalar, value).ok_or_else(|| wrong(expectation(*scalar)))?;
            let _ = write!(xml, "<{name}>{}</{name}>", escape(&text));
        }
    }
    Ok(())
}

/// A scalar's XML text: doubles always carry a decimal point (`2.0`), as EC2 writes them.
fn scalar_text(scalar: Scalar, value: &Value) -> Option<String> {
    match (scalar, value) {
        (Scalar::String | Scalar::Timestamp | Scalar::Blob, Value::String(s)) => Some(s.clone()),
        (Scalar::String, Value::Number(n)) => Some(n.to_string()),
        (Scalar::String, Value::Bool(b)) => Some(b.to_string()),
        (Scalar::Integer | Scalar::Long, Value::Number(n)) => n
            .as_i64()
            .map(|v| v.to_string())
            .or_else(|| n.as_u64().map(|v| v.to_string())),
        (Scalar::Boolean, Value::Bool(b)) => Some(b.to_string()),
        (Scalar::Double | Scalar::Float, Value::Number(n)) => {
            let v = n.as_f64()?;
            if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
                Some(format!("{v:.1}"))
            } else {
                Some(v.to_string())
            }
        }
        _ => None,
    }
}

/// Renders EC2's error document.
pub fn encode_error(code: &str, message: &str, request_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
        escape(code),
        escape(message),
        escape(request_id)
    )
}

/// Escapes text for an XML element.
fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Keeps only what `shape` has of `value`, recursively: turns JSON of one shape into
/// JSON of a sibling shape with mostly the same members (a launch template's request
/// data into its response data).
pub fn conform(model: &Model, shape: ShapeId, value: &Value) -> Value {
    match (model.shape(shape), value) {
        (Shape::Structure { members, .. }, Value::Object(map)) => Value::Object(
            map.iter()
                .filter_map(|(key, v)| {
                    let member = find_member(members, key)?;
                    Some((key.clone(), conform(model, member.shape, v)))
                })
                .collect(),
        ),
        (Shape::List { member, .. }, Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|item| conform(model, member.shape, item))
                .collect(),
        ),
        (Shape::Map { value: element, .. }, Value::Object(map)) => Value::Object(
            map.iter()
                .map(|(key, v)| (key.clone(), conform(model, element.shape, v)))
                .collect(),
        ),
        (Shape::Scalar(_), v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => v.clone(),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query;
    use serde_json::json;

    fn input(action: &str, body: &str) -> Result<Value, InputError> {
        let request = query::decode("", body.as_bytes()).expect("query decodes");
        assert_eq!(request.action, action);
        let model = Model::ec2();
        let shape = model
            .operation(action)
            .and_then(|o| o.input)
            .expect("operation has an input");
        decode_input(model, shape, &request.params)
    }

    #[test]
    fn create_fleet_bodies_become_cli_json() {
        let body = "Action=CreateFleet&Version=2016-11-15&ClientToken=t-1&Type=maintain\
            &TargetCapacitySpecification.TotalTargetCapacity=4\
            &TargetCapacitySpecification.DefaultTargetCapacityType=spot\
            &SpotOptions.AllocationStrategy=lowest-price&SpotOptions.InstancePoolsToUseCount=2\
            &LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateId=lt-0abc\
            &LaunchTemplateConfigs.1.LaunchTemplateSpecification.Version=%24Latest\
            &LaunchTemplateConfigs.1.Overrides.1.InstanceType=t2.small\
            &LaunchTemplateConfigs.1.Overrides.1.WeightedCapacity=1.0\
            &LaunchTemplateConfigs.1.Overrides.2.InstanceType=c5.large\
            &LaunchTemplateConfigs.1.Overrides.2.WeightedCapacity=2\
            &TagSpecification.1.ResourceType=fleet\
            &TagSpecification.1.Tag.1.Key=team&TagSpecification.1.Tag.1.Value=dev\
            &ReplaceUnhealthyInstances=false";
        assert_eq!(
            input("CreateFleet", body).expect("decodes"),
            json!({
                "ClientToken": "t-1",
                "Type": "maintain",
                "TargetCapacitySpecification": {"TotalTargetCapacity": 4, "DefaultTargetCapacityType": "spot"},
                "SpotOptions": {"AllocationStrategy": "lowest-price", "InstancePoolsToUseCount": 2},
                "LaunchTemplateConfigs": [{
                    "LaunchTemplateSpecification": {"LaunchTemplateId": "lt-0abc", "Version": "$Latest"},
                    "Overrides": [
                        {"InstanceType": "t2.small", "WeightedCapacity": 1.0},
                        {"InstanceType": "c5.large", "WeightedCapacity": 2.0}
                    ]
                }],
                "TagSpecifications": [{"ResourceType": "fleet", "Tags": [{"Key": "team", "Value": "dev"}]}],
                "ReplaceUnhealthyInstances": false
            })
        );
    }

    #[test]
    fn modify_fleet_uses_the_singular_config_name() {
        let body = "Action=ModifyFleet&FleetId=fleet-1\
            &LaunchTemplateConfig.1.LaunchTemplateSpecification.LaunchTemplateName=web";
        let value = input("ModifyFleet", body).expect("decodes");
        assert_eq!(
            value["LaunchTemplateConfigs"][0]["LaunchTemplateSpecification"]["LaunchTemplateName"],
            "web"
        );
        let plural = "Action=ModifyFleet&FleetId=fleet-1\
            &LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateName=web";
        assert_eq!(
            input("ModifyFleet", plural),
            Err(InputError::UnknownParameter(
                "LaunchTemplateConfigs".to_owned()
            ))
        );
    }

    #[test]
    fn wrong_types_and_unknown_parameters_are_client_errors() {
        let err = input("DescribeFleets", "Action=DescribeFleets&MaxResults=ten").unwrap_err();
        assert_eq!(err.code(), "InvalidParameterValue");
        assert!(err.to_string().contains("MaxResults"), "{err}");
        let err = input("DescribeFleets", "Action=DescribeFleets&Filter.1.Nme=x").unwrap_err();
        assert_eq!(err, InputError::UnknownParameter("Filter.1.Nme".to_owned()));
        let err = input("DescribeFleets", "Action=DescribeFleets&FleetId=fleet-1").unwrap_err();
        assert_eq!(
            err.code(),
            "InvalidParameterValue",
            "FleetId is a list: FleetId.1"
        );
        let ok = input(
            "DescribeFleets",
            "Action=DescribeFleets&FleetId.1=a&FleetId.2=b&Filter.1.Name=fleet-state&Filter.1.Value.1=active",
        )
        .expect("decodes");
        assert_eq!(
            ok,
            json!({"FleetIds": ["a", "b"], "Filters": [{"Name": "fleet-state", "Values": ["active"]}]})
        );
    }

    #[test]
    fn answers_render_as_ec2_xml() {
        let model = Model::ec2();
        let output = model.operation("DescribeFleets").and_then(|o| o.output);
        let value = json!({
            "Fleets": [{
                "FleetId": "fleet-1",
                "FleetState": "active",
                "FulfilledCapacity": 4.0,
                "CreateTime": "2024-05-01T10:00:00.000Z",
                "TerminateInstancesWithExpiration": false,
                "Tags": [{"Key": "a&b", "Value": "<v>"}],
                "Errors": [],
                "TargetCapacitySpecification": {"TotalTargetCapacity": 4}
            }]
        });
        let xml = encode_output(model, "DescribeFleets", output, &value, "req-1").expect("renders");
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeFleetsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>req-1</requestId><fleetSet><item>"), "{xml}");
        for part in [
            "<fulfilledCapacity>4.0</fulfilledCapacity>",
            "<createTime>2024-05-01T10:00:00.000Z</createTime>",
            "<terminateInstancesWithExpiration>false</terminateInstancesWithExpiration>",
            "<tagSet><item><key>a&amp;b</key><value>&lt;v&gt;</value></item></tagSet>",
            "<errorSet/>",
            "<targetCapacitySpecification><totalTargetCapacity>4</totalTargetCapacity></targetCapacitySpecification>",
        ] {
            assert!(xml.contains(part), "{part} missing from {xml}");
        }
        let bad = json!({"Fleets": [{"Bogus": 1}]});
        let err = encode_output(model, "DescribeFleets", output, &bad, "r").unwrap_err();
        assert_eq!(err.path, "Fleets[0].Bogus");
    }

    #[test]
    fn errors_use_capital_request_id() {
        let xml = encode_error(
            "InvalidFleetId.NotFound",
            "The fleet 'x' <does not> exist",
            "r-1",
        );
        assert!(xml.contains("<Code>InvalidFleetId.NotFound</Code>"));
        assert!(xml.contains("&lt;does not&gt;"));
        assert!(xml.ends_with("<RequestID>r-1</RequestID></Response>"));
    }

    #[test]
    fn conform_keeps_what_the_target_shape_has() {
        let model = Model::ec2();
        let shape = model.shape_id("ResponseLaunchTemplateData").expect("shape");
        let value = json!({"ImageId": "ami-1", "UserData": "ZWNobw==", "NotAMember": 1});
        assert_eq!(
            conform(model, shape, &value),
            json!({"ImageId": "ami-1", "UserData": "ZWNobw=="})
        );
    }
}
