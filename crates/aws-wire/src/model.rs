//! AWS service models: the shapes, member names and wire names of an API, read from a
//! trimmed copy of botocore's own model (`models/*.json`, written by `models/trim.py`).
//!
//! The codecs (`ec2`) walk these shapes to turn wire requests into JSON named by the
//! model's members (the names the AWS CLI's `--cli-input-json` and the SDKs use) and
//! JSON answers back into wire responses, so every operation's naming traps
//! (`LaunchTemplateConfig.N` vs `LaunchTemplateConfigs.N`, `tagSet`, `instancesSet`, ...)
//! are data, not code. Semantics (enums, ranges, what a request means) are the
//! services' business, not this module's.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

const EC2_MODEL: &str = include_str!("../models/ec2.json");
const CLOUDWATCH_MODEL: &str = include_str!("../models/cloudwatch.json");
const SNS_MODEL: &str = include_str!("../models/sns.json");
const EVENTS_MODEL: &str = include_str!("../models/events.json");
const IAM_MODEL: &str = include_str!("../models/iam.json");
const FIS_MODEL: &str = include_str!("../models/fis.json");

/// Index of a shape in its [`Model`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ShapeId(usize);

/// A scalar's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    /// Text (enums are strings too).
    String,
    /// A 32-bit integer.
    Integer,
    /// A 64-bit integer.
    Long,
    /// `true` or `false`.
    Boolean,
    /// A double.
    Double,
    /// A float.
    Float,
    /// A timestamp (ISO 8601 on the query and EC2 protocols).
    Timestamp,
    /// Bytes, base64 on the wire.
    Blob,
}

/// A member of a structure or the element of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's name in the model (the JSON/SDK name), e.g. `LaunchTemplateConfigs`.
    pub name: String,
    /// Its shape.
    pub shape: ShapeId,
    /// `locationName`: the XML element name, and the basis of the EC2 query name.
    pub location_name: Option<String>,
    /// `queryName`: the EC2 query name when it is not derived from `locationName`.
    pub query_name: Option<String>,
    /// A flattened list (no wrapper element).
    pub flattened: bool,
    /// `location` of a REST protocol's request member: `uri` (a label of the request
    /// URI, named by `locationName`), `querystring` or `header`; `None` for the body.
    pub location: Option<String>,
    /// The parameter name in EC2 query requests, derived once (see
    /// [`Member::ec2_query_name`]).
    ec2_name: String,
}

impl Member {
    /// A member as the model defines it.
    pub fn new(
        name: &str,
        shape: ShapeId,
        location_name: Option<String>,
        query_name: Option<String>,
        flattened: bool,
    ) -> Member {
        let ec2_name = match (&query_name, &location_name) {
            (Some(query), _) => query.clone(),
            (None, Some(location)) => {
                let mut chars = location.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => name.to_owned(),
                }
            }
            (None, None) => name.to_owned(),
        };
        Member {
            name: name.to_owned(),
            shape,
            location_name,
            query_name,
            flattened,
            location: None,
            ec2_name,
        }
    }

    /// The element name in XML responses: `locationName`, else the member name.
    pub fn xml_name(&self) -> &str {
        self.location_name.as_deref().unwrap_or(&self.name)
    }

    /// The parameter name in EC2 query requests: `queryName`, else `locationName` with
    /// its first letter upper-cased, else the member name.
    pub fn ec2_query_name(&self) -> &str {
        &self.ec2_name
    }
}

/// One shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A structure: named members, some required.
    Structure {
        /// Members, sorted by name (see [`find_member`]).
        members: Vec<Member>,
        /// Names of the required members.
        required: Vec<String>,
    },
    /// A list of one element shape.
    List {
        /// The element.
        member: Member,
        /// No wrapper element on the wire.
        flattened: bool,
    },
    /// A map from keys of one shape to values of another.
    Map {
        /// The key (`locationName` names its element or query key, default `key`).
        key: Member,
        /// The value (default element or query key `value`).
        value: Member,
        /// No `entry` wrapper on the wire.
        flattened: bool,
    },
    /// A scalar.
    Scalar(Scalar),
}

/// How a modeled error shape travels: its query code, HTTP status and fault side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorInfo {
    /// The query protocol's code (`InvalidParameterValue` for
    /// `InvalidParameterValueException`); the shape's name when the model gives none.
    pub code: String,
    /// The HTTP status (400 unless the model says otherwise).
    pub status: u16,
    /// The client's fault (`Sender`) rather than the service's (`Receiver`).
    pub sender_fault: bool,
}

/// An operation's input and output shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The request shape.
    pub input: Option<ShapeId>,
    /// The response shape.
    pub output: Option<ShapeId>,
    /// The error shapes the operation may answer with, sorted by name.
    pub errors: Vec<ShapeId>,
    /// A REST protocol's route: the method and the request URI template.
    pub http: Option<Http>,
}

/// Where a REST protocol's operation is served.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http {
    /// e.g. `POST`.
    pub method: String,
    /// e.g. `/experimentTemplates/{id}`: literal segments and `{label}`s.
    pub request_uri: String,
}

/// A service model.
#[derive(Debug)]
pub struct Model {
    /// e.g. `2016-11-15`.
    pub api_version: String,
    /// XML namespace of responses, e.g. `http://ec2.amazonaws.com/doc/2016-11-15`.
    pub xml_namespace: Option<String>,
    /// The botocore version the model was trimmed from.
    pub botocore_version: String,
    /// The service's protocol as botocore names it (`ec2`, `query`, `json`,
    /// `smithy-rpc-v2-cbor`).
    pub protocol: String,
    /// Every protocol the service speaks, in the model's order.
    pub protocols: Vec<String>,
    /// `X-Amz-Target` prefix of the JSON protocols (`GraniteServiceVersion20100801`).
    pub target_prefix: Option<String>,
    /// JSON protocol version (`1.0`, `1.1`).
    pub json_version: Option<String>,
    /// The service answers JSON and CBOR errors with the query protocol's codes too
    /// (`x-amzn-query-error`).
    pub aws_query_compatible: bool,
    /// The SigV4 signing name, e.g. `monitoring`.
    pub signing_name: Option<String>,
    /// The service id, e.g. `CloudWatch`.
    pub service_id: Option<String>,
    operations: HashMap<String, Operation>,
    shapes: Vec<Shape>,
    shape_names: Vec<String>,
    errors: HashMap<ShapeId, ErrorInfo>,
}

/// Why a model file could not be loaded (a build defect, caught by tests).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Not JSON of the expected form.
    #[error("model is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A reference to a shape that the file does not define.
    #[error("shape {0:?} is referenced but not defined")]
    MissingShape(String),
    /// A shape type the codecs do not handle.
    #[error("shape {name:?} has unsupported type {kind:?}")]
    UnsupportedType {
        /// The shape.
        name: String,
        /// Its type.
        kind: String,
    },
}

#[derive(Deserialize)]
struct RawModel {
    metadata: RawMetadata,
    operations: HashMap<String, RawOperation>,
    shapes: HashMap<String, RawShape>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetadata {
    api_version: String,
    xml_namespace: Option<String>,
    botocore_version: String,
    #[serde(default)]
    protocol: String,
    #[serde(default)]
    protocols: Vec<String>,
    target_prefix: Option<String>,
    json_version: Option<String>,
    aws_query_compatible: Option<serde_json::Value>,
    signing_name: Option<String>,
    service_id: Option<String>,
}

#[derive(Deserialize)]
struct RawOperation {
    input: Option<String>,
    output: Option<String>,
    #[serde(default)]
    errors: Vec<String>,
    http: Option<Http>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawError {
    code: Option<String>,
    http_status_code: Option<u16>,
    #[serde(default)]
    sender_fault: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    /// Sorted by name (the model's own order carries no meaning on the wire).
    #[serde(default)]
    members: std::collections::BTreeMap<String, RawMember>,
    member: Option<RawMember>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    flattened: bool,
    key: Option<RawMember>,
    value: Option<RawMember>,
    error: Option<RawError>,
    #[serde(default)]
    exception: bool,
    fault: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMember {
    shape: String,
    location: Option<String>,
    location_name: Option<String>,
    query_name: Option<String>,
    #[serde(default)]
    flattened: bool,
}

impl Model {
    /// The EC2 model (API version 2016-11-15), parsed once.
    pub fn ec2() -> &'static Model {
        static EC2: OnceLock<Model> = OnceLock::new();
        EC2.get_or_init(|| match Model::parse(EC2_MODEL) {
            Ok(model) => model,
            // The file is embedded at build time and loaded by every test; a failure
            // here is a defect of the build, not of any input.
            Err(error) => panic!("embedded EC2 model: {error}"),
        })
    }

    /// The CloudWatch model (API version 2010-08-01), parsed once.
    pub fn cloudwatch() -> &'static Model {
        static CLOUDWATCH: OnceLock<Model> = OnceLock::new();
        CLOUDWATCH.get_or_init(|| embedded("CloudWatch", CLOUDWATCH_MODEL))
    }

    /// The SNS model (API version 2010-03-31), parsed once.
    pub fn sns() -> &'static Model {
        static SNS: OnceLock<Model> = OnceLock::new();
        SNS.get_or_init(|| embedded("SNS", SNS_MODEL))
    }

    /// The EventBridge model (API version 2015-10-07), parsed once.
    pub fn events() -> &'static Model {
        static EVENTS: OnceLock<Model> = OnceLock::new();
        EVENTS.get_or_init(|| embedded("EventBridge", EVENTS_MODEL))
    }

    /// The IAM model (API version 2010-05-08), parsed once.
    pub fn iam() -> &'static Model {
        static IAM: OnceLock<Model> = OnceLock::new();
        IAM.get_or_init(|| embedded("IAM", IAM_MODEL))
    }

    /// The FIS model (API version 2020-12-01, REST-JSON), parsed once.
    pub fn fis() -> &'static Model {
        static FIS: OnceLock<Model> = OnceLock::new();
        FIS.get_or_init(|| embedded("FIS", FIS_MODEL))
    }

    /// Parses a model written by `models/trim.py`.
    pub fn parse(text: &str) -> Result<Model, ModelError> {
        let raw: RawModel = serde_json::from_str(text)?;
        let mut names: Vec<String> = raw.shapes.keys().cloned().collect();
        names.sort();
        let index: HashMap<&str, ShapeId> = names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_str(), ShapeId(i)))
            .collect();
        let lookup = |name: &str| {
            index
                .get(name)
                .copied()
                .ok_or_else(|| ModelError::MissingShape(name.to_owned()))
        };
        let member = |name: &str, raw: &RawMember| -> Result<Member, ModelError> {
            let mut member = Member::new(
                name,
                lookup(&raw.shape)?,
                raw.location_name.clone(),
                raw.query_name.clone(),
                raw.flattened,
            );
            member.location = raw.location.clone();
            Ok(member)
        };
        let mut shapes = Vec::with_capacity(names.len());
        for name in &names {
            let shape = &raw.shapes[name];
            shapes.push(match shape.kind.as_str() {
                "structure" => Shape::Structure {
                    members: shape
                        .members
                        .iter()
                        .map(|(n, m)| member(n, m))
                        .collect::<Result<_, _>>()?,
                    required: shape.required.clone(),
                },
                "list" => {
                    let element = shape
                        .member
                        .as_ref()
                        .ok_or_else(|| ModelError::MissingShape(format!("{name}.member")))?;
                    Shape::List {
                        member: member("member", element)?,
                        flattened: shape.flattened,
                    }
                }
                "map" => {
                    let part = |raw: &Option<RawMember>, part: &str| {
                        raw.as_ref()
                            .ok_or_else(|| ModelError::MissingShape(format!("{name}.{part}")))
                            .and_then(|m| member(part, m))
                    };
                    Shape::Map {
                        key: part(&shape.key, "key")?,
                        value: part(&shape.value, "value")?,
                        flattened: shape.flattened,
                    }
                }
                "string" => Shape::Scalar(Scalar::String),
                "integer" => Shape::Scalar(Scalar::Integer),
                "long" => Shape::Scalar(Scalar::Long),
                "boolean" => Shape::Scalar(Scalar::Boolean),
                "double" => Shape::Scalar(Scalar::Double),
                "float" => Shape::Scalar(Scalar::Float),
                "timestamp" => Shape::Scalar(Scalar::Timestamp),
                "blob" => Shape::Scalar(Scalar::Blob),
                other => {
                    return Err(ModelError::UnsupportedType {
                        name: name.clone(),
                        kind: other.to_owned(),
                    });
                }
            });
        }
        let operations = raw
            .operations
            .iter()
            .map(|(name, op)| {
                Ok((
                    name.clone(),
                    Operation {
                        input: op.input.as_deref().map(lookup).transpose()?,
                        output: op.output.as_deref().map(lookup).transpose()?,
                        errors: op
                            .errors
                            .iter()
                            .map(|e| lookup(e))
                            .collect::<Result<_, _>>()?,
                        http: op.http.clone(),
                    },
                ))
            })
            .collect::<Result<_, ModelError>>()?;
        let mut errors = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            let shape = &raw.shapes[name];
            if !shape.exception {
                continue;
            }
            let info = shape.error.as_ref();
            let server = shape.fault.unwrap_or(false);
            errors.insert(
                ShapeId(i),
                ErrorInfo {
                    code: info
                        .and_then(|e| e.code.clone())
                        .unwrap_or_else(|| name.clone()),
                    status: info.and_then(|e| e.http_status_code).unwrap_or(if server {
                        500
                    } else {
                        400
                    }),
                    sender_fault: info.map_or(!server, |e| e.sender_fault || !server),
                },
            );
        }
        Ok(Model {
            api_version: raw.metadata.api_version,
            xml_namespace: raw.metadata.xml_namespace,
            botocore_version: raw.metadata.botocore_version,
            protocol: raw.metadata.protocol,
            protocols: raw.metadata.protocols,
            target_prefix: raw.metadata.target_prefix,
            json_version: raw.metadata.json_version,
            aws_query_compatible: raw.metadata.aws_query_compatible.is_some(),
            signing_name: raw.metadata.signing_name,
            service_id: raw.metadata.service_id,
            operations,
            shapes,
            shape_names: names,
            errors,
        })
    }

    /// An operation by name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    /// Every operation's name, sorted.
    pub fn operation_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.operations.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// A shape.
    pub fn shape(&self, id: ShapeId) -> &Shape {
        &self.shapes[id.0]
    }

    /// A shape's name in the model, for messages.
    pub fn shape_name(&self, id: ShapeId) -> &str {
        &self.shape_names[id.0]
    }

    /// How an error shape travels, if `id` is an error shape.
    pub fn error_info(&self, id: ShapeId) -> Option<&ErrorInfo> {
        self.errors.get(&id)
    }

    /// The error shape whose query code or name is `code`.
    pub fn error_by_code(&self, code: &str) -> Option<(ShapeId, &ErrorInfo)> {
        let mut found: Vec<(ShapeId, &ErrorInfo)> = self
            .errors
            .iter()
            .filter(|(id, info)| info.code == code || self.shape_name(**id) == code)
            .map(|(id, info)| (*id, info))
            .collect();
        found.sort_by_key(|(id, _)| id.0);
        found.into_iter().next()
    }

    /// A shape by name.
    pub fn shape_id(&self, name: &str) -> Option<ShapeId> {
        self.shape_names
            .binary_search_by(|n| n.as_str().cmp(name))
            .ok()
            .map(ShapeId)
    }
}

/// The member of a structure named `name` (members are sorted by name).
pub fn find_member<'a>(members: &'a [Member], name: &str) -> Option<&'a Member> {
    members
        .binary_search_by(|m| m.name.as_str().cmp(name))
        .ok()
        .map(|i| &members[i])
}

/// An embedded model; a failure is a defect of the build, caught by every test.
fn embedded(service: &str, text: &str) -> Model {
    match Model::parse(text) {
        Ok(model) => model,
        Err(error) => panic!("embedded {service} model: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monitoring_models_load_with_their_protocol_facts() {
        let cloudwatch = Model::cloudwatch();
        assert_eq!(cloudwatch.api_version, "2010-08-01");
        assert!(cloudwatch.aws_query_compatible);
        assert_eq!(
            cloudwatch.target_prefix.as_deref(),
            Some("GraniteServiceVersion20100801")
        );
        let (_, info) = cloudwatch
            .error_by_code("InvalidParameterValueException")
            .expect("error shape");
        assert_eq!(info.code, "InvalidParameterValue");
        assert_eq!(info.status, 400);
        let sns = Model::sns();
        assert_eq!(sns.protocol, "query");
        let map = sns.shape_id("MessageAttributeMap").expect("map");
        let Shape::Map { key, value, .. } = sns.shape(map) else {
            panic!("MessageAttributeMap is a map");
        };
        assert_eq!(key.xml_name(), "Name");
        assert_eq!(value.xml_name(), "Value");
        let (_, not_found) = sns.error_by_code("NotFound").expect("NotFound");
        assert_eq!(not_found.status, 404);
        let events = Model::events();
        assert_eq!(events.json_version.as_deref(), Some("1.1"));
        assert_eq!(events.target_prefix.as_deref(), Some("AWSEvents"));
        assert!(
            events
                .operation("PutRule")
                .is_some_and(|op| !op.errors.is_empty())
        );
    }

    #[test]
    fn the_iam_model_loads_with_its_error_statuses() {
        let iam = Model::iam();
        assert_eq!(iam.api_version, "2010-05-08");
        assert_eq!(iam.protocol, "query");
        for (code, status) in [
            ("NoSuchEntity", 404),
            ("EntityAlreadyExists", 409),
            ("DeleteConflict", 409),
            ("LimitExceeded", 409),
            ("MalformedPolicyDocument", 400),
        ] {
            let (_, info) = iam.error_by_code(code).expect(code);
            assert_eq!((info.status, info.sender_fault), (status, true), "{code}");
        }
    }

    #[test]
    fn the_ec2_model_loads_with_its_naming_traps() {
        let model = Model::ec2();
        assert_eq!(model.api_version, "2016-11-15");
        let create = model.operation("CreateFleet").expect("CreateFleet");
        let input = create.input.expect("input");
        let Shape::Structure { members, required } = model.shape(input) else {
            panic!("CreateFleetRequest is a structure");
        };
        assert!(required.contains(&"LaunchTemplateConfigs".to_owned()));
        let tags = members
            .iter()
            .find(|m| m.name == "TagSpecifications")
            .expect("TagSpecifications");
        assert_eq!(tags.ec2_query_name(), "TagSpecification");
        let modify = model.operation("ModifyFleet").and_then(|o| o.input);
        let Some(Shape::Structure { members, .. }) = modify.map(|id| model.shape(id)) else {
            panic!("ModifyFleetRequest");
        };
        let configs = members
            .iter()
            .find(|m| m.name == "LaunchTemplateConfigs")
            .expect("LaunchTemplateConfigs");
        assert_eq!(configs.ec2_query_name(), "LaunchTemplateConfig");
        let output = model
            .operation("DescribeInstances")
            .and_then(|o| o.output)
            .expect("output");
        let Shape::Structure { members, .. } = model.shape(output) else {
            panic!("DescribeInstancesResult");
        };
        assert!(members.iter().any(|m| m.xml_name() == "reservationSet"));
        assert!(model.shape_id("FleetData").is_some());
    }
}
