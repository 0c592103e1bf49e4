//! DescribeSpotInstanceRequests: the Spot request behind each Spot instance a fleet
//! launched (one-time for instant and request fleets, persistent for maintain fleets),
//! with AWS's states, status codes and messages.

use fleet::Instance;
use serde_json::{Value, json};

use crate::cloud::Cloud;
use crate::cloud::parse;
use crate::error::ApiError;
use crate::filters::{self, Fields, PageLimits};
use crate::instances::{InstanceIdsInput, InstanceRecord};
use crate::network::dry_run;
use crate::tags::Tags;

const SPOT_REQUEST_FILTERS: &[&str] = &[
    "spot-instance-request-id",
    "state",
    "status-code",
    "instance-id",
    "type",
    "launched-availability-zone",
    "product-description",
    "launch.instance-type",
    "launch.image-id",
];

impl Cloud {
    pub(crate) fn describe_spot_instance_requests(
        &mut self,
        input: Value,
    ) -> Result<Value, ApiError> {
        let input: InstanceIdsInput = parse(input)?;
        filters::check(&input.filters, SPOT_REQUEST_FILTERS)?;
        dry_run(input.dry_run)?;
        let engine = self.world.engine();
        let mut requests: Vec<Value> = Vec::new();
        let mut found: Vec<&str> = Vec::new();
        for instance in engine.instances().filter(|i| self.visible(i)) {
            let Some(request) = &instance.spot_request else {
                continue;
            };
            if !input.spot_instance_request_ids.is_empty()
                && !input
                    .spot_instance_request_ids
                    .iter()
                    .any(|r| r == request.id.as_str())
            {
                continue;
            }
            found.push(request.id.as_str());
            let record = self.instances.get(&instance.id);
            let fields = SpotRequestFields {
                instance,
                record,
                tags: self.tags.get(request.id.as_str()),
            };
            if !filters::matches(&input.filters, &fields) {
                continue;
            }
            let behavior = engine
                .fleet(&instance.fleet)
                .map_or("terminate", |f| f.spec.spot.interruption_behavior.as_str());
            let mut launch = json!({
                "InstanceType": instance.pool.type_name(),
                "Placement": {"AvailabilityZone": instance.pool.zone_name(), "Tenancy": "default"},
                "Monitoring": {"Enabled": false},
            });
            if let Some(record) = record {
                if let Some(image) = &record.image_id {
                    launch["ImageId"] = json!(image);
                }
                if !record.subnet_id.is_empty() {
                    launch["SubnetId"] = json!(record.subnet_id);
                }
                if let Some(key) = &record.key_name {
                    launch["KeyName"] = json!(key);
                }
            }
            requests.push(json!({
                "SpotInstanceRequestId": request.id.as_str(),
                "SpotPrice": instance.max_price.to_aws_string(),
                "Type": if request.persistent { "persistent" } else { "one-time" },
                "State": request.state.as_str(),
                "Status": {
                    "Code": request.status,
                    "Message": spot_status_message(request.status),
                    "UpdateTime": record.map_or(instance.launched_at, |r| r.status_updated).to_iso_millis(),
                },
                "InstanceId": instance.id.as_str(),
                "CreateTime": instance.launched_at.to_iso_millis(),
                "ProductDescription": "Linux/UNIX",
                "LaunchedAvailabilityZone": instance.pool.zone_name(),
                "LaunchedAvailabilityZoneId": instance.pool.zone_info().id,
                "InstanceInterruptionBehavior": behavior,
                "LaunchSpecification": launch,
                "Tags": self.tags.of(request.id.as_str()).to_list().iter().map(|t| json!({"Key": t.key, "Value": t.value})).collect::<Vec<_>>(),
            }));
        }
        if let Some(missing) = input
            .spot_instance_request_ids
            .iter()
            .find(|r| !found.contains(&r.as_str()))
        {
            return Err(ApiError::new(
                "InvalidSpotInstanceRequestID.NotFound",
                format!("The spot instance request ID '{missing}' does not exist"),
            ));
        }
        let (page, next) = filters::paginate(
            requests,
            input.max_results,
            input.next_token.as_deref(),
            PageLimits::new(5, 1000),
        )?;
        Ok(json!({"SpotInstanceRequests": page, "NextToken": next}))
    }
}

struct SpotRequestFields<'a> {
    instance: &'a Instance,
    record: Option<&'a InstanceRecord>,
    tags: Option<&'a Tags>,
}

impl Fields for SpotRequestFields<'_> {
    fn field(&self, name: &str) -> Option<Vec<String>> {
        let i = self.instance;
        let request = i.spot_request.as_ref()?;
        Some(match name {
            "spot-instance-request-id" => vec![request.id.to_string()],
            "state" => vec![request.state.as_str().to_owned()],
            "status-code" => vec![request.status.to_owned()],
            "instance-id" => vec![i.id.to_string()],
            "type" => vec![
                if request.persistent {
                    "persistent"
                } else {
                    "one-time"
                }
                .to_owned(),
            ],
            "launched-availability-zone" => vec![i.pool.zone_name().to_owned()],
            "product-description" => vec!["Linux/UNIX".to_owned()],
            "launch.instance-type" => vec![i.pool.type_name().to_owned()],
            "launch.image-id" => self
                .record
                .and_then(|r| r.image_id.clone())
                .into_iter()
                .collect(),
            _ => return None,
        })
    }
    fn tags(&self) -> Option<&Tags> {
        self.tags
    }
}

fn spot_status_message(code: &str) -> &'static str {
    match code {
        "fulfilled" => "Your spot request is fulfilled.",
        "marked-for-termination" => "Spot Instance is marked for termination.",
        "marked-for-stop" => "Spot Instance is marked for stop.",
        "marked-for-hibernation" => "Spot Instance is marked for hibernation.",
        "instance-terminated-no-capacity" => {
            "Spot Instance terminated due to no available capacity."
        }
        "instance-terminated-by-price" => {
            "Spot Instance terminated due to price higher than your maximum price."
        }
        "instance-terminated-by-user" => {
            "Spot Instance terminated due to user-initiated termination."
        }
        "instance-stopped-no-capacity" => "Spot Instance stopped due to no available capacity.",
        "instance-hibernated-no-capacity" => {
            "Spot Instance hibernated due to no available capacity."
        }
        _ => "",
    }
}
