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
    /// A scalar.
    Scalar(Scalar),
}

/// An operation's input and output shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The request shape.
    pub input: Option<ShapeId>,
    /// The response shape.
    pub output: Option<ShapeId>,
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
    operations: HashMap<String, Operation>,
    shapes: Vec<Shape>,
    shape_names: Vec<String>,
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
}

#[derive(Deserialize)]
struct RawOperation {
    input: Option<String>,
    output: Option<String>,
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
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMember {
    shape: String,
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
            Ok(Member::new(
                name,
                lookup(&raw.shape)?,
                raw.location_name.clone(),
                raw.query_name.clone(),
                raw.flattened,
            ))
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
                    },
                ))
            })
            .collect::<Result<_, ModelError>>()?;
        Ok(Model {
            api_version: raw.metadata.api_version,
            xml_namespace: raw.metadata.xml_namespace,
            botocore_version: raw.metadata.botocore_version,
            operations,
            shapes,
            shape_names: names,
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

#[cfg(test)]
mod tests {
    use super::*;

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
