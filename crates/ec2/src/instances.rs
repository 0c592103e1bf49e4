//! Instances as EC2 describes them. The fleet engine owns their lifecycle; this module
//! keeps what EC2 adds when one launches ([`InstanceRecord`]: reservation, subnet and
//! private address, AMI, user data, key, security groups, metadata options, tags from
//! the launch template and the fleet) and answers DescribeInstances,
//! DescribeInstanceStatus and TerminateInstances.

use std::net::Ipv4Addr;

use fleet::spec::Lifecycle;
use fleet::{Instance, InstanceId, InstanceState};
use market::Arch;
use serde::Deserialize;
use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

use crate::cloud::{ACCOUNT_ID, Cloud, parse};
use crate::error::ApiError;
use crate::filters::{self, Fields, Filter, PageLimits};
use crate::network::dry_run;
use crate::tags::{Tags, check_user_key};

/// How long a terminated instance stays visible to DescribeInstances ("usually less
/// than one hour" on AWS).
const TERMINATED_VISIBLE: SimDuration = SimDuration::from_hours(1);
/// How long after `running` status checks report `initializing`.
const STATUS_INITIALIZING: SimDuration = SimDuration::from_mins(2);

/// The instance metadata service's settings for one instance (`MetadataOptions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetadataOptions {
    /// `HttpTokens=required`: IMDSv1 requests are refused.
    pub tokens_required: bool,
    /// `HttpEndpoint=enabled`.
    pub enabled: bool,
    /// `InstanceMetadataTags=enabled`: tags are readable under `tags/instance/`.
    pub tags: bool,
    /// `HttpPutResponseHopLimit`.
    pub hop_limit: u32,
}

/// What EC2 records about an instance at launch, beyond the engine's view.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceRecord {
    /// `r-...`, shared by the instances one fleet launched at one instant.
    pub reservation_id: String,
    /// Position in its reservation.
    pub ami_launch_index: u32,
    /// Its subnet (empty if the zone has none).
    pub subnet_id: String,
    /// Its VPC (empty if the zone has no subnet).
    pub vpc_id: String,
    /// Its private address, and the host number it holds in its subnet.
    pub private_ip: Option<(u64, Ipv4Addr)>,
    /// The AMI (from the override or the launch template).
    pub image_id: Option<String>,
    /// The key pair.
    pub key_name: Option<String>,
    /// User data, base64 as the template holds it.
    pub user_data: Option<String>,
    /// `(group id, group name)` of its security groups.
    pub security_groups: Vec<(String, String)>,
    /// `(template id, version)`.
    pub launch_template: Option<(String, u32)>,
    /// IMDS settings.
    pub metadata: MetadataOptions,
    /// The fleet's client token.
    pub client_token: Option<String>,
    /// When it last reached `running`.
    pub running_since: Option<SimTime>,
    /// When its Spot request's status last changed.
    pub status_updated: SimTime,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInstancesInput {
    dry_run: Option<bool>,
    #[serde(default)]
    instance_ids: Vec<String>,
    #[serde(default)]
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
    include_all_instances: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InstanceIdsInput {
    pub(crate) dry_run: Option<bool>,
    #[serde(default)]
    pub(crate) instance_ids: Vec<String>,
    #[serde(default)]
    pub(crate) spot_instance_request_ids: Vec<String>,
    #[serde(default)]
    pub(crate) filters: Vec<Filter>,
    pub(crate) max_results: Option<i64>,
    pub(crate) next_token: Option<String>,
}

const INSTANCE_FILTERS: &[&str] = &[
    "instance-id",
    "instance-state-name",
    "instance-state-code",
    "instance-type",
    "instance-lifecycle",
    "availability-zone",
    "placement.availability-zone",
    "subnet-id",
    "vpc-id",
    "image-id",
    "reservation-id",
    "private-ip-address",
    "private-dns-name",
    "spot-instance-request-id",
    "key-name",
    "architecture",
    "launch-time",
    "client-token",
    "instance.group-id",
    "instance.group-name",
    "state-reason-code",
    "owner-id",
];

const STATUS_FILTERS: &[&str] = &[
    "availability-zone",
    "instance-state-name",
    "instance-state-code",
    "instance-status.status",
    "instance-status.reachability",
    "system-status.status",
    "system-status.reachability",
];

/// An instance with everything filters and outputs need.
struct View<'a> {
    instance: &'a Instance,
    record: Option<&'a InstanceRecord>,
    tags: Option<&'a Tags>,
    now: SimTime,
}

impl View<'_> {
    fn state(&self) -> Value {
        json!({"Code": self.instance.state.code(), "Name": self.instance.state.name()})
    }

    fn private_dns(&self) -> String {
        self.record
            .and_then(|r| r.private_ip)
            .map(|(_, ip)| format!("ip-{}.ec2.internal", ip.to_string().replace('.', "-")))
            .unwrap_or_default()
    }

    fn status(&self) -> &'static str {
        match (
            self.instance.state,
            self.record.and_then(|r| r.running_since),
        ) {
            (InstanceState::Running, Some(since))
                if self.now.saturating_since(since) < STATUS_INITIALIZING =>
            {
                "initializing"
            }
            (InstanceState::Running, _) => "ok",
            _ => "not-applicable",
        }
    }
}

impl Fields for View<'_> {
    fn field(&self, name: &str) -> Option<Vec<String>> {
        let i = self.instance;
        let r = self.record;
        let text = |v: Option<&String>| v.cloned().into_iter().collect::<Vec<_>>();
        Some(match name {
            "instance-id" => vec![i.id.to_string()],
            "instance-state-name" => vec![i.state.name().to_owned()],
            "instance-state-code" => vec![i.state.code().to_string()],
            "instance-type" => vec![i.pool.type_name().to_owned()],
            "instance-lifecycle" => match i.lifecycle {
                Lifecycle::Spot => vec!["spot".to_owned()],
                Lifecycle::OnDemand => Vec::new(),
            },
            "availability-zone" | "placement.availability-zone" => {
                vec![i.pool.zone_name().to_owned()]
            }
            "subnet-id" => text(r.map(|r| &r.subnet_id)),
            "vpc-id" => text(r.map(|r| &r.vpc_id)),
            "image-id" => text(r.and_then(|r| r.image_id.as_ref())),
            "reservation-id" => text(r.map(|r| &r.reservation_id)),
            "private-ip-address" => r
                .and_then(|r| r.private_ip)
                .map(|(_, ip)| ip.to_string())
                .into_iter()
                .collect(),
            "private-dns-name" => vec![self.private_dns()],
            "spot-instance-request-id" => i
                .spot_request
                .as_ref()
                .map(|s| s.id.to_string())
                .into_iter()
                .collect(),
            "key-name" => text(r.and_then(|r| r.key_name.as_ref())),
            "architecture" => vec![architecture(i).to_owned()],
            "launch-time" => vec![i.launched_at.to_iso_millis()],
            "client-token" => text(r.and_then(|r| r.client_token.as_ref())),
            "instance.group-id" => r
                .map(|r| r.security_groups.iter().map(|g| g.0.clone()).collect())
                .unwrap_or_default(),
            "instance.group-name" => r
                .map(|r| r.security_groups.iter().map(|g| g.1.clone()).collect())
                .unwrap_or_default(),
            "state-reason-code" => i.state_reason.map(str::to_owned).into_iter().collect(),
            "owner-id" => vec![ACCOUNT_ID.to_owned()],
            "instance-status.status" | "system-status.status" => vec![self.status().to_owned()],
            "instance-status.reachability" | "system-status.reachability" => {
                vec![reachability(self.status()).to_owned()]
            }
            _ => return None,
        })
    }
    fn tags(&self) -> Option<&Tags> {
        self.tags
    }
}

fn architecture(instance: &Instance) -> &'static str {
    match instance.pool.instance_type_info().arch {
        Arch::X86_64 => "x86_64",
        Arch::Arm64 => "arm64",
    }
}

fn reachability(status: &str) -> &'static str {
    match status {
        "ok" => "passed",
        "initializing" => "initializing",
        _ => "not-applicable",
    }
}

fn state_reason_message(code: &str) -> &'static str {
    match code {
        "Server.SpotInstanceTermination" => {
            "Server.SpotInstanceTermination: Spot instance termination"
        }
        "Server.SpotInstanceShutdown" => "Server.SpotInstanceShutdown: Spot instance shutdown",
        "Client.UserInitiatedShutdown" => "Client.UserInitiatedShutdown: User initiated shutdown",
        _ => "",
    }
}

/// Checks an instance id's form: `i-` and 8 or 17 hex digits.
pub(crate) fn check_instance_id(id: &str) -> Result<(), ApiError> {
    let ok = id.strip_prefix("i-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            "InvalidInstanceID.Malformed",
            format!("Invalid id: \"{id}\""),
        ))
    }
}

impl Cloud {
    fn view<'a>(&'a self, instance: &'a Instance) -> View<'a> {
        View {
            instance,
            record: self.instances.get(&instance.id),
            tags: self.tags.get(instance.id.as_str()),
            now: self.now(),
        }
    }

    /// Whether an instance is still visible (terminated ones fade after an hour).
    pub(crate) fn visible(&self, instance: &Instance) -> bool {
        instance
            .terminated_at
            .is_none_or(|at| self.now().saturating_since(at) < TERMINATED_VISIBLE)
    }

    /// The instances named by `ids` (all must exist), or every visible one.
    fn select_instances(&self, ids: &[String]) -> Result<Vec<&Instance>, ApiError> {
        let engine = self.world.engine();
        if ids.is_empty() {
            return Ok(engine.instances().filter(|i| self.visible(i)).collect());
        }
        let mut out = Vec::new();
        let mut missing = Vec::new();
        for id in ids {
            check_instance_id(id)?;
            match engine.instance(&InstanceId::new(id.as_str())) {
                Some(instance) if self.visible(instance) => out.push(instance),
                _ => missing.push(id.as_str()),
            }
        }
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|m| format!("'{m}'"))
                .collect::<Vec<_>>()
                .join(", ");
            let noun = if missing.len() == 1 {
                "The instance ID"
            } else {
                "The instance IDs"
            };
            let verb = if missing.len() == 1 {
                "does not"
            } else {
                "do not"
            };
            return Err(ApiError::new(
                "InvalidInstanceID.NotFound",
                format!("{noun} {list} {verb} exist"),
            ));
        }
        Ok(out)
    }

    fn instance_json(&self, view: &View<'_>) -> Value {
        let i = view.instance;
        let r = view.record;
        let info = i.pool.instance_type_info();
        let zone = i.pool.zone_info();
        let mut out = json!({
            "InstanceId": i.id.as_str(),
            "InstanceType": i.pool.type_name(),
            "State": view.state(),
            "LaunchTime": i.launched_at.to_iso_millis(),
            "Placement": {
                "AvailabilityZone": zone.name,
                "AvailabilityZoneId": zone.id,
                "GroupName": "",
                "Tenancy": "default"
            },
            "PrivateDnsName": view.private_dns(),
            "PublicDnsName": "",
            "StateTransitionReason": transition_reason(i),
            "AmiLaunchIndex": r.map_or(0, |r| r.ami_launch_index),
            "ProductCodes": [],
            "Monitoring": {"State": "disabled"},
            "Architecture": architecture(i),
            "RootDeviceType": "ebs",
            "RootDeviceName": "/dev/xvda",
            "BlockDeviceMappings": [],
            "VirtualizationType": "hvm",
            "Hypervisor": "xen",
            "EbsOptimized": false,
            "EnaSupport": true,
            "SourceDestCheck": true,
            "PlatformDetails": "Linux/UNIX",
            "UsageOperation": "RunInstances",
            "HibernationOptions": {"Configured": false},
            "Tags": self.tags.of(i.id.as_str()).to_list().iter().map(|t| json!({"Key": t.key, "Value": t.value})).collect::<Vec<_>>(),
        });
        if let Some(cpu) = info.cpu {
            out["CpuOptions"] =
                json!({"CoreCount": cpu.cores, "ThreadsPerCore": cpu.threads_per_core});
        }
        if i.lifecycle == Lifecycle::Spot {
            out["InstanceLifecycle"] = json!("spot");
        }
        if let Some(request) = &i.spot_request {
            out["SpotInstanceRequestId"] = json!(request.id.as_str());
        }
        if let Some(code) = i.state_reason {
            out["StateReason"] = json!({"Code": code, "Message": state_reason_message(code)});
        }
        if let Some(r) = r {
            if !r.subnet_id.is_empty() {
                out["SubnetId"] = json!(r.subnet_id);
                out["VpcId"] = json!(r.vpc_id);
            }
            if let Some((_, ip)) = r.private_ip
                && i.state != InstanceState::Terminated
            {
                out["PrivateIpAddress"] = json!(ip.to_string());
            }
            if let Some(image) = &r.image_id {
                out["ImageId"] = json!(image);
            }
            if let Some(key) = &r.key_name {
                out["KeyName"] = json!(key);
            }
            if let Some(token) = &r.client_token {
                out["ClientToken"] = json!(token);
            }
            out["SecurityGroups"] = Value::Array(
                r.security_groups
                    .iter()
                    .map(|(id, name)| json!({"GroupId": id, "GroupName": name}))
                    .collect(),
            );
            out["MetadataOptions"] = json!({
                "State": "applied",
                "HttpTokens": if r.metadata.tokens_required { "required" } else { "optional" },
                "HttpPutResponseHopLimit": r.metadata.hop_limit,
                "HttpEndpoint": if r.metadata.enabled { "enabled" } else { "disabled" },
                "HttpProtocolIpv6": "disabled",
                "InstanceMetadataTags": if r.metadata.tags { "enabled" } else { "disabled" },
            });
        }
        out
    }

    pub(crate) fn describe_instances(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: DescribeInstancesInput = parse(input)?;
        filters::check(&input.filters, INSTANCE_FILTERS)?;
        if !input.instance_ids.is_empty() && input.max_results.is_some() {
            return Err(ApiError::invalid_combination(
                "The parameter instancesSet cannot be used with the parameter maxResults",
            ));
        }
        let selected = self.select_instances(&input.instance_ids)?;
        dry_run(input.dry_run)?;
        let views: Vec<View<'_>> = selected
            .into_iter()
            .map(|i| self.view(i))
            .filter(|v| filters::matches(&input.filters, v))
            .collect();
        let (page, next) = filters::paginate(
            views,
            input.max_results,
            input.next_token.as_deref(),
            PageLimits::new(5, 1000),
        )?;
        // Instances launched together share a reservation; keep them together, in
        // order of first appearance.
        let mut reservations: Vec<(String, Vec<Value>)> = Vec::new();
        for view in &page {
            let id = view
                .record
                .map(|r| r.reservation_id.clone())
                .unwrap_or_default();
            let json = self.instance_json(view);
            match reservations.iter_mut().find(|(r, _)| *r == id) {
                Some((_, list)) => list.push(json),
                None => reservations.push((id, vec![json])),
            }
        }
        let reservations: Vec<Value> = reservations
            .into_iter()
            .map(|(id, instances)| {
                json!({
                    "ReservationId": id,
                    "OwnerId": ACCOUNT_ID,
                    "Groups": [],
                    "Instances": instances,
                })
            })
            .collect();
        Ok(json!({"Reservations": reservations, "NextToken": next}))
    }

    pub(crate) fn describe_instance_status(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: DescribeInstancesInput = parse(input)?;
        filters::check(&input.filters, STATUS_FILTERS)?;
        if !input.instance_ids.is_empty() && input.max_results.is_some() {
            return Err(ApiError::invalid_combination(
                "The parameter instancesSet cannot be used with the parameter maxResults",
            ));
        }
        let selected = self.select_instances(&input.instance_ids)?;
        dry_run(input.dry_run)?;
        let all = input.include_all_instances == Some(true);
        let statuses: Vec<Value> = selected
            .into_iter()
            .filter(|i| all || i.state == InstanceState::Running)
            .map(|i| self.view(i))
            .filter(|v| filters::matches(&input.filters, v))
            .map(|v| {
                let status = v.status();
                let summary = json!({
                    "Status": status,
                    "Details": [{"Name": "reachability", "Status": reachability(status)}]
                });
                json!({
                    "InstanceId": v.instance.id.as_str(),
                    "AvailabilityZone": v.instance.pool.zone_name(),
                    "AvailabilityZoneId": v.instance.pool.zone_info().id,
                    "InstanceState": v.state(),
                    "InstanceStatus": summary,
                    "SystemStatus": summary,
                    "AttachedEbsStatus": {"Status": status, "Details": [{"Name": "reachability", "Status": reachability(status)}]},
                })
            })
            .collect();
        let (page, next) = filters::paginate(
            statuses,
            input.max_results,
            input.next_token.as_deref(),
            PageLimits::new(5, 1000),
        )?;
        Ok(json!({"InstanceStatuses": page, "NextToken": next}))
    }

    pub(crate) fn terminate_instances(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: InstanceIdsInput = parse(input)?;
        if input.instance_ids.is_empty() {
            return Err(ApiError::missing("InstanceId"));
        }
        let before: Vec<(String, Value)> = self
            .select_instances(&input.instance_ids)?
            .into_iter()
            .map(|i| (i.id.to_string(), self.view(i).state()))
            .collect();
        dry_run(input.dry_run)?;
        let ids: Vec<InstanceId> = before
            .iter()
            .map(|(id, _)| InstanceId::new(id.as_str()))
            .collect();
        self.world.terminate_instances(&ids)?;
        let changes: Vec<Value> = before
            .into_iter()
            .map(|(id, previous)| {
                let current = self
                    .world
                    .engine()
                    .instance(&InstanceId::new(id.as_str()))
                    .map(|i| json!({"Code": i.state.code(), "Name": i.state.name()}))
                    .unwrap_or_else(|| previous.clone());
                json!({"InstanceId": id, "PreviousState": previous, "CurrentState": current})
            })
            .collect();
        Ok(json!({"TerminatingInstances": changes}))
    }

    /// Whether `id` names an instance the caller can see (GetConsoleOutput, tags).
    pub fn instance_exists(&self, id: &str) -> Result<(), ApiError> {
        self.select_instances(&[id.to_owned()]).map(|_| ())
    }

    /// Whether `id` names a Spot request (for CreateTags).
    pub(crate) fn spot_request_exists(&self, id: &str) -> bool {
        self.world
            .engine()
            .instances()
            .any(|i| i.spot_request.as_ref().is_some_and(|r| r.id.as_str() == id))
    }
}

fn transition_reason(instance: &Instance) -> String {
    match (
        instance.state,
        instance.state_reason,
        instance.terminated_at,
    ) {
        (InstanceState::Terminated, Some(code), Some(at)) => {
            let when = at.to_iso_seconds().replace('T', " ").replace('Z', " GMT");
            if code.starts_with("Client.") {
                format!("User initiated ({when})")
            } else {
                format!("Service initiated ({when})")
            }
        }
        _ => String::new(),
    }
}

/// Tags a fleet instance carries: the launch template's instance tags, the fleet's
/// instance tags (instant fleets), and AWS's own `aws:ec2:fleet-id` and
/// `aws:ec2launchtemplate:*`.
pub(crate) fn launch_tags(
    template_data: Option<&Value>,
    fleet_instance_tags: &[fleet::wire::Tag],
    fleet_id: &str,
    template: Option<&(String, u32)>,
) -> Tags {
    let mut tags = Tags::new();
    if let Some(specs) = template_data
        .and_then(|d| d.get("TagSpecifications"))
        .and_then(Value::as_array)
    {
        for spec in specs {
            if spec.get("ResourceType").and_then(Value::as_str) != Some("instance") {
                continue;
            }
            for tag in spec
                .get("Tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(key) = tag.get("Key").and_then(Value::as_str)
                    && check_user_key(key).is_ok()
                {
                    let value = tag.get("Value").and_then(Value::as_str).unwrap_or_default();
                    tags.set(key, value);
                }
            }
        }
    }
    for tag in fleet_instance_tags {
        tags.set(tag.key.clone(), tag.value.clone());
    }
    tags.set("aws:ec2:fleet-id", fleet_id);
    if let Some((id, version)) = template {
        tags.set("aws:ec2launchtemplate:id", id.clone());
        tags.set("aws:ec2launchtemplate:version", version.to_string());
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_are_checked_for_form() {
        assert!(check_instance_id("i-0123456789abcdef0").is_ok());
        assert!(check_instance_id("i-01234567").is_ok());
        assert_eq!(
            check_instance_id("i-xyz").unwrap_err().code,
            "InvalidInstanceID.Malformed"
        );
        assert!(check_instance_id("fleet-1").is_err());
    }
}
