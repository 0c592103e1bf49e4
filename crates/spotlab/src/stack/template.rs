//! The stack's launch template: created once, tagged `spotlab:stack`, and given a new
//! default version only when the file's data differs from the current default's (so
//! `up` twice creates nothing new).

use anyhow::ensure;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    InstanceType, LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateTagSpecificationRequest, RequestLaunchTemplateData, ResourceType,
    ResponseLaunchTemplateData, Tag,
};
use serde::Serialize;

use super::network::{filter, stack_filter, tag_specification, tags};
use super::note;
use super::spec::{self, STACK_TAG, Stack};
use crate::aws::{Context as _, required};

/// The launch template's outputs.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TemplateOutput {
    /// Id.
    pub launch_template_id: String,
    /// Name.
    pub launch_template_name: String,
    /// The default version: the one that has the file's data.
    pub default_version_number: i64,
}

/// What the launch template names of the rest of the stack.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Refs<'a> {
    /// The stack's name: the instances launched from the template carry its tag.
    pub stack: &'a str,
    /// The stack's security group.
    pub security_group_id: Option<&'a str>,
    /// The stack's instance profile, by ARN.
    pub instance_profile_arn: Option<&'a str>,
}

/// The launch template data the file asks for, in the request's shape.
/// The file's tag specifications with the stack's tag added to the instances' (so
/// every instance launched from the template says which stack it belongs to).
fn tag_specifications(template: &spec::LaunchTemplate, stack: &str) -> Vec<spec::TagSpecification> {
    let mut specs = template.tag_specifications.clone();
    let stack_tag = spec::Tag {
        key: STACK_TAG.to_owned(),
        value: stack.to_owned(),
    };
    match specs.iter_mut().find(|s| s.resource_type == "instance") {
        Some(instance) => instance.tags.push(stack_tag),
        None => specs.push(spec::TagSpecification {
            resource_type: "instance".to_owned(),
            tags: vec![stack_tag],
        }),
    }
    specs
}

fn template_data(template: &spec::LaunchTemplate, refs: Refs<'_>) -> RequestLaunchTemplateData {
    let tag_specifications = tag_specifications(template, refs.stack)
        .iter()
        .map(|spec| {
            LaunchTemplateTagSpecificationRequest::builder()
                .resource_type(ResourceType::from(spec.resource_type.as_str()))
                .set_tags(Some(
                    spec.tags
                        .iter()
                        .map(|t| Tag::builder().key(&t.key).value(&t.value).build())
                        .collect(),
                ))
                .build()
        })
        .collect::<Vec<_>>();
    RequestLaunchTemplateData::builder()
        .image_id(&template.image_id)
        .set_instance_type(template.instance_type.as_deref().map(InstanceType::from))
        .set_key_name(template.key_name.clone())
        .set_user_data(template.user_data_base64.clone())
        .set_security_group_ids(refs.security_group_id.map(|id| vec![id.to_owned()]))
        .set_iam_instance_profile(refs.instance_profile_arn.map(|arn| {
            LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .arn(arn)
                .build()
        }))
        .set_tag_specifications((!tag_specifications.is_empty()).then_some(tag_specifications))
        .build()
}

/// What decides whether a version already has the file's data: the members the file
/// sets, tags and groups in a canonical order.
type Fingerprint = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    Vec<(String, Vec<(String, String)>)>,
    Option<String>,
);

fn fingerprint_of_file(template: &spec::LaunchTemplate, refs: Refs<'_>) -> Fingerprint {
    let mut specs: Vec<(String, Vec<(String, String)>)> = tag_specifications(template, refs.stack)
        .iter()
        .map(|spec| {
            let mut tags: Vec<(String, String)> = spec
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect();
            tags.sort();
            (spec.resource_type.clone(), tags)
        })
        .collect();
    specs.sort();
    (
        Some(template.image_id.clone()),
        template.instance_type.clone(),
        template.key_name.clone(),
        template.user_data_base64.clone(),
        refs.security_group_id
            .map(str::to_owned)
            .into_iter()
            .collect(),
        specs,
        refs.instance_profile_arn.map(str::to_owned),
    )
}

fn fingerprint_of_version(data: &ResponseLaunchTemplateData) -> Fingerprint {
    // A launch template's data never tags the template itself (EC2 refuses that
    // resource type there); moto echoes the template's own tags into it, so they are
    // not part of what the file set.
    let mut specs: Vec<(String, Vec<(String, String)>)> = data
        .tag_specifications()
        .iter()
        .filter(|spec| spec.resource_type() != Some(&ResourceType::LaunchTemplate))
        .map(|spec| {
            let mut tags: Vec<(String, String)> = spec
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            tags.sort();
            (
                spec.resource_type()
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default(),
                tags,
            )
        })
        .collect();
    specs.sort();
    let mut groups = data.security_group_ids().to_vec();
    groups.sort();
    (
        data.image_id().map(str::to_owned),
        data.instance_type().map(|t| t.as_str().to_owned()),
        data.key_name().map(str::to_owned),
        data.user_data().map(str::to_owned),
        groups,
        specs,
        data.iam_instance_profile()
            .and_then(|p| p.arn())
            .map(str::to_owned),
    )
}

pub(super) async fn up(
    ec2: &Client,
    stack: &Stack,
    template: &spec::LaunchTemplate,
    refs: Refs<'_>,
) -> anyhow::Result<TemplateOutput> {
    let found = ec2
        .describe_launch_templates()
        .filters(filter("launch-template-name", &[&template.name]))
        .send()
        .await
        .doing(|| format!("finding the launch template {}", template.name))?;
    let data = template_data(template, refs);
    let Some(existing) = found.launch_templates().first() else {
        let own_tags = tags(stack, None, &template.tags);
        let created = ec2
            .create_launch_template()
            .launch_template_name(&template.name)
            .launch_template_data(data)
            .tag_specifications(tag_specification(ResourceType::LaunchTemplate, own_tags))
            .send()
            .await
            .doing(|| format!("creating the launch template {}", template.name))?;
        let created = created.launch_template().ok_or_else(|| {
            anyhow::anyhow!("CreateLaunchTemplate answered without a LaunchTemplate")
        })?;
        let id = required(
            created.launch_template_id(),
            "CreateLaunchTemplate",
            "LaunchTemplateId",
        )?
        .to_owned();
        note(
            stack,
            &format!("created launch template {id} ({})", template.name),
        );
        return Ok(TemplateOutput {
            launch_template_id: id,
            launch_template_name: template.name.clone(),
            default_version_number: created.default_version_number().unwrap_or(1),
        });
    };
    let id = required(
        existing.launch_template_id(),
        "DescribeLaunchTemplates",
        "LaunchTemplateId",
    )?
    .to_owned();
    let owner = existing
        .tags()
        .iter()
        .find(|t| t.key() == Some(STACK_TAG))
        .and_then(|t| t.value());
    ensure!(
        owner == Some(stack.name.as_str()),
        "a launch template named {} ({id}) already exists and is not stack {}'s (its tag \
         {STACK_TAG} is {owner:?})",
        template.name,
        stack.name
    );
    let versions = ec2
        .describe_launch_template_versions()
        .launch_template_id(&id)
        .versions("$Default")
        .send()
        .await
        .doing(|| format!("reading the default version of launch template {id}"))?;
    let current = versions.launch_template_versions().first();
    let same = current
        .and_then(|v| v.launch_template_data())
        .is_some_and(|d| fingerprint_of_version(d) == fingerprint_of_file(template, refs));
    if same {
        return Ok(TemplateOutput {
            launch_template_id: id,
            launch_template_name: template.name.clone(),
            default_version_number: existing.default_version_number().unwrap_or(1),
        });
    }
    let version = ec2
        .create_launch_template_version()
        .launch_template_id(&id)
        .launch_template_data(data)
        .version_description(format!("spotlab stack {}", stack.name))
        .send()
        .await
        .doing(|| format!("adding a version to launch template {id}"))?;
    let number = version
        .launch_template_version()
        .and_then(|v| v.version_number())
        .ok_or_else(|| anyhow::anyhow!("CreateLaunchTemplateVersion answered without a number"))?;
    ec2.modify_launch_template()
        .launch_template_id(&id)
        .default_version(number.to_string())
        .send()
        .await
        .doing(|| format!("making version {number} launch template {id}'s default"))?;
    note(
        stack,
        &format!(
            "launch template {id} ({}): the file changed, version {number} is now the default",
            template.name
        ),
    );
    Ok(TemplateOutput {
        launch_template_id: id,
        launch_template_name: template.name.clone(),
        default_version_number: number,
    })
}

/// The stack's launch templates: `(id, name)`.
pub(super) async fn of_stack(ec2: &Client, stack: &Stack) -> anyhow::Result<Vec<(String, String)>> {
    let found = ec2
        .describe_launch_templates()
        .filters(stack_filter(stack))
        .send()
        .await
        .doing(|| format!("finding the launch templates of stack {}", stack.name))?;
    found
        .launch_templates()
        .iter()
        .map(|t| {
            let id = required(
                t.launch_template_id(),
                "DescribeLaunchTemplates",
                "LaunchTemplateId",
            )?;
            Ok((
                id.to_owned(),
                t.launch_template_name().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}
