//! What validation looks up outside the request: subnets, launch templates and the zones
//! an override without a location may use. [`Environment`] has two real implementations:
//! [`StaticEnvironment`] here (the simulator's fixed world) and the control plane's state.
//! This module resolves names to facts; it does not judge the request.

use std::collections::BTreeMap;

use market::{InstanceTypeId, ZoneId, catalog};

use crate::error::{ErrorCode, FleetError};
use crate::spec::LaunchTemplateRef;

/// The world a request is validated against.
pub trait Environment {
    /// The zone of a subnet; `None` if no such subnet exists (AWS:
    /// `InvalidSubnetID.NotFound`).
    fn subnet_zone(&self, subnet_id: &str) -> Option<ZoneId>;

    /// Resolves a launch template by id or name (the caller guarantees exactly one is
    /// given) and a version (`None`, a number, `$Latest` or `$Default`). Errors are AWS's:
    /// `InvalidLaunchTemplateId.NotFound`, `InvalidLaunchTemplateName.NotFoundException`,
    /// `InvalidLaunchTemplateId.VersionNotFound`.
    fn launch_template(
        &self,
        id: Option<&str>,
        name: Option<&str>,
        version: Option<&str>,
    ) -> Result<ResolvedTemplate, FleetError>;

    /// The zones an override with neither `SubnetId` nor a zone may launch into (AWS uses
    /// the default VPC's default subnets, one per zone).
    fn default_zones(&self) -> Vec<ZoneId>;
}

/// A launch template as the environment knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedTemplate {
    /// Id, name, requested and resolved version, AMI.
    pub reference: LaunchTemplateRef,
    /// The instance type the template launches, if it names one.
    pub instance_type: Option<InstanceTypeId>,
}

/// A fixed environment: known subnets and templates, every catalogue zone as a default
/// zone. With `accept_any_template`, an unknown template id or name resolves too (the
/// simulator has no launch template store).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StaticEnvironment {
    /// Subnet id -> its zone.
    pub subnets: BTreeMap<String, ZoneId>,
    /// Template id -> (name, instance type).
    pub templates: BTreeMap<String, (String, Option<InstanceTypeId>)>,
    /// Resolve unknown templates instead of answering `*.NotFound`.
    pub accept_any_template: bool,
}

impl StaticEnvironment {
    /// No subnets, no templates, unknown templates rejected.
    pub fn new() -> StaticEnvironment {
        StaticEnvironment::default()
    }

    /// The simulator's world: no subnets, and any template id or name resolves, with no
    /// instance type and no AMI. An id's name is the id itself; a name's id is derived
    /// from the name (`lt-` + 17 hex digits), so the same name always gets the same id.
    /// The two mappings are not inverses of each other.
    pub fn simulator() -> StaticEnvironment {
        StaticEnvironment {
            accept_any_template: true,
            ..StaticEnvironment::default()
        }
    }

    /// Adds a subnet in `zone`.
    pub fn with_subnet(mut self, id: impl Into<String>, zone: ZoneId) -> StaticEnvironment {
        self.subnets.insert(id.into(), zone);
        self
    }

    /// Adds a launch template.
    pub fn with_template(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        instance_type: Option<InstanceTypeId>,
    ) -> StaticEnvironment {
        self.templates
            .insert(id.into(), (name.into(), instance_type));
        self
    }
}

impl Environment for StaticEnvironment {
    fn subnet_zone(&self, subnet_id: &str) -> Option<ZoneId> {
        self.subnets.get(subnet_id).copied()
    }

    fn launch_template(
        &self,
        id: Option<&str>,
        name: Option<&str>,
        version: Option<&str>,
    ) -> Result<ResolvedTemplate, FleetError> {
        let (id, name, instance_type) = match (id, name) {
            (Some(id), _) => match self.templates.get(id) {
                Some((name, instance_type)) => (id.to_owned(), name.clone(), *instance_type),
                None if self.accept_any_template => (id.to_owned(), id.to_owned(), None),
                None => {
                    return Err(FleetError::new(
                        ErrorCode::InvalidLaunchTemplateIdNotFound,
                        format!(
                            "The specified launch template, with template ID {id}, does not exist."
                        ),
                    ));
                }
            },
            (None, Some(name)) => match self.templates.iter().find(|(_, (n, _))| n == name) {
                Some((id, (_, instance_type))) => (id.clone(), name.to_owned(), *instance_type),
                None if self.accept_any_template => (derived_id(name), name.to_owned(), None),
                None => {
                    return Err(FleetError::new(
                        ErrorCode::InvalidLaunchTemplateNameNotFound,
                        format!(
                            "The specified launch template, with template name {name}, does not exist."
                        ),
                    ));
                }
            },
            (None, None) => {
                return Err(FleetError::new(
                    ErrorCode::MissingParameter,
                    "The request must contain the parameter LaunchTemplateId or LaunchTemplateName.",
                ));
            }
        };
        Ok(ResolvedTemplate {
            reference: LaunchTemplateRef {
                version: resolve_version(&id, version)?,
                // [U] An absent Version is reported as `$Default`, what EC2 uses then.
                requested_version: version.unwrap_or("$Default").to_owned(),
                id,
                name,
                image_id: None,
            },
            instance_type,
        })
    }

    fn default_zones(&self) -> Vec<ZoneId> {
        catalog().zones().map(|(id, _)| id).collect()
    }
}

/// A static template has one version; `$Latest`, `$Default` and an absent version are 1,
/// and any positive number is accepted as itself (nothing records how many versions a
/// template has). Anything else is `InvalidLaunchTemplateId.VersionNotFound` [U: AWS may
/// answer `InvalidParameterValue` for text that is not a version at all].
fn resolve_version(id: &str, version: Option<&str>) -> Result<u32, FleetError> {
    match version {
        None | Some("$Latest" | "$Default") => Ok(1),
        Some(text) => text.parse::<u32>().ok().filter(|v| *v >= 1).ok_or_else(|| {
            FleetError::new(
                ErrorCode::InvalidLaunchTemplateVersionNotFound,
                format!(
                    "The specified launch template version {text} of template {id} does not exist."
                ),
            )
        }),
    }
}

/// `lt-` + 17 hex digits from an FNV-1a hash of the name: stable across runs and builds.
fn derived_id(name: &str) -> String {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("lt-0{hash:016x}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use super::*;

    #[test]
    fn simulator_resolves_any_template_deterministically() {
        let env = StaticEnvironment::simulator();
        let by_name = env
            .launch_template(None, Some("web"), Some("$Latest"))
            .expect("the test's input is valid");
        assert_eq!(by_name.reference.id, derived_id("web"));
        assert_eq!(by_name.reference.id.len(), 20);
        assert_eq!(
            (by_name.reference.version, by_name.instance_type),
            (1, None)
        );
        let by_id = env
            .launch_template(Some("lt-1"), None, Some("7"))
            .expect("the test's input is valid");
        assert_eq!(
            (by_id.reference.name.as_str(), by_id.reference.version),
            ("lt-1", 7)
        );
        assert_eq!(by_id.reference.requested_version, "7");
        let err = env
            .launch_template(Some("lt-1"), None, Some("x"))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidLaunchTemplateVersionNotFound);
    }

    #[test]
    fn strict_environment_answers_not_found() {
        let t2 = catalog().instance_type_id("t2.small");
        let env = StaticEnvironment::new().with_template("lt-1", "web", t2);
        assert_eq!(
            env.launch_template(None, Some("web"), None)
                .expect("the test's input is valid")
                .instance_type,
            t2
        );
        let by_id = env.launch_template(Some("lt-2"), None, None).unwrap_err();
        assert_eq!(by_id.code, ErrorCode::InvalidLaunchTemplateIdNotFound);
        let by_name = env.launch_template(None, Some("db"), None).unwrap_err();
        assert_eq!(by_name.code, ErrorCode::InvalidLaunchTemplateNameNotFound);
    }
}
