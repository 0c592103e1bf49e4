//! Launch templates and their versions: what instances launch with (AMI, instance
//! type, user data, tags, metadata options, key, security groups), the calls that
//! manage them (Create/Describe/Delete/ModifyLaunchTemplate,
//! CreateLaunchTemplateVersion, DescribeLaunchTemplateVersions), and [`CloudEnv`], the
//! fleet engine's view of this cloud (subnets and templates it resolves requests in).
//!
//! A version's data is kept as the JSON the caller sent (`RequestLaunchTemplateData`)
//! and echoed through the model's `ResponseLaunchTemplateData` shape.

use std::collections::BTreeMap;

use aws_wire::model::Model;
use base64::Engine as _;
use fleet::spec::LaunchTemplateRef;
use fleet::validate::{Environment, ResolvedTemplate};
use fleet::{ErrorCode, FleetError};
use market::{ZoneId, catalog};
use serde::Deserialize;
use serde_json::{Value, json};
use simtime::SimTime;

use crate::cloud::{ACCOUNT_ID, Cloud, parse};
use crate::error::ApiError;
use crate::filters::{self, Fields, Filter, PageLimits};
use crate::network::{Network, dry_run};
use crate::tags::{self, Tag, TagSpecification, Tags};

/// One version of a template.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateVersion {
    /// 1, 2, ...
    pub number: u32,
    /// `VersionDescription`.
    pub description: Option<String>,
    /// `LaunchTemplateData` as sent.
    pub data: Value,
    /// When it was created.
    pub created_at: SimTime,
}

/// A launch template.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchTemplate {
    /// `lt-...`
    pub id: String,
    /// Unique name.
    pub name: String,
    /// When it was created.
    pub created_at: SimTime,
    /// The version `$Default` resolves to.
    pub default_version: u32,
    /// The highest version number ever created.
    pub latest_version: u32,
    /// Versions by number.
    pub versions: BTreeMap<u32, TemplateVersion>,
}

/// Every launch template, by id.
#[derive(Clone, Debug, Default)]
pub struct Templates {
    by_id: BTreeMap<String, LaunchTemplate>,
}

impl Templates {
    /// A template by id.
    pub fn get(&self, id: &str) -> Option<&LaunchTemplate> {
        self.by_id.get(id)
    }

    /// A template's version data by id and version number.
    pub fn data(&self, id: &str, version: u32) -> Option<&Value> {
        self.by_id
            .get(id)
            .and_then(|t| t.versions.get(&version))
            .map(|v| &v.data)
    }

    fn by_name(&self, name: &str) -> Option<&LaunchTemplate> {
        self.by_id.values().find(|t| t.name == name)
    }

    /// Finds a template by id xor name, with EC2's not-found errors.
    fn find(&self, id: Option<&str>, name: Option<&str>) -> Result<&LaunchTemplate, ApiError> {
        match (id, name) {
            (Some(_), Some(_)) => Err(ApiError::invalid_combination(
                "Specify either the launch template ID or the launch template name, not both.",
            )),
            (Some(id), None) => self.by_id.get(id).ok_or_else(|| {
                ApiError::new(
                    "InvalidLaunchTemplateId.NotFound",
                    format!(
                        "The specified launch template, with template ID {id}, does not exist."
                    ),
                )
            }),
            (None, Some(name)) => self.by_name(name).ok_or_else(|| {
                ApiError::new(
                    "InvalidLaunchTemplateName.NotFoundException",
                    format!(
                        "The specified launch template, with template name {name}, does not exist."
                    ),
                )
            }),
            (None, None) => Err(ApiError::missing("LaunchTemplateId")),
        }
    }

    /// Resolves `$Latest`, `$Default`, a number, or nothing (the default version).
    fn resolve(template: &LaunchTemplate, version: Option<&str>) -> Option<u32> {
        match version {
            None | Some("$Default") => Some(template.default_version),
            Some("$Latest") => Some(template.latest_version),
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|v| template.versions.contains_key(v)),
        }
    }
}

/// The fleet engine's view of this cloud: its subnets and templates.
pub struct CloudEnv<'a> {
    /// Subnets.
    pub network: &'a Network,
    /// Templates.
    pub templates: &'a Templates,
}

impl Environment for CloudEnv<'_> {
    fn subnet_zone(&self, subnet_id: &str) -> Option<ZoneId> {
        self.network.subnet_zone(subnet_id)
    }

    fn launch_template(
        &self,
        id: Option<&str>,
        name: Option<&str>,
        version: Option<&str>,
    ) -> Result<ResolvedTemplate, FleetError> {
        let template = self.templates.find(id, name).map_err(|e| {
            let code = match e.code.as_str() {
                "InvalidLaunchTemplateName.NotFoundException" => {
                    ErrorCode::InvalidLaunchTemplateNameNotFound
                }
                "MissingParameter" => ErrorCode::MissingParameter,
                _ => ErrorCode::InvalidLaunchTemplateIdNotFound,
            };
            FleetError::new(code, e.message)
        })?;
        let number = Templates::resolve(template, version).ok_or_else(|| {
            FleetError::new(
                ErrorCode::InvalidLaunchTemplateVersionNotFound,
                format!(
                    "The specified launch template version {} of template {} does not exist.",
                    version.unwrap_or_default(),
                    template.id
                ),
            )
        })?;
        let data = template
            .versions
            .get(&number)
            .map(|v| &v.data)
            .cloned()
            .unwrap_or(Value::Null);
        let instance_type = data
            .get("InstanceType")
            .and_then(Value::as_str)
            .and_then(|t| catalog().instance_type_id(t));
        Ok(ResolvedTemplate {
            reference: LaunchTemplateRef {
                id: template.id.clone(),
                name: template.name.clone(),
                requested_version: version.unwrap_or("$Default").to_owned(),
                version: number,
                image_id: data
                    .get("ImageId")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            instance_type,
        })
    }

    fn default_zones(&self) -> Vec<ZoneId> {
        catalog().zones().map(|(id, _)| id).collect()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateTemplateInput {
    dry_run: Option<bool>,
    launch_template_name: Option<String>,
    launch_template_data: Option<Value>,
    version_description: Option<String>,
    tag_specifications: Option<Vec<TagSpecification>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateVersionInput {
    dry_run: Option<bool>,
    launch_template_id: Option<String>,
    launch_template_name: Option<String>,
    launch_template_data: Option<Value>,
    source_version: Option<String>,
    version_description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TemplateRefInput {
    dry_run: Option<bool>,
    launch_template_id: Option<String>,
    launch_template_name: Option<String>,
    default_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeTemplatesInput {
    dry_run: Option<bool>,
    #[serde(default)]
    launch_template_ids: Vec<String>,
    #[serde(default)]
    launch_template_names: Vec<String>,
    #[serde(default)]
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeVersionsInput {
    dry_run: Option<bool>,
    launch_template_id: Option<String>,
    launch_template_name: Option<String>,
    #[serde(default)]
    versions: Vec<String>,
    min_version: Option<String>,
    max_version: Option<String>,
    #[serde(default)]
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

struct TemplateFields<'a> {
    template: &'a LaunchTemplate,
    tags: Option<&'a Tags>,
}

impl Fields for TemplateFields<'_> {
    fn field(&self, name: &str) -> Option<Vec<String>> {
        Some(match name {
            "launch-template-name" => vec![self.template.name.clone()],
            "create-time" => vec![self.template.created_at.to_iso_millis()],
            _ => return None,
        })
    }
    fn tags(&self) -> Option<&Tags> {
        self.tags
    }
}

struct VersionFields<'a>(&'a TemplateVersion, bool);

impl Fields for VersionFields<'_> {
    fn field(&self, name: &str) -> Option<Vec<String>> {
        let data = &self.0.data;
        let text = |key: &str| {
            data.get(key)
                .and_then(Value::as_str)
                .map(|s| vec![s.to_owned()])
                .unwrap_or_default()
        };
        Some(match name {
            "create-time" => vec![self.0.created_at.to_iso_millis()],
            "is-default-version" => vec![self.1.to_string()],
            "image-id" => text("ImageId"),
            "instance-type" => text("InstanceType"),
            "kernel-id" => text("KernelId"),
            "ram-disk-id" => text("RamDiskId"),
            _ => return None,
        })
    }
}

/// Checks a template's data as EC2 does at creation: user data must be base64 (at most
/// 16 KiB decoded) and an instance type must exist.
fn check_data(data: &Value) -> Result<(), ApiError> {
    if !data.is_object() {
        return Err(ApiError::missing("LaunchTemplateData"));
    }
    if let Some(user_data) = data.get("UserData").and_then(Value::as_str) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(user_data.trim())
            .map_err(|_| {
                ApiError::new(
                    "InvalidUserData.Malformed",
                    "Invalid BASE64 encoding of user data.",
                )
            })?;
        if decoded.len() > 16 * 1024 {
            return Err(ApiError::invalid_value(
                "User data is limited to 16384 bytes",
            ));
        }
    }
    if let Some(kind) = data.get("InstanceType").and_then(Value::as_str)
        && catalog().instance_type_id(kind).is_none()
    {
        return Err(ApiError::invalid_value(format!(
            "Invalid value '{kind}' for InstanceType. "
        )));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let valid = (3..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "()./_-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid_value(format!(
            "Launch template name '{name}' is invalid: use 3 to 128 letters, digits and ()./_-."
        )))
    }
}

impl Cloud {
    fn template_output(&self, template: &LaunchTemplate) -> Value {
        json!({
            "LaunchTemplateId": template.id,
            "LaunchTemplateName": template.name,
            "CreateTime": template.created_at.to_iso_millis(),
            "CreatedBy": format!("arn:aws:iam::{ACCOUNT_ID}:root"),
            "DefaultVersionNumber": template.default_version,
            "LatestVersionNumber": template.latest_version,
            "Tags": self.tags.of(&template.id).to_list().iter().map(tag_json).collect::<Vec<_>>(),
        })
    }

    fn version_output(&self, template: &LaunchTemplate, version: &TemplateVersion) -> Value {
        let model = Model::ec2();
        let data = model
            .shape_id("ResponseLaunchTemplateData")
            .map(|shape| aws_wire::ec2::conform(model, shape, &version.data))
            .unwrap_or(Value::Null);
        json!({
            "LaunchTemplateId": template.id,
            "LaunchTemplateName": template.name,
            "VersionNumber": version.number,
            "VersionDescription": version.description,
            "CreateTime": version.created_at.to_iso_millis(),
            "CreatedBy": format!("arn:aws:iam::{ACCOUNT_ID}:root"),
            "DefaultVersion": version.number == template.default_version,
            "LaunchTemplateData": data,
        })
    }

    pub(crate) fn create_launch_template(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: CreateTemplateInput = parse(input)?;
        let name = input
            .launch_template_name
            .ok_or_else(|| ApiError::missing("LaunchTemplateName"))?;
        check_name(&name)?;
        let data = input
            .launch_template_data
            .ok_or_else(|| ApiError::missing("LaunchTemplateData"))?;
        check_data(&data)?;
        if self.templates.by_name(&name).is_some() {
            return Err(ApiError::new(
                "InvalidLaunchTemplateName.AlreadyExistsException",
                format!("Launch template name already in use: {name}"),
            ));
        }
        let tags =
            tags::from_specifications(input.tag_specifications.as_deref(), "launch-template")?;
        dry_run(input.dry_run)?;
        let id = self.new_id("lt");
        let now = self.now();
        let template = LaunchTemplate {
            id: id.clone(),
            name,
            created_at: now,
            default_version: 1,
            latest_version: 1,
            versions: BTreeMap::from([(
                1,
                TemplateVersion {
                    number: 1,
                    description: input.version_description,
                    data,
                    created_at: now,
                },
            )]),
        };
        self.tags.put(&id, tags);
        let output = self.template_output(&template);
        self.templates.by_id.insert(id, template);
        Ok(json!({"LaunchTemplate": output}))
    }

    pub(crate) fn create_launch_template_version(
        &mut self,
        input: Value,
    ) -> Result<Value, ApiError> {
        let input: CreateVersionInput = parse(input)?;
        let template = self
            .templates
            .find(
                input.launch_template_id.as_deref(),
                input.launch_template_name.as_deref(),
            )?
            .clone();
        let mut data = input
            .launch_template_data
            .ok_or_else(|| ApiError::missing("LaunchTemplateData"))?;
        if let Some(source) = &input.source_version {
            let number = Templates::resolve(&template, Some(source)).ok_or_else(|| {
                ApiError::new(
                    "InvalidLaunchTemplateId.VersionNotFound",
                    format!(
                        "Could not find launch template version {source} of launch template {}.",
                        template.id
                    ),
                )
            })?;
            // The new version is the source version with the given members replaced.
            let mut base = template
                .versions
                .get(&number)
                .map(|v| v.data.clone())
                .unwrap_or_else(|| json!({}));
            if let (Value::Object(base_map), Value::Object(new)) = (&mut base, data) {
                base_map.extend(new);
            }
            data = base;
        }
        check_data(&data)?;
        dry_run(input.dry_run)?;
        let number = template.latest_version + 1;
        let version = TemplateVersion {
            number,
            description: input.version_description,
            data,
            created_at: self.now(),
        };
        let mut updated = template;
        updated.latest_version = number;
        updated.versions.insert(number, version.clone());
        let output = self.version_output(&updated, &version);
        self.templates.by_id.insert(updated.id.clone(), updated);
        Ok(json!({"LaunchTemplateVersion": output}))
    }

    pub(crate) fn modify_launch_template(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: TemplateRefInput = parse(input)?;
        let template = self
            .templates
            .find(
                input.launch_template_id.as_deref(),
                input.launch_template_name.as_deref(),
            )?
            .clone();
        let mut updated = template;
        if let Some(text) = &input.default_version {
            let number = text
                .parse::<u32>()
                .ok()
                .filter(|n| updated.versions.contains_key(n))
                .ok_or_else(|| {
                    ApiError::new(
                        "InvalidLaunchTemplateId.VersionNotFound",
                        format!(
                            "Could not find launch template version {text} of launch template {}.",
                            updated.id
                        ),
                    )
                })?;
            updated.default_version = number;
        }
        dry_run(input.dry_run)?;
        let output = self.template_output(&updated);
        self.templates.by_id.insert(updated.id.clone(), updated);
        Ok(json!({"LaunchTemplate": output}))
    }

    pub(crate) fn delete_launch_template(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: TemplateRefInput = parse(input)?;
        let template = self
            .templates
            .find(
                input.launch_template_id.as_deref(),
                input.launch_template_name.as_deref(),
            )?
            .clone();
        dry_run(input.dry_run)?;
        let output = self.template_output(&template);
        self.templates.by_id.remove(&template.id);
        self.tags.forget(&template.id);
        Ok(json!({"LaunchTemplate": output}))
    }

    pub(crate) fn describe_launch_templates(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: DescribeTemplatesInput = parse(input)?;
        filters::check(&input.filters, &["create-time", "launch-template-name"])?;
        dry_run(input.dry_run)?;
        let mut wanted = Vec::new();
        for id in &input.launch_template_ids {
            wanted.push(self.templates.find(Some(id), None)?.id.clone());
        }
        for name in &input.launch_template_names {
            wanted.push(self.templates.find(None, Some(name))?.id.clone());
        }
        let selected: Vec<Value> = self
            .templates
            .by_id
            .values()
            .filter(|t| wanted.is_empty() || wanted.contains(&t.id))
            .filter(|t| {
                filters::matches(
                    &input.filters,
                    &TemplateFields {
                        template: t,
                        tags: self.tags.get(&t.id),
                    },
                )
            })
            .map(|t| self.template_output(t))
            .collect();
        let (page, next) = filters::paginate(
            selected,
            input.max_results,
            input.next_token.as_deref(),
            PageLimits::new(1, 200),
        )?;
        Ok(json!({"LaunchTemplates": page, "NextToken": next}))
    }

    pub(crate) fn describe_launch_template_versions(
        &mut self,
        input: Value,
    ) -> Result<Value, ApiError> {
        let input: DescribeVersionsInput = parse(input)?;
        filters::check(
            &input.filters,
            &[
                "create-time",
                "is-default-version",
                "image-id",
                "instance-type",
                "kernel-id",
                "ram-disk-id",
            ],
        )?;
        dry_run(input.dry_run)?;
        let templates: Vec<LaunchTemplate> =
            if input.launch_template_id.is_some() || input.launch_template_name.is_some() {
                vec![
                    self.templates
                        .find(
                            input.launch_template_id.as_deref(),
                            input.launch_template_name.as_deref(),
                        )?
                        .clone(),
                ]
            } else {
                // Without a template, only `$Latest` / `$Default` make sense (AWS).
                if input
                    .versions
                    .iter()
                    .any(|v| v != "$Latest" && v != "$Default")
                {
                    return Err(ApiError::invalid_value(
                        "Version numbers require a launch template ID or name.",
                    ));
                }
                self.templates.by_id.values().cloned().collect()
            };
        let bound = |text: &Option<String>, what: &str| -> Result<Option<u32>, ApiError> {
            text.as_deref()
                .map(|t| {
                    t.parse::<u32>().map_err(|_| {
                        ApiError::invalid_value(format!(
                            "Value ({t}) for parameter {what} is invalid."
                        ))
                    })
                })
                .transpose()
        };
        let (min, max) = (
            bound(&input.min_version, "MinVersion")?,
            bound(&input.max_version, "MaxVersion")?,
        );
        let mut selected = Vec::new();
        for template in &templates {
            let mut numbers: Vec<u32> = Vec::new();
            for version in &input.versions {
                let number = Templates::resolve(template, Some(version)).ok_or_else(|| {
                    ApiError::new(
                        "InvalidLaunchTemplateId.VersionNotFound",
                        format!(
                            "Could not find launch template version {version} of launch template {}.",
                            template.id
                        ),
                    )
                })?;
                numbers.push(number);
            }
            for version in template.versions.values() {
                if !numbers.is_empty() && !numbers.contains(&version.number) {
                    continue;
                }
                if min.is_some_and(|m| version.number < m)
                    || max.is_some_and(|m| version.number > m)
                {
                    continue;
                }
                let is_default = version.number == template.default_version;
                if filters::matches(&input.filters, &VersionFields(version, is_default)) {
                    selected.push(self.version_output(template, version));
                }
            }
        }
        // AWS lists the newest version first.
        selected.reverse();
        let (page, next) = filters::paginate(
            selected,
            input.max_results,
            input.next_token.as_deref(),
            PageLimits::new(1, 200),
        )?;
        Ok(json!({"LaunchTemplateVersions": page, "NextToken": next}))
    }

    /// Whether a launch template exists (for CreateTags).
    pub(crate) fn template_exists(&self, id: &str) -> bool {
        self.templates.get(id).is_some()
    }
}

fn tag_json(tag: &Tag) -> Value {
    json!({"Key": tag.key, "Value": tag.value})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_data_is_checked_as_ec2_checks_it() {
        assert!(check_data(&json!({"UserData": "ZWNobyBoaQ=="})).is_ok());
        let err = check_data(&json!({"UserData": "not base64!"})).unwrap_err();
        assert_eq!(err.code, "InvalidUserData.Malformed");
        let err = check_data(&json!({"InstanceType": "t9.huge"})).unwrap_err();
        assert_eq!(err.code, "InvalidParameterValue");
        assert!(check_name("web-template_1").is_ok());
        assert!(check_name("no").is_err());
        assert!(check_name("bad name").is_err());
    }
}
