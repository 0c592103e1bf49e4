//! From the world's log to EC2: each new log entry updates what EC2 keeps about the
//! instance ([`InstanceRecord`], created at launch from the fleet's launch template and
//! subnet), marks the instance for the shell's process reconcile, and is published on
//! the bus in EventBridge's envelope with AWS's detail-types:
//!
//! | log entry | `source` | `detail-type` |
//! |---|---|---|
//! | launched, running, shutting down, terminated, stopping, stopped, resumed | `aws.ec2` | `EC2 Instance State-change Notification` |
//! | notice | `aws.ec2` | `EC2 Spot Instance Interruption Warning` |
//! | rebalance | `aws.ec2` | `EC2 Instance Rebalance Recommendation` |
//! | fleet state | `aws.ec2fleet` | `EC2 Fleet State Change` |
//! | fleet launch, scale-down notice, termination | `aws.ec2fleet` | `EC2 Fleet Instance Change` |
//! | launch failure | `aws.ec2fleet` | `EC2 Fleet Information` |
//!
//! Fleet events are published for `maintain` and `request` fleets only, as AWS does.

use fleet::spec::FleetType;
use fleet::{Event, FleetId, FleetState, InstanceId, InterruptionReason};
use serde_json::{Value, json};
use simtime::SimTime;
use world::LogRecord;

use crate::cloud::{ACCOUNT_ID, Cloud, REGION};
use crate::instances::{InstanceRecord, MetadataOptions, launch_tags};

impl Cloud {
    /// Turns every log entry since the last call into records and events.
    pub(crate) fn ingest(&mut self) {
        let entries: Vec<world::LogEntry> = self.world.log()[self.log_cursor..].to_vec();
        self.log_cursor = self.world.log().len();
        for entry in entries {
            if let LogRecord::Fleet(event) = entry.record {
                self.on_event(&event);
            }
        }
    }

    fn on_event(&mut self, event: &Event) {
        let at = event.at();
        match event {
            Event::Launched {
                fleet, instance, ..
            } => {
                self.record_launch(fleet, instance, at);
                self.instance_state_event(instance, "pending", at);
                self.fleet_instance_event(fleet, instance, "launched", at);
            }
            Event::Running { instance, .. } => {
                if let Some(record) = self.instances.get_mut(instance) {
                    record.running_since = Some(at);
                }
                self.instance_state_event(instance, "running", at);
            }
            Event::Resumed { instance, .. } => {
                self.touch_status(instance, at);
                self.instance_state_event(instance, "pending", at);
            }
            Event::Notice {
                instance, notice, ..
            } => {
                self.touch_status(instance, at);
                let resources = vec![format!(
                    "arn:aws:ec2:{}:instance/{instance}",
                    self.zone_of(instance)
                )];
                self.publish(
                    "aws.ec2",
                    "EC2 Spot Instance Interruption Warning",
                    resources,
                    json!({"instance-id": instance.as_str(), "instance-action": notice.action.as_str()}),
                    at,
                );
                if notice.reason == InterruptionReason::ScaleDown
                    && let Some(fleet) = self.fleet_of(instance)
                {
                    self.fleet_instance_event(&fleet, instance, "termination_notified", at);
                }
            }
            Event::Rebalance { instance, .. } => {
                self.publish(
                    "aws.ec2",
                    "EC2 Instance Rebalance Recommendation",
                    vec![instance_arn(instance)],
                    json!({"instance-id": instance.as_str()}),
                    at,
                );
            }
            Event::Stopping {
                instance, state, ..
            } => {
                self.touch_status(instance, at);
                self.instance_state_event(instance, state, at);
            }
            Event::Terminated { instance, .. } => {
                self.touch_status(instance, at);
                if let Some(record) = self.instances.get_mut(instance)
                    && let Some((n, _)) = record.private_ip
                {
                    let subnet = record.subnet_id.clone();
                    self.network.release_host(&subnet, n);
                }
                self.instance_state_event(instance, "terminated", at);
                if let Some(fleet) = self.fleet_of(instance) {
                    self.fleet_instance_event(&fleet, instance, "terminated", at);
                }
            }
            Event::Stopped { instance, .. } => {
                self.touch_status(instance, at);
                self.instance_state_event(instance, "stopped", at);
            }
            Event::FleetState { fleet, state, .. } => {
                let previous = self.fleet_states.insert(fleet.clone(), *state);
                let sub_type = match (previous, state) {
                    (Some(FleetState::Modifying), FleetState::Active) => "modify_succeeded",
                    (_, FleetState::Modifying) => "modify_in_progress",
                    (_, other) => other.as_str(),
                };
                self.fleet_event(
                    fleet,
                    "EC2 Fleet State Change",
                    json!({"sub-type": sub_type}),
                    at,
                );
            }
            Event::LaunchFailed {
                fleet,
                pool,
                lifecycle,
                code,
                ..
            } => {
                let description = format!(
                    "{code}: {} {} in {}",
                    lifecycle.as_str(),
                    pool.type_name(),
                    pool.zone_name()
                );
                self.fleet_event(
                    fleet,
                    "EC2 Fleet Information",
                    json!({"sub-type": "launchSpecTemporarilyBlacklisted", "description": description}),
                    at,
                );
            }
        }
    }

    /// Records what EC2 knows about a new instance: its reservation, subnet and
    /// address, and what its launch template gives it.
    fn record_launch(&mut self, fleet_id: &FleetId, id: &InstanceId, at: SimTime) {
        let engine = self.world.engine();
        let (Some(instance), Some(fleet)) = (engine.instance(id), engine.fleet(fleet_id)) else {
            return;
        };
        let spec = fleet.spec.specs.get(instance.spec_index);
        let template = spec
            .and_then(|s| fleet.spec.launch_templates.get(s.template))
            .map(|t| (t.id.clone(), t.version));
        let data = template
            .as_ref()
            .and_then(|(id, version)| self.templates.data(id, *version))
            .cloned();
        let text = |key: &str| {
            data.as_ref()
                .and_then(|d| d.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let image_id = spec
            .and_then(|s| s.image_id.clone())
            .or_else(|| text("ImageId"));
        let zone = instance.pool.zone;
        let subnet = spec
            .and_then(|s| s.subnet_id.clone())
            .filter(|s| self.network.subnets.contains_key(s))
            .or_else(|| self.network.subnet_for_zone(zone).map(|s| s.id.clone()));
        let fleet_instance_tags = fleet.spec.instance_tags.clone();
        let client_token = fleet.spec.client_token.clone();
        let metadata = metadata_options(data.as_ref(), self.config.imds_tokens_required);
        let mut groups: Vec<(String, String)> = Vec::new();
        let named = |key: &str| -> Vec<String> {
            data.as_ref()
                .and_then(|d| d.get(key))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        for group_id in named("SecurityGroupIds") {
            let name = self
                .network
                .groups
                .get(&group_id)
                .map(|g| g.name.clone())
                .unwrap_or_default();
            groups.push((group_id, name));
        }
        for name in named("SecurityGroups") {
            if let Some(group) = self.network.groups.values().find(|g| g.name == name) {
                groups.push((group.id.clone(), name));
            }
        }
        if groups.is_empty()
            && let Some(vpc) = subnet
                .as_ref()
                .and_then(|s| self.network.subnets.get(s))
                .and_then(|s| self.network.vpcs.get(&s.vpc_id))
        {
            groups.push((vpc.default_group.clone(), "default".to_owned()));
        }
        let key = (fleet_id.clone(), at);
        let (reservation_id, index) = match self.reservations.get(&key) {
            Some((id, n)) => (id.clone(), *n),
            None => (self.new_id("r"), 0),
        };
        self.reservations
            .insert(key, (reservation_id.clone(), index + 1));
        let private_ip = subnet.as_ref().and_then(|s| self.network.allocate_host(s));
        let vpc_id = subnet
            .as_ref()
            .and_then(|s| self.network.subnets.get(s))
            .map(|s| s.vpc_id.clone())
            .unwrap_or_default();
        let tags = launch_tags(
            data.as_ref(),
            &fleet_instance_tags,
            fleet_id.as_str(),
            template.as_ref(),
        );
        self.tags.put(id.as_str(), tags);
        self.instances.insert(
            id.clone(),
            InstanceRecord {
                reservation_id,
                ami_launch_index: index,
                subnet_id: subnet.unwrap_or_default(),
                vpc_id,
                private_ip,
                image_id,
                key_name: text("KeyName"),
                user_data: text("UserData"),
                security_groups: groups,
                launch_template: template,
                metadata,
                client_token,
                running_since: None,
                status_updated: at,
            },
        );
    }

    fn touch_status(&mut self, id: &InstanceId, at: SimTime) {
        if let Some(record) = self.instances.get_mut(id) {
            record.status_updated = at;
        }
    }

    fn zone_of(&self, id: &InstanceId) -> &'static str {
        self.world
            .engine()
            .instance(id)
            .map_or(REGION, |i| i.pool.zone_name())
    }

    fn fleet_of(&self, id: &InstanceId) -> Option<FleetId> {
        self.world.engine().instance(id).map(|i| i.fleet.clone())
    }

    fn instance_state_event(&mut self, id: &InstanceId, state: &str, at: SimTime) {
        self.changed.insert(id.clone());
        self.publish(
            "aws.ec2",
            "EC2 Instance State-change Notification",
            vec![instance_arn(id)],
            json!({"instance-id": id.as_str(), "state": state}),
            at,
        );
    }

    fn fleet_instance_event(
        &mut self,
        fleet: &FleetId,
        id: &InstanceId,
        sub_type: &str,
        at: SimTime,
    ) {
        let description = match sub_type {
            "launched" => self
                .world
                .engine()
                .fleet(fleet)
                .and_then(|f| {
                    f.history
                        .iter()
                        .rev()
                        .find(|r| r.instance_id.as_ref() == Some(id))
                })
                .map(|r| r.event_description.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        self.fleet_event(
            fleet,
            "EC2 Fleet Instance Change",
            json!({"sub-type": sub_type, "instance-id": id.as_str(), "description": description}),
            at,
        );
    }

    fn fleet_event(&mut self, fleet: &FleetId, detail_type: &str, detail: Value, at: SimTime) {
        let publishes = self
            .world
            .engine()
            .fleet(fleet)
            .is_some_and(|f| f.spec.fleet_type != FleetType::Instant);
        if publishes {
            let arn = format!("arn:aws:ec2:{REGION}:{ACCOUNT_ID}:fleet/{fleet}");
            self.publish("aws.ec2fleet", detail_type, vec![arn], detail, at);
        }
    }

    /// Publishes one event in EventBridge's envelope.
    fn publish(
        &mut self,
        source: &str,
        detail_type: &str,
        resources: Vec<String>,
        detail: Value,
        at: SimTime,
    ) {
        let id = self.new_uuid();
        let event = json!({
            "version": "0",
            "id": id,
            "detail-type": detail_type,
            "source": source,
            "account": ACCOUNT_ID,
            "time": at.to_iso_seconds(),
            "region": REGION,
            "resources": resources,
            "detail": detail,
        });
        self.bus.publish(event);
        if self.events_since.is_none() {
            self.events_since = Some(self.bus.last_seq());
        }
    }
}

fn instance_arn(id: &InstanceId) -> String {
    format!("arn:aws:ec2:{REGION}:{ACCOUNT_ID}:instance/{id}")
}

/// A launch template's `MetadataOptions`, with the cloud's default for `HttpTokens`.
fn metadata_options(data: Option<&Value>, tokens_required_by_default: bool) -> MetadataOptions {
    let options = data.and_then(|d| d.get("MetadataOptions"));
    let text = |key: &str| options.and_then(|o| o.get(key)).and_then(Value::as_str);
    MetadataOptions {
        tokens_required: match text("HttpTokens") {
            Some("required") => true,
            Some("optional") => false,
            _ => tokens_required_by_default,
        },
        enabled: text("HttpEndpoint") != Some("disabled"),
        tags: text("InstanceMetadataTags") == Some("enabled"),
        hop_limit: options
            .and_then(|o| o.get("HttpPutResponseHopLimit"))
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1),
    }
}
