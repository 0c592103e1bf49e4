//! A stack's network through aws-sdk-ec2: the VPC, its subnets and the security group,
//! found again by the `spotlab:stack` tag (so `up` twice creates nothing new), and
//! deleted, with the launch template, by `down`. The launch template itself is
//! `template.rs`'s, the fleets launched from it `fleets.rs`'s; alarms, topics and rules
//! are `monitoring.rs`'s.

use anyhow::{bail, ensure};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use serde::Serialize;

use super::note;
use super::spec::{self, STACK_TAG, Stack};
use super::template;
use crate::aws::{Context as _, required};

/// What `up` made of the stack's EC2 side.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    /// The VPC's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// The subnets, in the file's order.
    pub subnets: Vec<SubnetOutput>,
    /// The subnets' ids alone, in the file's order.
    pub subnet_ids: Vec<String>,
    /// The security group's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_group_id: Option<String>,
    /// The launch template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_template: Option<template::TemplateOutput>,
}

/// A subnet's outputs.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubnetOutput {
    /// Id.
    pub subnet_id: String,
    /// Zone.
    pub availability_zone: String,
    /// Block.
    pub cidr_block: String,
}

pub(super) fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| (*v).to_owned()).collect()))
        .build()
}

pub(super) fn stack_filter(stack: &Stack) -> Filter {
    filter(&format!("tag:{STACK_TAG}"), &[&stack.name])
}

pub(super) fn tags(stack: &Stack, name: Option<&str>, extra: &[spec::Tag]) -> Vec<Tag> {
    let mut tags = vec![Tag::builder().key(STACK_TAG).value(&stack.name).build()];
    if let Some(name) = name
        && !extra.iter().any(|t| t.key == "Name")
    {
        tags.push(Tag::builder().key("Name").value(name).build());
    }
    tags.extend(
        extra
            .iter()
            .map(|t| Tag::builder().key(&t.key).value(&t.value).build()),
    );
    tags
}

pub(super) fn tag_specification(kind: ResourceType, tags: Vec<Tag>) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(tags))
        .build()
}

/// Creates what is missing of the stack's EC2 side and returns its ids.
pub async fn up(
    ec2: &Client,
    stack: &Stack,
    instance_profile_arn: Option<&str>,
) -> anyhow::Result<Network> {
    let Some(vpc) = &stack.vpc else {
        let refs = template::Refs {
            stack: &stack.name,
            security_group_id: None,
            instance_profile_arn,
        };
        let launch_template = match &stack.launch_template {
            Some(template) => Some(template::up(ec2, stack, template, refs).await?),
            None => None,
        };
        return Ok(Network {
            launch_template,
            ..Network::default()
        });
    };
    let vpc_id = self::vpc(ec2, stack, vpc).await?;
    let subnets = subnets(ec2, stack, &vpc_id).await?;
    let security_group_id = match &stack.security_group {
        Some(group) => Some(security_group(ec2, stack, &vpc_id, group).await?),
        None => None,
    };
    let launch_template = match &stack.launch_template {
        Some(template) => {
            let refs = template::Refs {
                stack: &stack.name,
                security_group_id: security_group_id.as_deref(),
                instance_profile_arn,
            };
            Some(template::up(ec2, stack, template, refs).await?)
        }
        None => None,
    };
    Ok(Network {
        vpc_id: Some(vpc_id),
        subnet_ids: subnets.iter().map(|s| s.subnet_id.clone()).collect(),
        subnets,
        security_group_id,
        launch_template,
    })
}

async fn vpc(ec2: &Client, stack: &Stack, vpc: &spec::Vpc) -> anyhow::Result<String> {
    let found = ec2
        .describe_vpcs()
        .filters(stack_filter(stack))
        .send()
        .await
        .doing(|| format!("finding the VPC of stack {}", stack.name))?;
    match found.vpcs() {
        [] => {
            let created = ec2
                .create_vpc()
                .cidr_block(&vpc.cidr_block)
                .tag_specifications(tag_specification(
                    ResourceType::Vpc,
                    tags(stack, Some(&format!("{}-Vpc", stack.name)), &vpc.tags),
                ))
                .send()
                .await
                .doing(|| format!("creating the VPC {}", vpc.cidr_block))?;
            let id = created
                .vpc()
                .and_then(|v| v.vpc_id())
                .ok_or_else(|| anyhow::anyhow!("CreateVpc answered without a VpcId"))?
                .to_owned();
            note(stack, &format!("created VPC {id} ({})", vpc.cidr_block));
            Ok(id)
        }
        [existing] => {
            let id = required(existing.vpc_id(), "DescribeVpcs", "VpcId")?.to_owned();
            let block = existing.cidr_block().unwrap_or_default();
            ensure!(
                block == vpc.cidr_block,
                "the stack's VPC {id} has CidrBlock {block} but the file says {}: a VPC's block \
                 cannot change (run `spotlab stack down` first)",
                vpc.cidr_block
            );
            Ok(id)
        }
        several => bail!(
            "{} VPCs carry the tag {STACK_TAG}={}: {}",
            several.len(),
            stack.name,
            several
                .iter()
                .filter_map(|v| v.vpc_id())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

async fn subnets(ec2: &Client, stack: &Stack, vpc_id: &str) -> anyhow::Result<Vec<SubnetOutput>> {
    let found = ec2
        .describe_subnets()
        .filters(filter("vpc-id", &[vpc_id]))
        .filters(stack_filter(stack))
        .send()
        .await
        .doing(|| format!("finding the subnets of VPC {vpc_id}"))?;
    let existing = found.subnets();
    let mut outputs = Vec::new();
    for (index, subnet) in stack.subnets.iter().enumerate() {
        let matching = existing
            .iter()
            .find(|s| s.cidr_block() == Some(subnet.cidr_block.as_str()));
        let output = match matching {
            Some(found) => {
                let id = required(found.subnet_id(), "DescribeSubnets", "SubnetId")?;
                let zone = found.availability_zone().unwrap_or_default();
                ensure!(
                    zone == subnet.availability_zone,
                    "the stack's subnet {id} ({}) is in {zone} but the file says {}: a subnet \
                     cannot move (run `spotlab stack down` first)",
                    subnet.cidr_block,
                    subnet.availability_zone
                );
                SubnetOutput {
                    subnet_id: id.to_owned(),
                    availability_zone: zone.to_owned(),
                    cidr_block: subnet.cidr_block.clone(),
                }
            }
            None => {
                let created = ec2
                    .create_subnet()
                    .vpc_id(vpc_id)
                    .cidr_block(&subnet.cidr_block)
                    .availability_zone(&subnet.availability_zone)
                    .tag_specifications(tag_specification(
                        ResourceType::Subnet,
                        tags(
                            stack,
                            Some(&format!("{}-Subnet{}", stack.name, index + 1)),
                            &subnet.tags,
                        ),
                    ))
                    .send()
                    .await
                    .doing(|| {
                        format!(
                            "creating the subnet {} in {}",
                            subnet.cidr_block, subnet.availability_zone
                        )
                    })?;
                let id = created
                    .subnet()
                    .and_then(|s| s.subnet_id())
                    .ok_or_else(|| anyhow::anyhow!("CreateSubnet answered without a SubnetId"))?
                    .to_owned();
                note(
                    stack,
                    &format!(
                        "created subnet {id} ({} in {})",
                        subnet.cidr_block, subnet.availability_zone
                    ),
                );
                SubnetOutput {
                    subnet_id: id,
                    availability_zone: subnet.availability_zone.clone(),
                    cidr_block: subnet.cidr_block.clone(),
                }
            }
        };
        outputs.push(output);
    }
    for extra in existing {
        let block = extra.cidr_block().unwrap_or_default();
        if !stack.subnets.iter().any(|s| s.cidr_block == block) {
            note(
                stack,
                &format!(
                    "subnet {} ({block}) is no longer in the file; `spotlab stack down` removes it",
                    extra.subnet_id().unwrap_or_default()
                ),
            );
        }
    }
    Ok(outputs)
}

async fn security_group(
    ec2: &Client,
    stack: &Stack,
    vpc_id: &str,
    group: &spec::SecurityGroup,
) -> anyhow::Result<String> {
    let found = ec2
        .describe_security_groups()
        .filters(filter("vpc-id", &[vpc_id]))
        .filters(filter("group-name", &[&group.group_name]))
        .send()
        .await
        .doing(|| format!("finding the security group {}", group.group_name))?;
    let (id, permissions) = match found.security_groups().first() {
        Some(existing) => (
            required(existing.group_id(), "DescribeSecurityGroups", "GroupId")?.to_owned(),
            existing.ip_permissions().to_vec(),
        ),
        None => {
            let created = ec2
                .create_security_group()
                .group_name(&group.group_name)
                .description(&group.description)
                .vpc_id(vpc_id)
                .tag_specifications(tag_specification(
                    ResourceType::SecurityGroup,
                    tags(stack, None, &group.tags),
                ))
                .send()
                .await
                .doing(|| format!("creating the security group {}", group.group_name))?;
            let id = created
                .group_id()
                .ok_or_else(|| anyhow::anyhow!("CreateSecurityGroup answered without a GroupId"))?
                .to_owned();
            note(
                stack,
                &format!("created security group {id} ({})", group.group_name),
            );
            (id, Vec::new())
        }
    };
    for rule in &group.ingress {
        let present = permissions.iter().any(|p| {
            p.ip_protocol() == Some(rule.ip_protocol.as_str())
                && rule
                    .from_port
                    .is_none_or(|port| p.from_port() == Some(port))
                && rule.to_port.is_none_or(|port| p.to_port() == Some(port))
                && p.ip_ranges()
                    .iter()
                    .any(|r| r.cidr_ip() == Some(rule.cidr_ip.as_str()))
        });
        if present {
            continue;
        }
        ec2.authorize_security_group_ingress()
            .group_id(&id)
            .ip_protocol(&rule.ip_protocol)
            .set_from_port(rule.from_port)
            .set_to_port(rule.to_port)
            .cidr_ip(&rule.cidr_ip)
            .send()
            .await
            .doing(|| {
                format!(
                    "allowing {} {}-{} from {} into {id}",
                    rule.ip_protocol,
                    rule.from_port.unwrap_or(-1),
                    rule.to_port.unwrap_or(-1),
                    rule.cidr_ip
                )
            })?;
        note(
            stack,
            &format!(
                "allowed {} {}-{} from {} into {id}",
                rule.ip_protocol,
                rule.from_port.unwrap_or(-1),
                rule.to_port.unwrap_or(-1),
                rule.cidr_ip
            ),
        );
    }
    Ok(id)
}

/// Deletes the stack's launch templates, security groups, subnets and VPCs, in that
/// order (whatever the file says now: they are found by their tag).
/// The names of the stacks whose EC2 resources carry their tag.
pub async fn stack_names(ec2: &Client) -> anyhow::Result<Vec<String>> {
    let key = filter("tag-key", &[STACK_TAG]);
    let mut names = std::collections::BTreeSet::new();
    let mut add = |tags: &[Tag]| {
        for tag in tags {
            if tag.key() == Some(STACK_TAG)
                && let Some(value) = tag.value()
            {
                names.insert(value.to_owned());
            }
        }
    };
    let vpcs = ec2
        .describe_vpcs()
        .filters(key.clone())
        .send()
        .await
        .doing(|| "finding the stacks' VPCs".to_owned())?;
    for vpc in vpcs.vpcs() {
        add(vpc.tags());
    }
    let templates = ec2
        .describe_launch_templates()
        .filters(key.clone())
        .send()
        .await
        .doing(|| "finding the stacks' launch templates".to_owned())?;
    for template in templates.launch_templates() {
        add(template.tags());
    }
    let groups = ec2
        .describe_security_groups()
        .filters(key)
        .send()
        .await
        .doing(|| "finding the stacks' security groups".to_owned())?;
    for group in groups.security_groups() {
        add(group.tags());
    }
    Ok(names.into_iter().collect())
}

/// Deletes the stack's launch templates, security groups, subnets and VPC.
pub async fn down(ec2: &Client, stack: &Stack) -> anyhow::Result<()> {
    for (id, name) in template::of_stack(ec2, stack).await? {
        ec2.delete_launch_template()
            .launch_template_id(&id)
            .send()
            .await
            .doing(|| format!("deleting launch template {id} ({name})"))?;
        note(stack, &format!("deleted launch template {id} ({name})"));
    }
    let groups = ec2
        .describe_security_groups()
        .filters(stack_filter(stack))
        .send()
        .await
        .doing(|| format!("finding the security groups of stack {}", stack.name))?;
    for group in groups.security_groups() {
        let id = required(group.group_id(), "DescribeSecurityGroups", "GroupId")?;
        ec2.delete_security_group()
            .group_id(id)
            .send()
            .await
            .doing(|| format!("deleting security group {id}"))?;
        note(stack, &format!("deleted security group {id}"));
    }
    let subnets = ec2
        .describe_subnets()
        .filters(stack_filter(stack))
        .send()
        .await
        .doing(|| format!("finding the subnets of stack {}", stack.name))?;
    for subnet in subnets.subnets() {
        let id = required(subnet.subnet_id(), "DescribeSubnets", "SubnetId")?;
        ec2.delete_subnet()
            .subnet_id(id)
            .send()
            .await
            .doing(|| format!("deleting subnet {id}"))?;
        note(stack, &format!("deleted subnet {id}"));
    }
    let vpcs = ec2
        .describe_vpcs()
        .filters(stack_filter(stack))
        .send()
        .await
        .doing(|| format!("finding the VPC of stack {}", stack.name))?;
    for vpc in vpcs.vpcs() {
        let id = required(vpc.vpc_id(), "DescribeVpcs", "VpcId")?;
        ec2.delete_vpc()
            .vpc_id(id)
            .send()
            .await
            .doing(|| format!("deleting VPC {id}"))?;
        note(stack, &format!("deleted VPC {id}"));
    }
    Ok(())
}
