//! Networking as far as fleets need it: VPCs and subnets (a subnet selects a zone, and
//! hands out private addresses), with the default VPC every account has, and the store
//! of security groups (their calls are in `security_groups.rs`). The calls:
//! Create/Describe/DeleteVpc(s), Create/Describe/DeleteSubnet(s).

use std::collections::{BTreeMap, BTreeSet};

use market::{ZoneId, catalog};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cidr::Cidr;
use crate::cloud::{ACCOUNT_ID, Cloud, REGION, parse, to_json};
use crate::error::ApiError;
use crate::filters::{self, Fields, Filter, PageLimits};
use crate::tags::{self, Tag, TagSpecification, Tags};

/// A VPC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vpc {
    /// `vpc-...`
    pub id: String,
    /// Its address block.
    pub cidr: Cidr,
    /// The account's default VPC.
    pub is_default: bool,
    /// `vpc-cidr-assoc-...`
    pub association_id: String,
    /// `dopt-...`
    pub dhcp_options_id: String,
    /// `default` or `dedicated`.
    pub tenancy: String,
    /// Its `default` security group.
    pub default_group: String,
}

/// A subnet: one zone, one address block inside its VPC's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subnet {
    /// `subnet-...`
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Its address block.
    pub cidr: Cidr,
    /// Its zone.
    pub zone: ZoneId,
    /// A default subnet of the default VPC.
    pub default_for_az: bool,
    /// Instances get a public address.
    pub map_public_ip: bool,
    /// Host numbers in use.
    pub allocated: BTreeSet<u64>,
    /// Where the next search for a free host number starts.
    pub next_host: u64,
}

/// A security group (rules are recorded, not enforced: local instances share the
/// host's network).
#[derive(Clone, Debug, PartialEq)]
pub struct SecurityGroup {
    /// `sg-...`
    pub id: String,
    /// Unique within its VPC.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Ingress permissions as authorised (`IpPermission` JSON).
    pub ingress: Vec<Value>,
}

/// Every VPC, subnet and security group.
#[derive(Clone, Debug, Default)]
pub struct Network {
    /// By id.
    pub vpcs: BTreeMap<String, Vpc>,
    /// By id.
    pub subnets: BTreeMap<String, Subnet>,
    /// By id.
    pub groups: BTreeMap<String, SecurityGroup>,
}

impl Network {
    /// The zone of a subnet.
    pub fn subnet_zone(&self, id: &str) -> Option<ZoneId> {
        self.subnets.get(id).map(|s| s.zone)
    }

    /// The default VPC's default subnet in `zone`, else any subnet there.
    pub fn subnet_for_zone(&self, zone: ZoneId) -> Option<&Subnet> {
        let mut in_zone = self.subnets.values().filter(|s| s.zone == zone);
        let all: Vec<&Subnet> = in_zone.by_ref().collect();
        all.iter()
            .find(|s| s.default_for_az)
            .or_else(|| all.first())
            .copied()
    }

    /// Takes a free private address in `subnet`; `None` when it is full.
    pub fn allocate_host(&mut self, subnet: &str) -> Option<(u64, std::net::Ipv4Addr)> {
        let subnet = self.subnets.get_mut(subnet)?;
        let usable = subnet.cidr.usable();
        for i in 0..usable {
            let n = (subnet.next_host + i) % usable;
            if !subnet.allocated.contains(&n) {
                subnet.allocated.insert(n);
                subnet.next_host = n + 1;
                return subnet.cidr.host(n).map(|ip| (n, ip));
            }
        }
        None
    }

    /// Returns an address to its subnet.
    pub fn release_host(&mut self, subnet: &str, n: u64) {
        if let Some(subnet) = self.subnets.get_mut(subnet) {
            subnet.allocated.remove(&n);
        }
    }

    pub(crate) fn default_vpc(&self) -> Option<&Vpc> {
        self.vpcs.values().find(|v| v.is_default)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateVpcInput {
    dry_run: Option<bool>,
    cidr_block: Option<String>,
    instance_tenancy: Option<String>,
    tag_specifications: Option<Vec<TagSpecification>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeInput {
    pub(crate) dry_run: Option<bool>,
    #[serde(default, alias = "VpcIds", alias = "SubnetIds", alias = "GroupIds")]
    pub(crate) ids: Vec<String>,
    #[serde(default)]
    pub(crate) group_names: Vec<String>,
    #[serde(default)]
    pub(crate) filters: Vec<Filter>,
    pub(crate) max_results: Option<i64>,
    pub(crate) next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteInput {
    dry_run: Option<bool>,
    #[serde(alias = "VpcId", alias = "SubnetId")]
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateSubnetInput {
    dry_run: Option<bool>,
    vpc_id: Option<String>,
    cidr_block: Option<String>,
    availability_zone: Option<String>,
    availability_zone_id: Option<String>,
    tag_specifications: Option<Vec<TagSpecification>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VpcOutput {
    vpc_id: String,
    owner_id: &'static str,
    instance_tenancy: String,
    cidr_block_association_set: Vec<Value>,
    is_default: bool,
    state: &'static str,
    cidr_block: String,
    dhcp_options_id: String,
    tags: Vec<Tag>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SubnetOutput {
    subnet_id: String,
    subnet_arn: String,
    state: &'static str,
    vpc_id: String,
    cidr_block: String,
    available_ip_address_count: u64,
    availability_zone: &'static str,
    availability_zone_id: &'static str,
    default_for_az: bool,
    map_public_ip_on_launch: bool,
    assign_ipv6_address_on_creation: bool,
    owner_id: &'static str,
    tags: Vec<Tag>,
}

pub(crate) struct WithTags<'a, T> {
    pub(crate) item: &'a T,
    pub(crate) tags: Option<&'a Tags>,
}

impl Fields for WithTags<'_, Vpc> {
    fn field(&self, name: &str) -> Option<Vec<String>> {
        let v = self.item;
        Some(match name {
            "vpc-id" => vec![v.id.clone()],
            "cidr" | "cidr-block-association.cidr-block" => vec![v.cidr.to_string()],
            "cidr-block-association.association-id" => vec![v.association_id.clone()],
            "cidr-block-association.state" => vec!["associated".to_owned()],
            "is-default" => vec![v.is_default.to_string()],
            "state" => vec!["available".to_owned()],
            "owner-id" => vec![ACCOUNT_ID.to_owned()],
            "dhcp-options-id" => vec![v.dhcp_options_id.clone()],
            _ => return None,
        })
    }
    fn tags(&self) -> Option<&Tags> {
        self.tags
    }
}

impl Fields for WithTags<'_, Subnet> {
    fn field(&self, name: &str) -> Option<Vec<String>> {
        let s = self.item;
        let zone = catalog().zone(s.zone);
        Some(match name {
            "subnet-id" => vec![s.id.clone()],
            "vpc-id" => vec![s.vpc_id.clone()],
            "availability-zone" | "availabilityZone" => vec![zone.name.to_owned()],
            "availability-zone-id" | "availabilityZoneId" => vec![zone.id.to_owned()],
            "cidr-block" | "cidr" | "cidrBlock" => vec![s.cidr.to_string()],
            "default-for-az" | "defaultForAz" => vec![s.default_for_az.to_string()],
            "map-public-ip-on-launch" => vec![s.map_public_ip.to_string()],
            "state" => vec!["available".to_owned()],
            "owner-id" => vec![ACCOUNT_ID.to_owned()],
            "subnet-arn" => vec![subnet_arn(&s.id)],
            _ => return None,
        })
    }
    fn tags(&self) -> Option<&Tags> {
        self.tags
    }
}

fn subnet_arn(id: &str) -> String {
    format!("arn:aws:ec2:{REGION}:{ACCOUNT_ID}:subnet/{id}")
}

const VPC_FILTERS: &[&str] = &[
    "vpc-id",
    "cidr",
    "cidr-block-association.cidr-block",
    "cidr-block-association.association-id",
    "cidr-block-association.state",
    "is-default",
    "state",
    "owner-id",
    "dhcp-options-id",
];
const SUBNET_FILTERS: &[&str] = &[
    "subnet-id",
    "vpc-id",
    "availability-zone",
    "availabilityZone",
    "availability-zone-id",
    "availabilityZoneId",
    "cidr-block",
    "cidr",
    "cidrBlock",
    "default-for-az",
    "defaultForAz",
    "map-public-ip-on-launch",
    "state",
    "owner-id",
    "subnet-arn",
];
impl Cloud {
    /// Creates the default VPC (`172.31.0.0/16`) with a default subnet in every zone.
    pub(crate) fn create_default_vpc(&mut self) {
        let Some(cidr) = Cidr::parse("172.31.0.0/16") else {
            return;
        };
        let vpc_id = self.insert_vpc(cidr, true, "default".to_owned());
        for (i, (zone, _)) in catalog().zones().enumerate() {
            let Some(block) = cidr.nth_subnet(20, i as u32) else {
                continue;
            };
            let id = self.new_id("subnet");
            self.network.subnets.insert(
                id.clone(),
                Subnet {
                    id,
                    vpc_id: vpc_id.clone(),
                    cidr: block,
                    zone,
                    default_for_az: true,
                    map_public_ip: true,
                    allocated: BTreeSet::new(),
                    next_host: 0,
                },
            );
        }
    }

    fn insert_vpc(&mut self, cidr: Cidr, is_default: bool, tenancy: String) -> String {
        let id = self.new_id("vpc");
        let association_id = self.new_id("vpc-cidr-assoc");
        let dhcp_options_id = self.new_id("dopt");
        let group_id = self.new_id("sg");
        self.network.groups.insert(
            group_id.clone(),
            SecurityGroup {
                id: group_id.clone(),
                name: "default".to_owned(),
                description: "default VPC security group".to_owned(),
                vpc_id: id.clone(),
                ingress: Vec::new(),
            },
        );
        self.network.vpcs.insert(
            id.clone(),
            Vpc {
                id: id.clone(),
                cidr,
                is_default,
                association_id,
                dhcp_options_id,
                tenancy,
                default_group: group_id,
            },
        );
        id
    }

    fn vpc_output(&self, vpc: &Vpc) -> VpcOutput {
        VpcOutput {
            vpc_id: vpc.id.clone(),
            owner_id: ACCOUNT_ID,
            instance_tenancy: vpc.tenancy.clone(),
            cidr_block_association_set: vec![json!({
                "AssociationId": vpc.association_id,
                "CidrBlock": vpc.cidr.to_string(),
                "CidrBlockState": {"State": "associated"}
            })],
            is_default: vpc.is_default,
            state: "available",
            cidr_block: vpc.cidr.to_string(),
            dhcp_options_id: vpc.dhcp_options_id.clone(),
            tags: self.tags.of(&vpc.id).to_list(),
        }
    }

    fn subnet_output(&self, subnet: &Subnet) -> SubnetOutput {
        let zone = catalog().zone(subnet.zone);
        SubnetOutput {
            subnet_id: subnet.id.clone(),
            subnet_arn: subnet_arn(&subnet.id),
            state: "available",
            vpc_id: subnet.vpc_id.clone(),
            cidr_block: subnet.cidr.to_string(),
            available_ip_address_count: subnet
                .cidr
                .usable()
                .saturating_sub(subnet.allocated.len() as u64),
            availability_zone: zone.name,
            availability_zone_id: zone.id,
            default_for_az: subnet.default_for_az,
            map_public_ip_on_launch: subnet.map_public_ip,
            assign_ipv6_address_on_creation: false,
            owner_id: ACCOUNT_ID,
            tags: self.tags.of(&subnet.id).to_list(),
        }
    }

    pub(crate) fn create_vpc(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: CreateVpcInput = parse(input)?;
        let text = input
            .cidr_block
            .ok_or_else(|| ApiError::missing("CidrBlock"))?;
        let cidr = Cidr::parse(&text).ok_or_else(|| {
            ApiError::invalid_value(format!(
                "Value ({text}) for parameter cidrBlock is invalid. This is not a valid CIDR block."
            ))
        })?;
        if !(16..=28).contains(&cidr.prefix()) {
            return Err(ApiError::new(
                "InvalidVpc.Range",
                format!("The CIDR '{text}' is invalid."),
            ));
        }
        let tenancy = input
            .instance_tenancy
            .unwrap_or_else(|| "default".to_owned());
        if !matches!(tenancy.as_str(), "default" | "dedicated") {
            return Err(ApiError::invalid_value(format!(
                "Value ({tenancy}) for parameter instanceTenancy is invalid."
            )));
        }
        let tags = tags::from_specifications(input.tag_specifications.as_deref(), "vpc")?;
        if input.dry_run == Some(true) {
            return Err(ApiError::dry_run());
        }
        let id = self.insert_vpc(cidr, false, tenancy);
        self.tags.put(&id, tags);
        let vpc = self.network.vpcs.get(&id).cloned();
        Ok(json!({"Vpc": vpc.map(|v| to_json(&self.vpc_output(&v))).transpose()?}))
    }

    pub(crate) fn describe_vpcs(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: DescribeInput = parse(input)?;
        let page = self.describe(
            &input,
            &self.network.vpcs,
            VPC_FILTERS,
            ("InvalidVpcID.NotFound", "vpc"),
            |v| self.vpc_output(v),
        )?;
        Ok(json!({"Vpcs": to_json(&page.0)?, "NextToken": page.1}))
    }

    pub(crate) fn delete_vpc(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: DeleteInput = parse(input)?;
        let id = input.id.ok_or_else(|| ApiError::missing("VpcId"))?;
        let vpc = self.network.vpcs.get(&id).cloned().ok_or_else(|| {
            ApiError::new(
                "InvalidVpcID.NotFound",
                format!("The vpc ID '{id}' does not exist"),
            )
        })?;
        let has_subnets = self.network.subnets.values().any(|s| s.vpc_id == id);
        let has_groups = self
            .network
            .groups
            .values()
            .any(|g| g.vpc_id == id && g.id != vpc.default_group);
        if has_subnets || has_groups {
            return Err(ApiError::new(
                "DependencyViolation",
                format!("The vpc '{id}' has dependencies and cannot be deleted."),
            ));
        }
        dry_run(input.dry_run)?;
        self.network.vpcs.remove(&id);
        self.network.groups.remove(&vpc.default_group);
        self.tags.forget(&id);
        self.tags.forget(&vpc.default_group);
        Ok(json!({}))
    }

    pub(crate) fn create_subnet(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: CreateSubnetInput = parse(input)?;
        let vpc_id = input.vpc_id.ok_or_else(|| ApiError::missing("VpcId"))?;
        let text = input
            .cidr_block
            .ok_or_else(|| ApiError::missing("CidrBlock"))?;
        let vpc = self.network.vpcs.get(&vpc_id).cloned().ok_or_else(|| {
            ApiError::new(
                "InvalidVpcID.NotFound",
                format!("The vpc ID '{vpc_id}' does not exist"),
            )
        })?;
        let cidr = Cidr::parse(&text).ok_or_else(|| {
            ApiError::invalid_value(format!(
                "Value ({text}) for parameter cidrBlock is invalid. This is not a valid CIDR block."
            ))
        })?;
        if !vpc.cidr.contains(cidr) || !(16..=28).contains(&cidr.prefix()) {
            return Err(ApiError::new(
                "InvalidSubnet.Range",
                format!("The CIDR '{text}' is invalid."),
            ));
        }
        if let Some(other) = self
            .network
            .subnets
            .values()
            .find(|s| s.vpc_id == vpc_id && s.cidr.overlaps(cidr))
        {
            return Err(ApiError::new(
                "InvalidSubnet.Conflict",
                format!(
                    "The CIDR '{text}' conflicts with another subnet ({}).",
                    other.id
                ),
            ));
        }
        let zone = match (&input.availability_zone, &input.availability_zone_id) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid_combination(
                    "Only one of AvailabilityZone or AvailabilityZoneId may be given.",
                ));
            }
            (Some(name), None) => catalog().zone_by_name(name),
            (None, Some(id)) => catalog().zone_by_id(id),
            // AWS picks a zone; the first zone is ours, so the choice is reproducible.
            (None, None) => catalog().zones().next().map(|(id, _)| id),
        };
        let zone = zone.ok_or_else(|| {
            let names: Vec<&str> = catalog().zones().map(|(_, z)| z.name).collect();
            let given = input
                .availability_zone
                .or(input.availability_zone_id)
                .unwrap_or_default();
            ApiError::invalid_value(format!(
                "Value ({given}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {}.",
                names.join(", ")
            ))
        })?;
        let tags = tags::from_specifications(input.tag_specifications.as_deref(), "subnet")?;
        dry_run(input.dry_run)?;
        let id = self.new_id("subnet");
        let subnet = Subnet {
            id: id.clone(),
            vpc_id,
            cidr,
            zone,
            default_for_az: false,
            map_public_ip: false,
            allocated: BTreeSet::new(),
            next_host: 0,
        };
        self.network.subnets.insert(id.clone(), subnet.clone());
        self.tags.put(&id, tags);
        Ok(json!({"Subnet": to_json(&self.subnet_output(&subnet))?}))
    }

    pub(crate) fn describe_subnets(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: DescribeInput = parse(input)?;
        let page = self.describe(
            &input,
            &self.network.subnets,
            SUBNET_FILTERS,
            ("InvalidSubnetID.NotFound", "subnet"),
            |s| self.subnet_output(s),
        )?;
        Ok(json!({"Subnets": to_json(&page.0)?, "NextToken": page.1}))
    }

    /// What DescribeVpcs and DescribeSubnets share: every id named must exist (EC2's
    /// `(code, noun)` otherwise), then the filters, then one page of outputs.
    fn describe<T, O>(
        &self,
        input: &DescribeInput,
        items: &BTreeMap<String, T>,
        known_filters: &[&str],
        (code, noun): (&str, &str),
        output: impl Fn(&T) -> O,
    ) -> Result<(Vec<O>, Option<String>), ApiError>
    where
        for<'a> WithTags<'a, T>: Fields,
    {
        filters::check(&input.filters, known_filters)?;
        dry_run(input.dry_run)?;
        if let Some(id) = input.ids.iter().find(|id| !items.contains_key(*id)) {
            return Err(ApiError::new(
                code,
                format!("The {noun} ID '{id}' does not exist"),
            ));
        }
        let selected: Vec<O> = items
            .iter()
            .filter(|(id, _)| input.ids.is_empty() || input.ids.contains(id))
            .filter(|(id, item)| {
                filters::matches(
                    &input.filters,
                    &WithTags {
                        item: *item,
                        tags: self.tags.get(id),
                    },
                )
            })
            .map(|(_, item)| output(item))
            .collect();
        filters::paginate(
            selected,
            input.max_results,
            input.next_token.as_deref(),
            PageLimits::new(5, 1000),
        )
    }

    pub(crate) fn delete_subnet(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: DeleteInput = parse(input)?;
        let id = input.id.ok_or_else(|| ApiError::missing("SubnetId"))?;
        if !self.network.subnets.contains_key(&id) {
            return Err(ApiError::new(
                "InvalidSubnetID.NotFound",
                format!("The subnet ID '{id}' does not exist"),
            ));
        }
        let in_use = self.instances.iter().any(|(instance, record)| {
            record.subnet_id == id
                && self
                    .world
                    .engine()
                    .instance(instance)
                    .is_some_and(|i| i.state != fleet::InstanceState::Terminated)
        });
        if in_use {
            return Err(ApiError::new(
                "DependencyViolation",
                format!("The subnet '{id}' has dependencies and cannot be deleted."),
            ));
        }
        dry_run(input.dry_run)?;
        self.network.subnets.remove(&id);
        self.tags.forget(&id);
        Ok(json!({}))
    }
}

/// Answers `DryRunOperation` when the flag is set (after the call's own checks).
pub(crate) fn dry_run(flag: Option<bool>) -> Result<(), ApiError> {
    if flag == Some(true) {
        Err(ApiError::dry_run())
    } else {
        Ok(())
    }
}
