//! CreateTags, DeleteTags and DescribeTags over every taggable resource of the cloud
//! (instances, fleets, VPCs, subnets, security groups, launch templates, Spot
//! requests). A resource's kind is read from its id's prefix, as EC2 does.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::cloud::{Cloud, parse};
use crate::error::ApiError;
use crate::filters::{self, Fields, Filter, PageLimits};
use crate::network::dry_run;
use crate::tags::{Tag, Tags, check_user_key};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagsInput {
    dry_run: Option<bool>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    tags: Vec<DeleteTag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteTag {
    key: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeTagsInput {
    dry_run: Option<bool>,
    #[serde(default)]
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// A resource kind: its id prefix, its `resource-type` name, its not-found code.
const KINDS: [(&str, &str, &str); 7] = [
    ("i-", "instance", "InvalidInstanceID.NotFound"),
    ("fleet-", "fleet", "InvalidFleetId.NotFound"),
    ("vpc-", "vpc", "InvalidVpcID.NotFound"),
    ("subnet-", "subnet", "InvalidSubnetID.NotFound"),
    ("sg-", "security-group", "InvalidGroup.NotFound"),
    ("lt-", "launch-template", "InvalidLaunchTemplateId.NotFound"),
    (
        "sir-",
        "spot-instances-request",
        "InvalidSpotInstanceRequestID.NotFound",
    ),
];

fn kind_of(id: &str) -> Option<(&'static str, &'static str)> {
    KINDS
        .iter()
        .find(|(prefix, _, _)| id.starts_with(prefix))
        .map(|(_, kind, code)| (*kind, *code))
}

struct TagRow<'a> {
    resource: &'a str,
    kind: &'static str,
    key: &'a str,
    value: &'a str,
}

impl Fields for TagRow<'_> {
    fn field(&self, name: &str) -> Option<Vec<String>> {
        Some(vec![match name {
            "resource-id" => self.resource.to_owned(),
            "resource-type" => self.kind.to_owned(),
            "key" => self.key.to_owned(),
            "value" => self.value.to_owned(),
            _ => return None,
        }])
    }
    fn tags(&self) -> Option<&Tags> {
        None
    }
}

impl Cloud {
    /// Checks that a taggable resource exists.
    fn check_resource(&self, id: &str) -> Result<(), ApiError> {
        let (kind, code) = kind_of(id)
            .ok_or_else(|| ApiError::new("InvalidID", format!("The ID '{id}' is not valid")))?;
        let exists = match kind {
            "instance" => self.instance_exists(id).is_ok(),
            "fleet" => self.fleet_exists(id),
            "vpc" => self.network.vpcs.contains_key(id),
            "subnet" => self.network.subnets.contains_key(id),
            "security-group" => self.network.groups.contains_key(id),
            "launch-template" => self.template_exists(id),
            _ => self.spot_request_exists(id),
        };
        if exists {
            Ok(())
        } else {
            Err(ApiError::new(
                code,
                format!("The {kind} ID '{id}' does not exist"),
            ))
        }
    }

    pub(crate) fn create_tags(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: TagsInput = parse(input)?;
        if input.resources.is_empty() {
            return Err(ApiError::missing("ResourceId"));
        }
        if input.tags.is_empty() {
            return Err(ApiError::missing("Tag"));
        }
        let mut tags = Vec::new();
        for tag in &input.tags {
            let key = tag
                .key
                .clone()
                .ok_or_else(|| ApiError::missing("Tag.Key"))?;
            check_user_key(&key)?;
            tags.push(Tag {
                key,
                value: tag.value.clone().unwrap_or_default(),
            });
        }
        for resource in &input.resources {
            self.check_resource(resource)?;
            let mut merged = self.tags.of(resource);
            for tag in &tags {
                merged.set(tag.key.clone(), tag.value.clone());
            }
            if merged.to_list().len() > crate::tags::MAX_TAGS {
                return Err(ApiError::new(
                    "TagLimitExceeded",
                    format!(
                        "The maximum number of tags per resource is {}.",
                        crate::tags::MAX_TAGS
                    ),
                ));
            }
        }
        dry_run(input.dry_run)?;
        for resource in &input.resources {
            self.tags.add(resource, &tags)?;
        }
        Ok(json!({}))
    }

    pub(crate) fn delete_tags(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: TagsInput = parse(input)?;
        if input.resources.is_empty() {
            return Err(ApiError::missing("ResourceId"));
        }
        let mut tags = Vec::new();
        for tag in &input.tags {
            let key = tag
                .key
                .clone()
                .ok_or_else(|| ApiError::missing("Tag.Key"))?;
            check_user_key(&key)?;
            tags.push((key, tag.value.clone()));
        }
        for resource in &input.resources {
            self.check_resource(resource)?;
        }
        dry_run(input.dry_run)?;
        for resource in &input.resources {
            if tags.is_empty() {
                // No tags named: every user tag goes (AWS's own `aws:` tags stay).
                let current = self.tags.of(resource);
                let user: Vec<(String, Option<String>)> = current
                    .keys()
                    .filter(|k| check_user_key(k).is_ok())
                    .map(|k| (k.to_owned(), None))
                    .collect();
                self.tags.remove(resource, &user);
            } else {
                self.tags.remove(resource, &tags);
            }
        }
        Ok(json!({}))
    }

    pub(crate) fn describe_tags(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: DescribeTagsInput = parse(input)?;
        filters::check(
            &input.filters,
            &["resource-id", "resource-type", "key", "value"],
        )?;
        dry_run(input.dry_run)?;
        let mut rows = Vec::new();
        for (resource, tags) in self.tags.iter() {
            let Some((kind, _)) = kind_of(resource) else {
                continue;
            };
            if self.check_resource(resource).is_err() {
                continue;
            }
            for tag in tags.to_list() {
                let row = TagRow {
                    resource,
                    kind,
                    key: &tag.key,
                    value: &tag.value,
                };
                if filters::matches(&input.filters, &row) {
                    rows.push(json!({
                        "ResourceId": resource,
                        "ResourceType": kind,
                        "Key": tag.key,
                        "Value": tag.value,
                    }));
                }
            }
        }
        let (page, next) = filters::paginate(
            rows,
            input.max_results,
            input.next_token.as_deref(),
            PageLimits::new(5, 1000),
        )?;
        Ok(json!({"Tags": page, "NextToken": next}))
    }
}
