//! Security groups: Create/Describe/DeleteSecurityGroup(s) and
//! AuthorizeSecurityGroupIngress. Rules are recorded and echoed, never enforced: local
//! instances share the host's network. Every VPC has its `default` group, which cannot
//! be deleted.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::cloud::{ACCOUNT_ID, Cloud, REGION, parse, to_json};
use crate::error::ApiError;
use crate::filters::{self, Fields, PageLimits};
use crate::network::{DescribeInput, SecurityGroup, WithTags, dry_run};
use crate::tags::{self, TagSpecification, Tags};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateSecurityGroupInput {
    dry_run: Option<bool>,
    group_name: Option<String>,
    description: Option<String>,
    vpc_id: Option<String>,
    tag_specifications: Option<Vec<TagSpecification>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupRefInput {
    dry_run: Option<bool>,
    group_id: Option<String>,
    group_name: Option<String>,
    #[serde(default)]
    ip_permissions: Vec<Value>,
    ip_protocol: Option<String>,
    from_port: Option<i64>,
    to_port: Option<i64>,
    cidr_ip: Option<String>,
}

impl Fields for WithTags<'_, SecurityGroup> {
    fn field(&self, name: &str) -> Option<Vec<String>> {
        let g = self.item;
        Some(match name {
            "group-id" => vec![g.id.clone()],
            "group-name" => vec![g.name.clone()],
            "description" => vec![g.description.clone()],
            "vpc-id" => vec![g.vpc_id.clone()],
            "owner-id" => vec![ACCOUNT_ID.to_owned()],
            _ => return None,
        })
    }
    fn tags(&self) -> Option<&Tags> {
        self.tags
    }
}

const GROUP_FILTERS: &[&str] = &[
    "group-id",
    "group-name",
    "description",
    "vpc-id",
    "owner-id",
];

impl Cloud {
    pub(crate) fn create_security_group(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: CreateSecurityGroupInput = parse(input)?;
        let name = input
            .group_name
            .ok_or_else(|| ApiError::missing("GroupName"))?;
        let description = input
            .description
            .ok_or_else(|| ApiError::missing("GroupDescription"))?;
        let vpc_id = match input.vpc_id {
            Some(id) => {
                if !self.network.vpcs.contains_key(&id) {
                    return Err(ApiError::new(
                        "InvalidVpcID.NotFound",
                        format!("The vpc ID '{id}' does not exist"),
                    ));
                }
                id
            }
            None => self
                .network
                .default_vpc()
                .map(|v| v.id.clone())
                .ok_or_else(|| {
                    ApiError::new("VPCIdNotSpecified", "No default VPC for this user")
                })?,
        };
        if name.is_empty() || name.len() > 255 || name.starts_with("sg-") {
            return Err(ApiError::invalid_value(format!(
                "Value ({name}) for parameter GroupName is invalid."
            )));
        }
        if self
            .network
            .groups
            .values()
            .any(|g| g.vpc_id == vpc_id && g.name == name)
        {
            return Err(ApiError::new(
                "InvalidGroup.Duplicate",
                format!("The security group '{name}' already exists for VPC '{vpc_id}'"),
            ));
        }
        let tags =
            tags::from_specifications(input.tag_specifications.as_deref(), "security-group")?;
        dry_run(input.dry_run)?;
        let id = self.new_id("sg");
        self.network.groups.insert(
            id.clone(),
            SecurityGroup {
                id: id.clone(),
                name,
                description,
                vpc_id,
                ingress: Vec::new(),
            },
        );
        self.tags.put(&id, tags);
        Ok(json!({
            "GroupId": id,
            "Tags": to_json(&self.tags.of(&id).to_list())?,
            "SecurityGroupArn": format!("arn:aws:ec2:{REGION}:{ACCOUNT_ID}:security-group/{id}"),
        }))
    }

    fn group_by_ref(&self, id: Option<&str>, name: Option<&str>) -> Result<String, ApiError> {
        match (id, name) {
            (Some(id), _) => self
                .network
                .groups
                .contains_key(id)
                .then(|| id.to_owned())
                .ok_or_else(|| {
                    ApiError::new(
                        "InvalidGroup.NotFound",
                        format!("The security group '{id}' does not exist"),
                    )
                }),
            (None, Some(name)) => {
                let default_vpc = self.network.default_vpc().map(|v| v.id.as_str());
                self.network
                    .groups
                    .values()
                    .find(|g| g.name == name && Some(g.vpc_id.as_str()) == default_vpc)
                    .map(|g| g.id.clone())
                    .ok_or_else(|| {
                        ApiError::new(
                            "InvalidGroup.NotFound",
                            format!(
                                "The security group '{name}' does not exist in default VPC '{}'",
                                default_vpc.unwrap_or("none")
                            ),
                        )
                    })
            }
            (None, None) => Err(ApiError::missing("GroupId")),
        }
    }

    pub(crate) fn describe_security_groups(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: DescribeInput = parse(input)?;
        filters::check(&input.filters, GROUP_FILTERS)?;
        dry_run(input.dry_run)?;
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        for id in &input.ids {
            wanted.insert(self.group_by_ref(Some(id), None)?);
        }
        for name in &input.group_names {
            wanted.insert(self.group_by_ref(None, Some(name))?);
        }
        let selected: Vec<Value> = self
            .network
            .groups
            .values()
            .filter(|g| wanted.is_empty() || wanted.contains(&g.id))
            .filter(|g| {
                filters::matches(
                    &input.filters,
                    &WithTags {
                        item: *g,
                        tags: self.tags.get(&g.id),
                    },
                )
            })
            .map(|g| {
                json!({
                    "GroupId": g.id,
                    "GroupName": g.name,
                    "Description": g.description,
                    "VpcId": g.vpc_id,
                    "OwnerId": ACCOUNT_ID,
                    "SecurityGroupArn": format!("arn:aws:ec2:{REGION}:{ACCOUNT_ID}:security-group/{}", g.id),
                    "IpPermissions": g.ingress,
                    "IpPermissionsEgress": [{
                        "IpProtocol": "-1",
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                        "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []
                    }],
                    "Tags": self.tags.of(&g.id).to_list().iter().map(|t| json!({"Key": t.key, "Value": t.value})).collect::<Vec<_>>(),
                })
            })
            .collect();
        let (page, next) = filters::paginate(
            selected,
            input.max_results,
            input.next_token.as_deref(),
            PageLimits::new(5, 1000),
        )?;
        Ok(json!({"SecurityGroups": page, "NextToken": next}))
    }

    pub(crate) fn delete_security_group(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: GroupRefInput = parse(input)?;
        let id = self.group_by_ref(input.group_id.as_deref(), input.group_name.as_deref())?;
        if self.network.vpcs.values().any(|v| v.default_group == id) {
            return Err(ApiError::new(
                "CannotDelete",
                format!(
                    "the specified group: \"{id}\" name: \"default\" cannot be deleted by a user"
                ),
            ));
        }
        dry_run(input.dry_run)?;
        self.network.groups.remove(&id);
        self.tags.forget(&id);
        Ok(json!({"Return": true, "GroupId": id}))
    }

    pub(crate) fn authorize_security_group_ingress(
        &mut self,
        input: Value,
    ) -> Result<Value, ApiError> {
        let input: GroupRefInput = parse(input)?;
        let id = self.group_by_ref(input.group_id.as_deref(), input.group_name.as_deref())?;
        let mut permissions = input.ip_permissions;
        if let Some(protocol) = input.ip_protocol {
            let mut permission = json!({"IpProtocol": protocol});
            if let Some(from) = input.from_port {
                permission["FromPort"] = json!(from);
            }
            if let Some(to) = input.to_port {
                permission["ToPort"] = json!(to);
            }
            if let Some(cidr) = input.cidr_ip {
                permission["IpRanges"] = json!([{"CidrIp": cidr}]);
            }
            permissions.push(permission);
        }
        if permissions.is_empty() {
            return Err(ApiError::missing("IpPermissions"));
        }
        dry_run(input.dry_run)?;
        let mut rules = Vec::new();
        for permission in &permissions {
            rules.push(json!({
                "SecurityGroupRuleId": self.new_id("sgr"),
                "GroupId": id,
                "GroupOwnerId": ACCOUNT_ID,
                "IsEgress": false,
                "IpProtocol": permission.get("IpProtocol").cloned().unwrap_or(Value::Null),
                "FromPort": permission.get("FromPort").cloned().unwrap_or(Value::Null),
                "ToPort": permission.get("ToPort").cloned().unwrap_or(Value::Null),
            }));
        }
        if let Some(group) = self.network.groups.get_mut(&id) {
            group.ingress.extend(permissions);
        }
        Ok(json!({"Return": true, "SecurityGroupRules": rules}))
    }
}
