//! Roles: creation with a trust policy, reads and lists, deletion once nothing hangs
//! on the role, inline policies, managed policies attached by ARN, and tags.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use simtime::SimTime;

use crate::input::{self, page};
use crate::policy::{quota_size, url_encode};
use crate::{Iam, IamError, create_date, merge_tags, remove_tags, tags_json};

/// The longest role name.
const ROLE_NAME_MAX: usize = 64;
/// The longest policy name.
const POLICY_NAME_MAX: usize = 128;
/// `MaxSessionDuration` when none is given, and its bounds (seconds).
const SESSION_DEFAULT: i64 = 3600;
const SESSION_MAX: i64 = 43_200;
/// The quota on a trust policy's size (characters other than whitespace).
const TRUST_POLICY_MAX: usize = 2048;
/// The quota on a role's inline policies, all together.
const INLINE_POLICIES_MAX: usize = 10_240;
/// The quota on managed policies attached to a role.
const ATTACHED_MAX: usize = 10;

/// A role as stored.
#[derive(Clone, Debug)]
pub(crate) struct Role {
    pub(crate) name: String,
    path: String,
    id: String,
    pub(crate) arn: String,
    created: SimTime,
    /// The trust policy (`AssumeRolePolicyDocument`) as sent.
    trust_policy: String,
    description: Option<String>,
    max_session_duration: i64,
    tags: BTreeMap<String, String>,
    /// Inline policies by name, as sent.
    inline: BTreeMap<String, String>,
    /// ARNs of the managed policies attached.
    attached: BTreeSet<String>,
}

impl Role {
    /// The role as the lists show it (ListRoles, an instance profile's `Roles`): no
    /// tags, no last use.
    pub(crate) fn summary(&self) -> Value {
        let mut out = json!({
            "Path": self.path,
            "RoleName": self.name,
            "RoleId": self.id,
            "Arn": self.arn,
            "CreateDate": create_date(self.created),
            "AssumeRolePolicyDocument": url_encode(&self.trust_policy),
            "MaxSessionDuration": self.max_session_duration,
        });
        if let Some(description) = &self.description {
            out["Description"] = json!(description);
        }
        out
    }

    /// The role as GetRole and CreateRole show it: with its tags.
    fn detail(&self) -> Value {
        let mut out = self.summary();
        if !self.tags.is_empty() {
            out["Tags"] = tags_json(&self.tags);
        }
        out
    }
}

/// A managed policy ARN's name and path (`arn:aws:iam::aws:policy/service-role/X` is
/// `X` at `/service-role/`), or `InvalidInput`.
fn policy_arn_parts(arn: &str) -> Result<(&str, String), IamError> {
    let invalid = || IamError::InvalidInput(format!("ARN {arn} is not valid."));
    let rest = arn
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":policy/"))
        .map(|(_, rest)| rest)
        .ok_or_else(invalid)?;
    let (path, name) = match rest.rsplit_once('/') {
        Some((folders, name)) => (format!("/{folders}/"), name),
        None => ("/".to_owned(), rest),
    };
    if name.is_empty() {
        return Err(invalid());
    }
    Ok((name, path))
}

impl Iam {
    /// The role named `name` (any case), or `NoSuchEntity`.
    pub(crate) fn role(&self, name: &str) -> Result<&Role, IamError> {
        self.roles
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| no_such_role(name))
    }

    fn role_mut(&mut self, name: &str) -> Result<&mut Role, IamError> {
        self.roles
            .get_mut(&name.to_ascii_lowercase())
            .ok_or_else(|| no_such_role(name))
    }

    /// `CreateRole`.
    pub(crate) fn create_role(&mut self, input: &Value, now: SimTime) -> Result<Value, IamError> {
        let name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        let path = input::path(input)?;
        let trust_policy = input::policy_document(input, "AssumeRolePolicyDocument")?;
        let description = input::description(input)?;
        let max_session_duration =
            input::integer(input, "MaxSessionDuration", SESSION_DEFAULT, SESSION_MAX)?
                .unwrap_or(SESSION_DEFAULT);
        let tags = input::tags(input, false)?;
        if quota_size(trust_policy) > TRUST_POLICY_MAX {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX}"
            )));
        }
        let key = name.to_ascii_lowercase();
        if self.roles.contains_key(&key) {
            return Err(IamError::EntityAlreadyExists(format!(
                "Role with name {name} already exists."
            )));
        }
        let mut role = Role {
            name: name.to_owned(),
            arn: self.arn("role", &path, name),
            path,
            id: self.unique_id("AROA"),
            created: now,
            trust_policy: trust_policy.to_owned(),
            description: description.map(str::to_owned),
            max_session_duration,
            tags: BTreeMap::new(),
            inline: BTreeMap::new(),
            attached: BTreeSet::new(),
        };
        merge_tags(&mut role.tags, tags, "TagsPerRole")?;
        let out = json!({"Role": role.detail()});
        self.roles.insert(key, role);
        Ok(out)
    }

    /// `GetRole`.
    pub(crate) fn get_role(&self, input: &Value) -> Result<Value, IamError> {
        let role = self.role(input::name(input, "RoleName", ROLE_NAME_MAX)?)?;
        let mut detail = role.detail();
        detail["RoleLastUsed"] = json!({});
        Ok(json!({"Role": detail}))
    }

    /// `ListRoles`: by name, those whose path starts with `PathPrefix`.
    pub(crate) fn list_roles(&self, input: &Value) -> Result<Value, IamError> {
        let prefix = input::path_prefix(input)?;
        let page = page(input)?;
        let items = self
            .roles
            .iter()
            .filter(|(_, role)| role.path.starts_with(&prefix))
            .map(|(key, role)| (key.clone(), role.summary()))
            .collect();
        Ok(page.answer("Roles", items))
    }

    /// `DeleteRole`: refused (`DeleteConflict`) while the role is in an instance profile
    /// or has inline or attached policies.
    pub(crate) fn delete_role(&mut self, input: &Value) -> Result<Value, IamError> {
        let name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        let key = name.to_ascii_lowercase();
        let role = self.role(name)?;
        if self
            .profiles
            .values()
            .any(|p| p.role.as_deref() == Some(key.as_str()))
        {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must remove roles from instance profile first.".to_owned(),
            ));
        }
        if !role.inline.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must delete policies first.".to_owned(),
            ));
        }
        if !role.attached.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must detach all policies first.".to_owned(),
            ));
        }
        self.roles.remove(&key);
        Ok(json!({}))
    }

    /// `PutRolePolicy`: adds or replaces an inline policy.
    pub(crate) fn put_role_policy(&mut self, input: &Value) -> Result<Value, IamError> {
        let role_name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        let policy_name = input::name(input, "PolicyName", POLICY_NAME_MAX)?;
        let document = input::policy_document(input, "PolicyDocument")?;
        let role = self.role_mut(role_name)?;
        let others: usize = role
            .inline
            .iter()
            .filter(|(name, _)| *name != policy_name)
            .map(|(_, doc)| quota_size(doc))
            .sum();
        if others + quota_size(document) > INLINE_POLICIES_MAX {
            return Err(IamError::LimitExceeded(format!(
                "Maximum policy size of {INLINE_POLICIES_MAX} bytes exceeded for role {}",
                role.name
            )));
        }
        role.inline
            .insert(policy_name.to_owned(), document.to_owned());
        Ok(json!({}))
    }

    /// `GetRolePolicy`: the document URL-encoded, as IAM returns it.
    pub(crate) fn get_role_policy(&self, input: &Value) -> Result<Value, IamError> {
        let role_name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        let policy_name = input::name(input, "PolicyName", POLICY_NAME_MAX)?;
        let role = self.role(role_name)?;
        let document = role
            .inline
            .get(policy_name)
            .ok_or_else(|| no_such_policy(policy_name))?;
        Ok(json!({
            "RoleName": role.name,
            "PolicyName": policy_name,
            "PolicyDocument": url_encode(document),
        }))
    }

    /// `DeleteRolePolicy`.
    pub(crate) fn delete_role_policy(&mut self, input: &Value) -> Result<Value, IamError> {
        let role_name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        let policy_name = input::name(input, "PolicyName", POLICY_NAME_MAX)?;
        let role = self.role_mut(role_name)?;
        role.inline
            .remove(policy_name)
            .ok_or_else(|| no_such_policy(policy_name))?;
        Ok(json!({}))
    }

    /// `ListRolePolicies`: inline policy names, sorted.
    pub(crate) fn list_role_policies(&self, input: &Value) -> Result<Value, IamError> {
        let role = self.role(input::name(input, "RoleName", ROLE_NAME_MAX)?)?;
        let page = page(input)?;
        let items = role
            .inline
            .keys()
            .map(|name| (name.clone(), json!(name)))
            .collect();
        Ok(page.answer("PolicyNames", items))
    }

    /// `AttachRolePolicy`: records the ARN (attaching it again changes nothing).
    pub(crate) fn attach_role_policy(&mut self, input: &Value) -> Result<Value, IamError> {
        let role_name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        let arn = policy_arn(input)?;
        let role = self.role_mut(role_name)?;
        if !role.attached.contains(arn) && role.attached.len() >= ATTACHED_MAX {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for PoliciesPerRole: {ATTACHED_MAX}"
            )));
        }
        role.attached.insert(arn.to_owned());
        Ok(json!({}))
    }

    /// `DetachRolePolicy`.
    pub(crate) fn detach_role_policy(&mut self, input: &Value) -> Result<Value, IamError> {
        let role_name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        let arn = policy_arn(input)?;
        let role = self.role_mut(role_name)?;
        if !role.attached.remove(arn) {
            return Err(IamError::NoSuchEntity(format!(
                "Policy {arn} was not attached."
            )));
        }
        Ok(json!({}))
    }

    /// `ListAttachedRolePolicies`: by ARN, those whose path starts with `PathPrefix`.
    pub(crate) fn list_attached_role_policies(&self, input: &Value) -> Result<Value, IamError> {
        let role = self.role(input::name(input, "RoleName", ROLE_NAME_MAX)?)?;
        let prefix = input::path_prefix(input)?;
        let page = page(input)?;
        let mut items = Vec::new();
        for arn in &role.attached {
            let (name, path) = policy_arn_parts(arn)?;
            if path.starts_with(&prefix) {
                items.push((arn.clone(), json!({"PolicyName": name, "PolicyArn": arn})));
            }
        }
        Ok(page.answer("AttachedPolicies", items))
    }

    /// `TagRole`: adds tags, replacing values of keys it has (regardless of case).
    pub(crate) fn tag_role(&mut self, input: &Value) -> Result<Value, IamError> {
        let role_name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        let tags = input::tags(input, true)?;
        let role = self.role_mut(role_name)?;
        merge_tags(&mut role.tags, tags, "TagsPerRole")?;
        Ok(json!({}))
    }

    /// `UntagRole`: removes tags by key; keys it does not have are ignored.
    pub(crate) fn untag_role(&mut self, input: &Value) -> Result<Value, IamError> {
        let role_name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        let keys = input::tag_keys(input)?;
        let role = self.role_mut(role_name)?;
        remove_tags(&mut role.tags, &keys);
        Ok(json!({}))
    }

    /// `ListRoleTags`: by key.
    pub(crate) fn list_role_tags(&self, input: &Value) -> Result<Value, IamError> {
        let role = self.role(input::name(input, "RoleName", ROLE_NAME_MAX)?)?;
        let page = page(input)?;
        Ok(page.answer("Tags", tag_items(&role.tags)))
    }
}

/// Tags as pages' items, keyed by tag key.
pub(crate) fn tag_items(tags: &BTreeMap<String, String>) -> Vec<(String, Value)> {
    tags.iter()
        .map(|(key, value)| {
            let mut tag = Map::new();
            tag.insert("Key".to_owned(), json!(key));
            tag.insert("Value".to_owned(), json!(value));
            (key.clone(), Value::Object(tag))
        })
        .collect()
}

/// `PolicyArn`: 20 to 2,048 characters naming a policy (`arn:...:policy/...`).
fn policy_arn(input: &Value) -> Result<&str, IamError> {
    let arn = input::required_str(input, "PolicyArn")?;
    let length = arn.chars().count();
    if !(20..=2048).contains(&length) {
        let rule = if length < 20 {
            "Member must have length greater than or equal to 20"
        } else {
            "Member must have length less than or equal to 2048"
        };
        return Err(input::constraint(Some(arn), "policyArn", rule));
    }
    policy_arn_parts(arn)?;
    Ok(arn)
}

fn no_such_role(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

fn no_such_policy(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The role policy with name {name} cannot be found."))
}
