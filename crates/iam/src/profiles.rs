//! Instance profiles: the container an instance is launched with, holding at most one
//! role; creation, reads and lists, adding and removing the role, deletion once it
//! holds none, and tags.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use simtime::SimTime;

use crate::input::{self, page};
use crate::roles::tag_items;
use crate::{Iam, IamError, create_date, merge_tags, remove_tags, tags_json};

/// The longest instance profile name.
const PROFILE_NAME_MAX: usize = 128;
/// The longest role name.
const ROLE_NAME_MAX: usize = 64;

/// An instance profile as stored.
#[derive(Clone, Debug)]
pub(crate) struct Profile {
    name: String,
    path: String,
    id: String,
    arn: String,
    created: SimTime,
    /// The lower-case name of the role it holds.
    pub(crate) role: Option<String>,
    tags: BTreeMap<String, String>,
}

impl Iam {
    fn profile(&self, name: &str) -> Result<&Profile, IamError> {
        self.profiles
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| no_such_profile(name))
    }

    fn profile_mut(&mut self, name: &str) -> Result<&mut Profile, IamError> {
        self.profiles
            .get_mut(&name.to_ascii_lowercase())
            .ok_or_else(|| no_such_profile(name))
    }

    /// A profile as the lists show it: its role as a role summary, no tags.
    fn profile_summary(&self, profile: &Profile) -> Value {
        let roles: Vec<Value> = profile
            .role
            .iter()
            .filter_map(|key| self.roles.get(key))
            .map(|role| role.summary())
            .collect();
        json!({
            "Path": profile.path,
            "InstanceProfileName": profile.name,
            "InstanceProfileId": profile.id,
            "Arn": profile.arn,
            "CreateDate": create_date(profile.created),
            "Roles": roles,
        })
    }

    /// A profile as Get and Create show it: with its tags.
    fn profile_detail(&self, profile: &Profile) -> Value {
        let mut out = self.profile_summary(profile);
        if !profile.tags.is_empty() {
            out["Tags"] = tags_json(&profile.tags);
        }
        out
    }

    /// `CreateInstanceProfile`.
    pub(crate) fn create_instance_profile(
        &mut self,
        input: &Value,
        now: SimTime,
    ) -> Result<Value, IamError> {
        let name = input::name(input, "InstanceProfileName", PROFILE_NAME_MAX)?;
        let path = input::path(input)?;
        let tags = input::tags(input, false)?;
        let key = name.to_ascii_lowercase();
        if self.profiles.contains_key(&key) {
            return Err(IamError::EntityAlreadyExists(format!(
                "Instance Profile {name} already exists."
            )));
        }
        let mut profile = Profile {
            name: name.to_owned(),
            arn: self.arn("instance-profile", &path, name),
            path,
            id: self.unique_id("AIPA"),
            created: now,
            role: None,
            tags: BTreeMap::new(),
        };
        merge_tags(&mut profile.tags, tags, "TagsPerInstanceProfile")?;
        let out = json!({"InstanceProfile": self.profile_detail(&profile)});
        self.profiles.insert(key, profile);
        Ok(out)
    }

    /// `GetInstanceProfile`.
    pub(crate) fn get_instance_profile(&self, input: &Value) -> Result<Value, IamError> {
        let name = input::name(input, "InstanceProfileName", PROFILE_NAME_MAX)?;
        let profile = self.profile(name)?;
        Ok(json!({"InstanceProfile": self.profile_detail(profile)}))
    }

    /// `ListInstanceProfiles`: by name, those whose path starts with `PathPrefix`.
    pub(crate) fn list_instance_profiles(&self, input: &Value) -> Result<Value, IamError> {
        let prefix = input::path_prefix(input)?;
        let page = page(input)?;
        let items = self
            .profiles
            .iter()
            .filter(|(_, profile)| profile.path.starts_with(&prefix))
            .map(|(key, profile)| (key.clone(), self.profile_summary(profile)))
            .collect();
        Ok(page.answer("InstanceProfiles", items))
    }

    /// `ListInstanceProfilesForRole`: the profiles holding the role, by name.
    pub(crate) fn list_instance_profiles_for_role(&self, input: &Value) -> Result<Value, IamError> {
        let role_name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        let key = role_name.to_ascii_lowercase();
        self.role(role_name)?;
        let page = page(input)?;
        let items = self
            .profiles
            .iter()
            .filter(|(_, profile)| profile.role.as_deref() == Some(key.as_str()))
            .map(|(key, profile)| (key.clone(), self.profile_summary(profile)))
            .collect();
        Ok(page.answer("InstanceProfiles", items))
    }

    /// `AddRoleToInstanceProfile`: refused (`LimitExceeded`) when the profile already
    /// holds a role, this one or another.
    pub(crate) fn add_role_to_instance_profile(
        &mut self,
        input: &Value,
    ) -> Result<Value, IamError> {
        let profile_name = input::name(input, "InstanceProfileName", PROFILE_NAME_MAX)?;
        let role_name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        self.profile(profile_name)?;
        self.role(role_name)?;
        let profile = self.profile_mut(profile_name)?;
        if profile.role.is_some() {
            return Err(IamError::LimitExceeded(
                "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1".to_owned(),
            ));
        }
        profile.role = Some(role_name.to_ascii_lowercase());
        Ok(json!({}))
    }

    /// `RemoveRoleFromInstanceProfile`.
    pub(crate) fn remove_role_from_instance_profile(
        &mut self,
        input: &Value,
    ) -> Result<Value, IamError> {
        let profile_name = input::name(input, "InstanceProfileName", PROFILE_NAME_MAX)?;
        let role_name = input::name(input, "RoleName", ROLE_NAME_MAX)?;
        self.profile(profile_name)?;
        self.role(role_name)?;
        let key = role_name.to_ascii_lowercase();
        let profile = self.profile_mut(profile_name)?;
        if profile.role.as_deref() != Some(key.as_str()) {
            return Err(IamError::NoSuchEntity(format!(
                "The role with name {role_name} is not in the instance profile {profile_name}."
            )));
        }
        profile.role = None;
        Ok(json!({}))
    }

    /// `DeleteInstanceProfile`: refused (`DeleteConflict`) while it holds a role.
    pub(crate) fn delete_instance_profile(&mut self, input: &Value) -> Result<Value, IamError> {
        let name = input::name(input, "InstanceProfileName", PROFILE_NAME_MAX)?;
        if self.profile(name)?.role.is_some() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must remove roles from instance profile first.".to_owned(),
            ));
        }
        self.profiles.remove(&name.to_ascii_lowercase());
        Ok(json!({}))
    }

    /// `TagInstanceProfile`.
    pub(crate) fn tag_instance_profile(&mut self, input: &Value) -> Result<Value, IamError> {
        let name = input::name(input, "InstanceProfileName", PROFILE_NAME_MAX)?;
        let tags = input::tags(input, true)?;
        let profile = self.profile_mut(name)?;
        merge_tags(&mut profile.tags, tags, "TagsPerInstanceProfile")?;
        Ok(json!({}))
    }

    /// `UntagInstanceProfile`: keys it does not have are ignored.
    pub(crate) fn untag_instance_profile(&mut self, input: &Value) -> Result<Value, IamError> {
        let name = input::name(input, "InstanceProfileName", PROFILE_NAME_MAX)?;
        let keys = input::tag_keys(input)?;
        let profile = self.profile_mut(name)?;
        remove_tags(&mut profile.tags, &keys);
        Ok(json!({}))
    }

    /// `ListInstanceProfileTags`: by key.
    pub(crate) fn list_instance_profile_tags(&self, input: &Value) -> Result<Value, IamError> {
        let name = input::name(input, "InstanceProfileName", PROFILE_NAME_MAX)?;
        let profile = self.profile(name)?;
        let page = page(input)?;
        Ok(page.answer("Tags", tag_items(&profile.tags)))
    }
}

fn no_such_profile(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("Instance Profile {name} cannot be found."))
}
