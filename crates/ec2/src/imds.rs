//! The instance metadata service's answers, pure: what `GET /latest/...` returns for one
//! instance at the cloud's current time. Session tokens (IMDSv2), the TTL header and
//! the listener belong to the shell; the paths and their contents are here.
//!
//! `spot/instance-action` and `spot/termination-time` answer 404 until the instance has
//! an interruption notice, then AWS's JSON and timestamp; `events/recommendations/
//! rebalance` likewise once a rebalance recommendation was raised. Tags are listed under
//! `tags/instance/` only when the launch template enables `InstanceMetadataTags`.

use base64::Engine as _;
use fleet::spec::{InterruptionBehavior, Lifecycle};
use fleet::{Instance, InstanceId};
use serde_json::json;

use crate::cloud::{ACCOUNT_ID, Cloud, REGION};
use crate::instances::{InstanceRecord, MetadataOptions};

/// An answer of the metadata service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImdsAnswer {
    /// HTTP status: 200 or 404.
    pub status: u16,
    /// `text/plain`, or `application/json` for the identity document.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

/// The 404 page EC2's metadata service serves.
pub const NOT_FOUND_PAGE: &str = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n <head>\n  <title>404 - Not Found</title>\n </head>\n <body>\n  <h1>404 - Not Found</h1>\n </body>\n</html>\n";

fn ok(text: impl Into<String>) -> ImdsAnswer {
    ImdsAnswer {
        status: 200,
        content_type: "text/plain",
        body: text.into().into_bytes(),
    }
}

fn not_found() -> ImdsAnswer {
    ImdsAnswer {
        status: 404,
        content_type: "text/html",
        body: NOT_FOUND_PAGE.as_bytes().to_vec(),
    }
}

/// One instance as its metadata service sees it.
struct Metadata<'a> {
    instance: &'a Instance,
    record: &'a InstanceRecord,
    cloud: &'a Cloud,
}

impl Metadata<'_> {
    fn hostname(&self) -> Option<String> {
        self.record
            .private_ip
            .map(|(_, ip)| format!("ip-{}.ec2.internal", ip.to_string().replace('.', "-")))
    }

    /// The value of a leaf, or the listing of a directory (entries ending in `/`).
    fn lookup(&self, path: &str) -> Option<String> {
        let i = self.instance;
        let r = self.record;
        let lines = |entries: &[&str]| Some(entries.join("\n"));
        let notice = i.notice;
        let path = path.trim_end_matches('/');
        match path {
            "" => {
                let mut entries = vec![
                    "ami-id",
                    "ami-launch-index",
                    "ami-manifest-path",
                    "block-device-mapping/",
                    "events/",
                    "hostname",
                    "instance-action",
                    "instance-id",
                    "instance-life-cycle",
                    "instance-type",
                    "local-hostname",
                    "local-ipv4",
                    "placement/",
                    "reservation-id",
                    "security-groups",
                    "services/",
                ];
                if notice.is_some() {
                    entries.push("spot/");
                }
                if r.metadata.tags {
                    entries.push("tags/");
                }
                lines(&entries)
            }
            "ami-id" => r.image_id.clone(),
            "ami-launch-index" => Some(r.ami_launch_index.to_string()),
            "ami-manifest-path" => Some("(unknown)".to_owned()),
            "block-device-mapping" => lines(&["ami", "root"]),
            "block-device-mapping/ami" => Some("/dev/xvda".to_owned()),
            "block-device-mapping/root" => Some("/dev/xvda".to_owned()),
            "events" => lines(&["recommendations/"]),
            "events/recommendations" => i.rebalance_at.map(|_| "rebalance".to_owned()),
            "events/recommendations/rebalance" => i
                .rebalance_at
                .map(|at| json!({"noticeTime": at.to_iso_seconds()}).to_string()),
            "hostname" | "local-hostname" => self.hostname(),
            "instance-action" => Some("none".to_owned()),
            "instance-id" => Some(i.id.to_string()),
            "instance-life-cycle" => Some(
                match i.lifecycle {
                    Lifecycle::Spot => "spot",
                    Lifecycle::OnDemand => "on-demand",
                }
                .to_owned(),
            ),
            "instance-type" => Some(i.pool.type_name().to_owned()),
            "local-ipv4" => r.private_ip.map(|(_, ip)| ip.to_string()),
            "placement" => lines(&["availability-zone", "availability-zone-id", "region"]),
            "placement/availability-zone" => Some(i.pool.zone_name().to_owned()),
            "placement/availability-zone-id" => Some(i.pool.zone_info().id.to_owned()),
            "placement/region" => Some(REGION.to_owned()),
            "reservation-id" => Some(r.reservation_id.clone()),
            "security-groups" => Some(
                r.security_groups
                    .iter()
                    .map(|(_, name)| name.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            "services" => lines(&["domain", "partition"]),
            "services/domain" => Some("amazonaws.com".to_owned()),
            "services/partition" => Some("aws".to_owned()),
            "spot" => notice.map(|n| {
                if n.action == InterruptionBehavior::Terminate {
                    "instance-action\ntermination-time".to_owned()
                } else {
                    "instance-action".to_owned()
                }
            }),
            "spot/instance-action" => notice.map(|n| {
                json!({"action": n.action.as_str(), "time": n.action_at.to_iso_seconds()})
                    .to_string()
            }),
            "spot/termination-time" => notice
                .filter(|n| n.action == InterruptionBehavior::Terminate)
                .map(|n| n.action_at.to_iso_seconds()),
            "tags" if r.metadata.tags => lines(&["instance/"]),
            "tags/instance" if r.metadata.tags => {
                let tags = self.cloud.tags.of(i.id.as_str());
                Some(
                    tags.keys()
                        .filter(|k| !k.contains(['/', ' ']))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            }
            other => {
                let key = other.strip_prefix("tags/instance/")?;
                if !r.metadata.tags {
                    return None;
                }
                self.cloud
                    .tags
                    .of(i.id.as_str())
                    .get(key)
                    .map(str::to_owned)
            }
        }
    }

    fn identity_document(&self) -> String {
        let i = self.instance;
        let arch = match i.pool.instance_type_info().arch {
            market::Arch::X86_64 => "x86_64",
            market::Arch::Arm64 => "arm64",
        };
        let document = json!({
            "accountId": ACCOUNT_ID,
            "architecture": arch,
            "availabilityZone": i.pool.zone_name(),
            "billingProducts": null,
            "devpayProductCodes": null,
            "marketplaceProductCodes": null,
            "imageId": self.record.image_id,
            "instanceId": i.id.as_str(),
            "instanceType": i.pool.type_name(),
            "kernelId": null,
            "pendingTime": i.launched_at.to_iso_seconds(),
            "privateIp": self.record.private_ip.map(|(_, ip)| ip.to_string()),
            "ramdiskId": null,
            "region": REGION,
            "version": "2017-09-30",
        });
        serde_json::to_string_pretty(&document).unwrap_or_default()
    }
}

impl Cloud {
    /// An instance's metadata options, if the instance exists.
    pub fn metadata_options(&self, id: &InstanceId) -> Option<MetadataOptions> {
        self.instances.get(id).map(|r| r.metadata)
    }

    /// Answers `GET path` (e.g. `/latest/meta-data/instance-id`) for one instance.
    pub fn imds(&self, id: &InstanceId, path: &str) -> ImdsAnswer {
        let (Some(instance), Some(record)) =
            (self.world.engine().instance(id), self.instances.get(id))
        else {
            return not_found();
        };
        let metadata = Metadata {
            instance,
            record,
            cloud: self,
        };
        let path = path.trim_start_matches('/');
        match path.trim_end_matches('/') {
            "" => ok("latest"),
            "latest" => ok("dynamic\nmeta-data\nuser-data"),
            "latest/user-data" => match &record.user_data {
                Some(data) => ImdsAnswer {
                    status: 200,
                    content_type: "application/octet-stream",
                    body: base64::engine::general_purpose::STANDARD
                        .decode(data.trim())
                        .unwrap_or_default(),
                },
                None => not_found(),
            },
            "latest/dynamic" => ok("instance-identity/"),
            "latest/dynamic/instance-identity" => ok("document"),
            "latest/dynamic/instance-identity/document" => ImdsAnswer {
                status: 200,
                content_type: "application/json",
                body: metadata.identity_document().into_bytes(),
            },
            _ => match path.strip_prefix("latest/meta-data") {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                    match metadata.lookup(rest.trim_start_matches('/')) {
                        Some(text) => ok(text),
                        None => not_found(),
                    }
                }
                _ => not_found(),
            },
        }
    }
}
