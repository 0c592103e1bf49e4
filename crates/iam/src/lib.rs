//! The local cloud's IAM, pure: the roles an instance runs as and the instance profiles
//! that carry them, as `spotlab stack` creates them (the walkthrough's CloudFormation
//! template as calls).
//!
//! [`Iam::call`] takes and gives JSON named by the service model's members:
//! `CreateRole`, `GetRole`, `ListRoles`, `DeleteRole`, inline policies
//! (`PutRolePolicy`, `GetRolePolicy`, `DeleteRolePolicy`, `ListRolePolicies`), managed
//! policies by ARN (`AttachRolePolicy`, `DetachRolePolicy`, `ListAttachedRolePolicies`),
//! role tags (`TagRole`, `UntagRole`, `ListRoleTags`), instance profiles
//! (`CreateInstanceProfile`, `GetInstanceProfile`, `ListInstanceProfiles`,
//! `ListInstanceProfilesForRole`, `AddRoleToInstanceProfile`,
//! `RemoveRoleFromInstanceProfile`, `DeleteInstanceProfile`) and their tags
//! (`TagInstanceProfile`, `UntagInstanceProfile`, `ListInstanceProfileTags`). Errors are
//! [`IamError`]s with IAM's codes.
//!
//! IAM is global: ARNs carry no region (`arn:aws:iam::<account>:role<path><name>`).
//! Names are unique regardless of case, as IAM's are. Ids (`AROA…` for roles, `AIPA…`
//! for instance profiles, 21 characters) come from the account and a count of ids made,
//! so the same calls make the same ids; `CreateDate` is the call's virtual time.
//!
//! Deliberately absent: evaluating policies (documents are checked to be JSON objects
//! and stored; nothing is ever denied), managed policies as resources (an attached ARN
//! is recorded, not looked up), users, groups, permissions boundaries, last-used data.

mod error;
mod input;
mod policy;
mod profiles;
mod roles;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use simtime::SimTime;

pub use error::IamError;
pub use policy::url_encode;

/// Every operation served, and whether a successful call changes state.
pub const OPERATIONS: [(&str, bool); 24] = [
    ("AddRoleToInstanceProfile", true),
    ("AttachRolePolicy", true),
    ("CreateInstanceProfile", true),
    ("CreateRole", true),
    ("DeleteInstanceProfile", true),
    ("DeleteRole", true),
    ("DeleteRolePolicy", true),
    ("DetachRolePolicy", true),
    ("GetInstanceProfile", false),
    ("GetRole", false),
    ("GetRolePolicy", false),
    ("ListAttachedRolePolicies", false),
    ("ListInstanceProfileTags", false),
    ("ListInstanceProfiles", false),
    ("ListInstanceProfilesForRole", false),
    ("ListRolePolicies", false),
    ("ListRoleTags", false),
    ("ListRoles", false),
    ("PutRolePolicy", true),
    ("RemoveRoleFromInstanceProfile", true),
    ("TagInstanceProfile", true),
    ("TagRole", true),
    ("UntagInstanceProfile", true),
    ("UntagRole", true),
];

/// The IAM of one account.
#[derive(Clone, Debug)]
pub struct Iam {
    /// The account ARNs name.
    account: String,
    /// Roles by lower-case name (names are unique regardless of case).
    roles: BTreeMap<String, roles::Role>,
    /// Instance profiles by lower-case name.
    profiles: BTreeMap<String, profiles::Profile>,
    /// How many ids were made: the next id's number.
    ids_made: u64,
}

impl Iam {
    /// An IAM with no roles and no instance profiles, for `account`.
    pub fn new(account: &str) -> Iam {
        Iam {
            account: account.to_owned(),
            roles: BTreeMap::new(),
            profiles: BTreeMap::new(),
            ids_made: 0,
        }
    }

    /// Whether a successful `action` changes state (and must be recorded).
    pub fn changes_state(action: &str) -> bool {
        OPERATIONS
            .iter()
            .any(|(name, changes)| *name == action && *changes)
    }

    /// Performs a call at `now`.
    pub fn call(&mut self, action: &str, input: &Value, now: SimTime) -> Result<Value, IamError> {
        match action {
            "CreateRole" => self.create_role(input, now),
            "GetRole" => self.get_role(input),
            "ListRoles" => self.list_roles(input),
            "DeleteRole" => self.delete_role(input),
            "PutRolePolicy" => self.put_role_policy(input),
            "GetRolePolicy" => self.get_role_policy(input),
            "DeleteRolePolicy" => self.delete_role_policy(input),
            "ListRolePolicies" => self.list_role_policies(input),
            "AttachRolePolicy" => self.attach_role_policy(input),
            "DetachRolePolicy" => self.detach_role_policy(input),
            "ListAttachedRolePolicies" => self.list_attached_role_policies(input),
            "TagRole" => self.tag_role(input),
            "UntagRole" => self.untag_role(input),
            "ListRoleTags" => self.list_role_tags(input),
            "CreateInstanceProfile" => self.create_instance_profile(input, now),
            "GetInstanceProfile" => self.get_instance_profile(input),
            "ListInstanceProfiles" => self.list_instance_profiles(input),
            "ListInstanceProfilesForRole" => self.list_instance_profiles_for_role(input),
            "AddRoleToInstanceProfile" => self.add_role_to_instance_profile(input),
            "RemoveRoleFromInstanceProfile" => self.remove_role_from_instance_profile(input),
            "DeleteInstanceProfile" => self.delete_instance_profile(input),
            "TagInstanceProfile" => self.tag_instance_profile(input),
            "UntagInstanceProfile" => self.untag_instance_profile(input),
            "ListInstanceProfileTags" => self.list_instance_profile_tags(input),
            other => Err(IamError::UnknownOperation(format!(
                "Could not find operation {other} for version 2010-05-08"
            ))),
        }
    }

    /// The ARN of an entity of `kind` (`role`, `instance-profile`) at `path` named `name`.
    fn arn(&self, kind: &str, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:{kind}{path}{name}", self.account)
    }

    /// A new unique id: `prefix` and 17 characters of `A-Z2-7`, from the account and the
    /// number of ids made so far (splitmix64), so the same calls make the same ids.
    fn unique_id(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        self.ids_made += 1;
        let account = self
            .account
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            });
        let mut state = account ^ self.ids_made.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let bits = [next(), next()];
        let mut id = String::with_capacity(prefix.len() + 17);
        id.push_str(prefix);
        for i in 0..17 {
            let word = bits[i / 12];
            let index = (word >> ((i % 12) * 5)) & 31;
            id.push(char::from(ALPHABET[usize::try_from(index).unwrap_or(0)]));
        }
        id
    }
}

/// IAM's `CreateDate`: whole seconds since the epoch.
fn create_date(at: SimTime) -> Value {
    json!(at.as_millis() / 1000)
}

/// Tags as the model's `Tag` list, sorted by key.
fn tags_json(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(
        tags.iter()
            .map(|(key, value)| json!({"Key": key, "Value": value}))
            .collect(),
    )
}

/// Adds `new` to `tags`, a key replacing one that differs only in case; at most
/// [`input::MAX_TAGS`] in all (`LimitExceeded`, naming the quota `quota`).
fn merge_tags(
    tags: &mut BTreeMap<String, String>,
    new: Vec<(String, String)>,
    quota: &str,
) -> Result<(), IamError> {
    let mut merged = tags.clone();
    for (key, value) in new {
        merged.retain(|existing, _| !existing.eq_ignore_ascii_case(&key));
        merged.insert(key, value);
    }
    if merged.len() > input::MAX_TAGS {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for {quota}: {}",
            input::MAX_TAGS
        )));
    }
    *tags = merged;
    Ok(())
}

/// Removes `keys` from `tags`, regardless of case; keys not there are ignored.
fn remove_tags(tags: &mut BTreeMap<String, String>, keys: &[String]) {
    tags.retain(|existing, _| !keys.iter().any(|key| existing.eq_ignore_ascii_case(key)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_21_characters_distinct_and_reproducible() {
        let mut a = Iam::new("123456789012");
        let mut b = Iam::new("123456789012");
        let first = a.unique_id("AROA");
        assert_eq!(first.len(), 21);
        assert!(first.starts_with("AROA"));
        assert!(
            first[4..]
                .bytes()
                .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c))
        );
        assert_eq!(b.unique_id("AROA"), first);
        assert_ne!(a.unique_id("AROA"), first);
    }

    #[test]
    fn only_writes_change_state() {
        assert!(Iam::changes_state("CreateRole"));
        assert!(Iam::changes_state("UntagInstanceProfile"));
        assert!(!Iam::changes_state("GetRole"));
        assert!(!Iam::changes_state("ListRoles"));
        assert!(!Iam::changes_state("CreateUser"));
    }
}
