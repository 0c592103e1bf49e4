//! The instances' IAM role and instance profile through aws-sdk-iam, as the
//! walkthrough's CloudFormation template makes them (`CAPABILITY_IAM`): a role EC2 may
//! assume, with the policies the agent needs (PutMetricData, the checkpoint bucket),
//! inside an instance profile the launch template names. Both live under
//! [`IAM_PATH`] and carry the stack's tag, which is how `cleanup` finds them.

use std::collections::BTreeSet;

use anyhow::{bail, ensure};
use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;
use serde::Serialize;

use super::note;
use super::spec::{IAM_PATH, InstanceProfile, Role, STACK_TAG, Stack};
use crate::aws::Context as _;

/// The role and profile's outputs.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileOutput {
    /// The role's name.
    pub role_name: String,
    /// The role's ARN.
    pub role_arn: String,
    /// The instance profile's name.
    pub instance_profile_name: String,
    /// The instance profile's ARN (what the launch template names).
    pub instance_profile_arn: String,
}

fn tags(stack: &Stack, extra: &[super::spec::Tag]) -> anyhow::Result<Vec<Tag>> {
    std::iter::once((STACK_TAG, stack.name.as_str()))
        .chain(extra.iter().map(|t| (t.key.as_str(), t.value.as_str())))
        .map(|(key, value)| Ok(Tag::builder().key(key).value(value).build()?))
        .collect()
}

fn owner(tags: &[Tag]) -> Option<&str> {
    tags.iter()
        .find(|t| t.key() == STACK_TAG)
        .map(|t| t.value())
}

/// Whether an IAM error is NoSuchEntity.
fn missing<E: aws_sdk_iam::error::ProvideErrorMetadata>(error: &E) -> bool {
    error.code() == Some("NoSuchEntity")
}

/// Creates what is missing of the role and profile, and makes the role's policies the
/// file's.
pub async fn up(
    iam: &Client,
    stack: &Stack,
    spec: &InstanceProfile,
) -> anyhow::Result<ProfileOutput> {
    let role_arn = role_up(iam, stack, &spec.role).await?;
    let instance_profile_arn = profile(iam, stack, spec).await?;
    Ok(ProfileOutput {
        role_name: spec.role.role_name.clone(),
        role_arn,
        instance_profile_name: spec.instance_profile_name.clone(),
        instance_profile_arn,
    })
}

/// Creates the role when missing and makes its policies the file's (inline policies
/// are put every time: PutRolePolicy replaces; policies no longer in the file are
/// removed). Returns its ARN.
pub async fn role_up(iam: &Client, stack: &Stack, spec: &Role) -> anyhow::Result<String> {
    let role_arn = role(iam, stack, spec).await?;
    for (name, document) in &spec.policies {
        iam.put_role_policy()
            .role_name(&spec.role_name)
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .doing(|| format!("putting policy {name} on role {}", spec.role_name))?;
    }
    let inline = inline_policies(iam, &spec.role_name).await?;
    for stale in inline
        .iter()
        .filter(|name| !spec.policies.iter().any(|(want, _)| want == *name))
    {
        iam.delete_role_policy()
            .role_name(&spec.role_name)
            .policy_name(stale)
            .send()
            .await
            .doing(|| format!("deleting policy {stale} of role {}", spec.role_name))?;
        note(
            stack,
            &format!(
                "removed policy {stale} of role {}: no longer in the file",
                spec.role_name
            ),
        );
    }
    let attached = attached_policies(iam, &spec.role_name).await?;
    for arn in &spec.managed_policy_arns {
        if !attached.contains(arn) {
            iam.attach_role_policy()
                .role_name(&spec.role_name)
                .policy_arn(arn)
                .send()
                .await
                .doing(|| format!("attaching {arn} to role {}", spec.role_name))?;
        }
    }
    for stale in attached
        .iter()
        .filter(|arn| !spec.managed_policy_arns.contains(arn))
    {
        iam.detach_role_policy()
            .role_name(&spec.role_name)
            .policy_arn(stale)
            .send()
            .await
            .doing(|| format!("detaching {stale} from role {}", spec.role_name))?;
    }
    Ok(role_arn)
}

/// The role's ARN, creating the role when it is missing.
async fn role(iam: &Client, stack: &Stack, spec: &Role) -> anyhow::Result<String> {
    match iam.get_role().role_name(&spec.role_name).send().await {
        Ok(found) => {
            let role = found
                .role()
                .ok_or_else(|| anyhow::anyhow!("GetRole answered without a Role"))?;
            // GetRole answers with the role's tags (ListRoles does not).
            let owner = owner(role.tags());
            ensure!(
                owner == Some(stack.name.as_str()),
                "an IAM role named {} already exists and is not stack {}'s (its tag {STACK_TAG} \
                 is {owner:?})",
                spec.role_name,
                stack.name
            );
            Ok(role.arn().to_owned())
        }
        Err(error) if error.as_service_error().is_some_and(missing) => {
            let created = iam
                .create_role()
                .role_name(&spec.role_name)
                .path(IAM_PATH)
                .assume_role_policy_document(&spec.assume_role_policy_document)
                .set_description(spec.description.clone())
                .set_tags(Some(tags(stack, &spec.tags)?))
                .send()
                .await
                .doing(|| format!("creating role {}", spec.role_name))?;
            let arn = created
                .role()
                .map(|r| r.arn().to_owned())
                .ok_or_else(|| anyhow::anyhow!("CreateRole answered without a Role"))?;
            note(stack, &format!("created role {arn}"));
            Ok(arn)
        }
        Err(error) => Err(error).doing(|| format!("reading role {}", spec.role_name)),
    }
}

/// The instance profile's ARN, creating it and putting the role in it when missing.
async fn profile(iam: &Client, stack: &Stack, spec: &InstanceProfile) -> anyhow::Result<String> {
    let name = &spec.instance_profile_name;
    let (arn, roles) = match iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
    {
        Ok(found) => {
            let profile = found.instance_profile().ok_or_else(|| {
                anyhow::anyhow!("GetInstanceProfile answered without an InstanceProfile")
            })?;
            let owner = owner(profile.tags());
            ensure!(
                owner == Some(stack.name.as_str()),
                "an instance profile named {name} already exists and is not stack {}'s (its \
                 tag {STACK_TAG} is {owner:?})",
                stack.name
            );
            let roles: Vec<String> = profile
                .roles()
                .iter()
                .map(|r| r.role_name().to_owned())
                .collect();
            (profile.arn().to_owned(), roles)
        }
        Err(error) if error.as_service_error().is_some_and(missing) => {
            let created = iam
                .create_instance_profile()
                .instance_profile_name(name)
                .path(IAM_PATH)
                .set_tags(Some(tags(stack, &spec.role.tags)?))
                .send()
                .await
                .doing(|| format!("creating instance profile {name}"))?;
            let arn = created
                .instance_profile()
                .map(|p| p.arn().to_owned())
                .ok_or_else(|| {
                    anyhow::anyhow!("CreateInstanceProfile answered without an InstanceProfile")
                })?;
            note(stack, &format!("created instance profile {arn}"));
            (arn, Vec::new())
        }
        Err(error) => return Err(error).doing(|| format!("reading instance profile {name}")),
    };
    match roles.as_slice() {
        [] => {
            iam.add_role_to_instance_profile()
                .instance_profile_name(name)
                .role_name(&spec.role.role_name)
                .send()
                .await
                .doing(|| {
                    format!(
                        "putting role {} in instance profile {name}",
                        spec.role.role_name
                    )
                })?;
        }
        [role] if *role == spec.role.role_name => {}
        [other, ..] => bail!(
            "instance profile {name} holds role {other}, not the file's {}",
            spec.role.role_name
        ),
    }
    Ok(arn)
}

/// A role's tags, from GetRole (ListRoles does not carry them); `None` when it is gone.
async fn role_tags(iam: &Client, role: &str) -> anyhow::Result<Option<Vec<Tag>>> {
    match iam.get_role().role_name(role).send().await {
        Ok(found) => Ok(Some(
            found.role().map(|r| r.tags().to_vec()).unwrap_or_default(),
        )),
        Err(error) if error.as_service_error().is_some_and(missing) => Ok(None),
        Err(error) => Err(error).doing(|| format!("reading role {role}")),
    }
}

/// An instance profile's tags, from GetInstanceProfile; `None` when it is gone.
async fn profile_tags(iam: &Client, profile: &str) -> anyhow::Result<Option<Vec<Tag>>> {
    match iam
        .get_instance_profile()
        .instance_profile_name(profile)
        .send()
        .await
    {
        Ok(found) => Ok(Some(
            found
                .instance_profile()
                .map(|p| p.tags().to_vec())
                .unwrap_or_default(),
        )),
        Err(error) if error.as_service_error().is_some_and(missing) => Ok(None),
        Err(error) => Err(error).doing(|| format!("reading instance profile {profile}")),
    }
}

async fn inline_policies(iam: &Client, role: &str) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut pages = iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.doing(|| format!("listing the policies of role {role}"))?;
        names.extend(page.policy_names().iter().cloned());
    }
    Ok(names)
}

async fn attached_policies(iam: &Client, role: &str) -> anyhow::Result<BTreeSet<String>> {
    let mut arns = BTreeSet::new();
    let mut pages = iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.doing(|| format!("listing the managed policies of role {role}"))?;
        arns.extend(
            page.attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_owned)),
        );
    }
    Ok(arns)
}

/// Deletes an instance profile (its role taken out first); it may already be gone.
pub async fn delete_profile(iam: &Client, stack: &Stack, name: &str) -> anyhow::Result<()> {
    let found = match iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
    {
        Ok(found) => found,
        Err(error) if error.as_service_error().is_some_and(missing) => return Ok(()),
        Err(error) => return Err(error).doing(|| format!("reading instance profile {name}")),
    };
    let roles: Vec<String> = found
        .instance_profile()
        .map(|p| p.roles().iter().map(|r| r.role_name().to_owned()).collect())
        .unwrap_or_default();
    for role in roles {
        iam.remove_role_from_instance_profile()
            .instance_profile_name(name)
            .role_name(&role)
            .send()
            .await
            .doing(|| format!("taking role {role} out of instance profile {name}"))?;
    }
    iam.delete_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .doing(|| format!("deleting instance profile {name}"))?;
    note(stack, &format!("deleted instance profile {name}"));
    Ok(())
}

/// Deletes a role (out of its instance profiles, its policies first); it may already
/// be gone.
pub async fn delete_role(iam: &Client, stack: &Stack, name: &str) -> anyhow::Result<()> {
    match iam.get_role().role_name(name).send().await {
        Ok(_) => {}
        Err(error) if error.as_service_error().is_some_and(missing) => return Ok(()),
        Err(error) => return Err(error).doing(|| format!("reading role {name}")),
    }
    let mut profiles = Vec::new();
    let mut pages = iam
        .list_instance_profiles_for_role()
        .role_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.doing(|| format!("listing the instance profiles of role {name}"))?;
        profiles.extend(
            page.instance_profiles()
                .iter()
                .map(|p| p.instance_profile_name().to_owned()),
        );
    }
    for profile in profiles {
        iam.remove_role_from_instance_profile()
            .instance_profile_name(&profile)
            .role_name(name)
            .send()
            .await
            .doing(|| format!("taking role {name} out of instance profile {profile}"))?;
    }
    for policy in inline_policies(iam, name).await? {
        iam.delete_role_policy()
            .role_name(name)
            .policy_name(&policy)
            .send()
            .await
            .doing(|| format!("deleting policy {policy} of role {name}"))?;
    }
    for arn in attached_policies(iam, name).await? {
        iam.detach_role_policy()
            .role_name(name)
            .policy_arn(&arn)
            .send()
            .await
            .doing(|| format!("detaching {arn} from role {name}"))?;
    }
    iam.delete_role()
        .role_name(name)
        .send()
        .await
        .doing(|| format!("deleting role {name}"))?;
    note(stack, &format!("deleted role {name}"));
    Ok(())
}

/// Roles and instance profiles under [`IAM_PATH`], by the stack named in their tag:
/// `(stack, roles, profiles)`.
pub async fn tagged(
    iam: &Client,
) -> anyhow::Result<std::collections::BTreeMap<String, (Vec<String>, Vec<String>)>> {
    let mut found: std::collections::BTreeMap<String, (Vec<String>, Vec<String>)> =
        Default::default();
    let mut pages = iam
        .list_roles()
        .path_prefix(IAM_PATH)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.doing(|| format!("listing the roles under {IAM_PATH}"))?;
        for role in page.roles() {
            let tags = role_tags(iam, role.role_name()).await?.unwrap_or_default();
            if let Some(stack) = owner(&tags) {
                found
                    .entry(stack.to_owned())
                    .or_default()
                    .0
                    .push(role.role_name().to_owned());
            }
        }
    }
    let mut pages = iam
        .list_instance_profiles()
        .path_prefix(IAM_PATH)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.doing(|| format!("listing the instance profiles under {IAM_PATH}"))?;
        for profile in page.instance_profiles() {
            let tags = profile_tags(iam, profile.instance_profile_name())
                .await?
                .unwrap_or_default();
            if let Some(stack) = owner(&tags) {
                found
                    .entry(stack.to_owned())
                    .or_default()
                    .1
                    .push(profile.instance_profile_name().to_owned());
            }
        }
    }
    Ok(found)
}
