//! The local region as one pure state machine: the local EC2 ([`ec2::Cloud`]) and the
//! monitoring services ([`monitoring::Monitoring`]: CloudWatch, SNS, EventBridge) side
//! by side, with one command type, one clock and one event bus; and the account's IAM
//! ([`iam::Iam`]), which only answers calls.
//!
//! The two halves meet only through events: every event EC2 publishes (interruption
//! warnings, rebalance recommendations, state changes, fleet changes) is put on the
//! region's bus and offered to EventBridge's rules at the time it happened; alarm state
//! changes and the events `PutEvents` puts on the default bus come back the other way
//! onto the same bus. Time moves through
//! [`Region::advance_to`], which steps both halves through every instant either has
//! something due at, in time order, so the outcome does not depend on how finely the
//! caller steps time: applying the same [`Command`]s at the same virtual times rebuilds
//! the same region, whatever reads and time steps happened in between. The control
//! plane records only commands that changed something ([`Region::apply_and_tell`]).
//!
//! No clock, no sockets, no files: the control plane owns those.

use std::collections::BTreeSet;

use agent_wire::{IngestResponse, Report};
use ec2::{Bus, Cloud, CloudConfig, FaultRequest};
use fleet::InstanceId;
use iam::Iam;
use monitoring::sns::{Attempt, DeliveryId, Outcome};
use monitoring::{Monitoring, MonitoringConfig, Service};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use simtime::SimTime;

pub mod dashboard;

pub use ec2;
pub use iam;
pub use monitoring;

/// What fixes a region's behaviour; stored with its state so a restart rebuilds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionConfig {
    /// EC2's configuration (seed, start, host limits, boot delay...).
    pub ec2: CloudConfig,
    /// The URL the region's endpoint is reachable at, written into SNS messages
    /// (`SubscribeURL`, `UnsubscribeURL`).
    pub endpoint_url: String,
}

impl RegionConfig {
    fn monitoring(&self) -> MonitoringConfig {
        MonitoringConfig {
            region: ec2::REGION.to_owned(),
            account: ec2::ACCOUNT_ID.to_owned(),
            seed: self.ec2.seed ^ 0x3017_a7c4,
            endpoint_url: self.endpoint_url.clone(),
        }
    }
}

/// Something the region was told to do, as a control plane records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    /// An EC2 API call: the action and its input (JSON named like the CLI's).
    Ec2 {
        /// e.g. `CreateFleet`.
        action: String,
        /// The decoded input.
        input: Value,
    },
    /// A fault injection.
    Fault(FaultRequest),
    /// A FIS call on JSON named by FIS's model (served by EC2's half, whose instances
    /// its experiments interrupt).
    Fis {
        /// e.g. `StartExperiment`.
        operation: String,
        /// The decoded input.
        input: Value,
    },
    /// A CloudWatch, SNS or EventBridge call on JSON named by the service's model.
    Monitoring {
        /// Which service.
        service: Service,
        /// e.g. `PutMetricAlarm`.
        action: String,
        /// The decoded input.
        input: Value,
    },
    /// An IAM call on JSON named by IAM's model.
    Iam {
        /// e.g. `CreateRole`.
        action: String,
        /// The decoded input.
        input: Value,
    },
    /// Agents' native reports.
    Reports {
        /// The reports, as the agents sent them.
        reports: Vec<Report>,
    },
    /// The outcome of one delivery attempt the shell performed.
    Delivery {
        /// The delivery.
        delivery: DeliveryId,
        /// Which attempt of it.
        attempt: u32,
        /// How it went.
        outcome: Outcome,
    },
}

impl Command {
    /// A short name for messages: the action, or the kind of command.
    pub fn describe(&self) -> String {
        match self {
            Command::Ec2 { action, .. } => action.clone(),
            Command::Fault(_) => "fault injection".to_owned(),
            Command::Fis { operation, .. } => format!("FIS {operation}"),
            Command::Monitoring {
                service, action, ..
            } => format!("{} {action}", service.name()),
            Command::Iam { action, .. } => format!("IAM {action}"),
            Command::Reports { reports } => format!("{} agent reports", reports.len()),
            Command::Delivery { delivery, .. } => format!("{delivery}"),
        }
    }
}

/// A whole-command failure, from whichever half answered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    /// EC2's error (code, message, status).
    #[error(transparent)]
    Ec2(#[from] ec2::ApiError),
    /// A monitoring service's error (query code and message).
    #[error(transparent)]
    Monitoring(#[from] monitoring::ApiError),
    /// IAM's error (code and message).
    #[error(transparent)]
    Iam(#[from] iam::IamError),
}

impl RegionError {
    /// The error's code.
    pub fn code(&self) -> &str {
        match self {
            RegionError::Ec2(e) => &e.code,
            RegionError::Monitoring(e) => &e.code,
            RegionError::Iam(e) => e.code(),
        }
    }

    /// The error's message.
    pub fn message(&self) -> &str {
        match self {
            RegionError::Ec2(e) => &e.message,
            RegionError::Monitoring(e) => &e.message,
            RegionError::Iam(e) => e.message(),
        }
    }
}

/// What changed since the shell last asked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Instances whose processes may need starting, signalling or killing.
    pub instances: BTreeSet<InstanceId>,
    /// Events published on the region's bus, by sequence number range.
    pub events: Option<(u64, u64)>,
    /// Deliveries may have become due.
    pub deliveries: bool,
}

/// The local region.
#[derive(Debug)]
pub struct Region {
    config: RegionConfig,
    ec2: Cloud,
    monitoring: Monitoring,
    /// The account's IAM (global, but the local cloud has one region).
    iam: Iam,
    /// Every event of the region, EC2's and the monitoring services', in order.
    bus: Bus,
    /// EC2's bus sequence number already piped onto the region's bus.
    ec2_cursor: u64,
    events_since: Option<u64>,
    deliveries_changed: bool,
}

impl Region {
    /// A new region at the configuration's start.
    pub fn new(config: RegionConfig) -> Region {
        let ec2 = Cloud::new(config.ec2.clone());
        let monitoring = Monitoring::new(config.monitoring());
        let mut region = Region {
            ec2_cursor: 0,
            ec2,
            monitoring,
            iam: Iam::new(ec2::ACCOUNT_ID),
            bus: Bus::default(),
            events_since: None,
            deliveries_changed: false,
            config,
        };
        region.pipe_events();
        region
    }

    /// The configuration.
    pub fn config(&self) -> &RegionConfig {
        &self.config
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.ec2.now()
    }

    /// EC2 (read-only; changes go through [`Region::apply`]).
    pub fn ec2(&self) -> &Cloud {
        &self.ec2
    }

    /// The current Spot price of `pool` (see [`Cloud::spot_price`]: a read, though it
    /// brings the pool's price process up to now).
    pub fn spot_price(&mut self, pool: market::Pool) -> market::Price {
        self.ec2.spot_price(pool)
    }

    /// The monitoring services (read-only).
    pub fn monitoring(&self) -> &Monitoring {
        &self.monitoring
    }

    /// IAM (read-only).
    pub fn iam(&self) -> &Iam {
        &self.iam
    }

    /// The region's event bus: EC2's events and the monitoring services' own.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// When either half next has something to do as time passes (a boot, a notice's
    /// action, a price change, an alarm evaluation). Delivery attempts are not part of
    /// it: the shell performs those when [`Region::next_delivery_due`] says.
    pub fn next_due(&self) -> Option<SimTime> {
        match (self.ec2.next_due(), self.monitoring.next_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the region forward to `now`, stepping both halves through every instant
    /// either has something due at, in time order (a time in the past is ignored).
    pub fn advance_to(&mut self, now: SimTime) {
        loop {
            let current = self.now();
            let next = [self.ec2.next_due(), self.monitoring.next_due()]
                .into_iter()
                .flatten()
                .filter(|due| *due > current)
                .min();
            match next {
                Some(due) if due <= now => self.step_to(due),
                _ => break,
            }
        }
        self.step_to(now.max(self.now()));
    }

    fn step_to(&mut self, at: SimTime) {
        self.ec2.advance_to(at);
        self.pipe_events();
        let at = self.now();
        self.monitoring.advance_to(at);
        self.pipe_events();
    }

    /// Applies a command at the current time, and says whether it changed the region
    /// (only those need recording to rebuild it). A refused call changes nothing.
    pub fn apply_and_tell(&mut self, command: &Command) -> (Result<Value, RegionError>, bool) {
        let now = self.now();
        let (result, changed) = match command {
            Command::Ec2 { action, input } => {
                let (result, changed) = self.ec2.apply_and_tell(&ec2::Command::Api {
                    action: action.clone(),
                    input: input.clone(),
                });
                (result.map_err(RegionError::from), changed)
            }
            Command::Fault(fault) => {
                let (result, changed) =
                    self.ec2.apply_and_tell(&ec2::Command::Fault(fault.clone()));
                (result.map_err(RegionError::from), changed)
            }
            Command::Fis { operation, input } => {
                let (result, changed) = self.ec2.apply_and_tell(&ec2::Command::Fis {
                    operation: operation.clone(),
                    input: input.clone(),
                });
                (result.map_err(RegionError::from), changed)
            }
            Command::Monitoring {
                service,
                action,
                input,
            } => {
                let result = self.monitoring.call(*service, action, input, now);
                let changed = result.is_ok() && Monitoring::changes_state(*service, action);
                (result.map_err(RegionError::from), changed)
            }
            Command::Iam { action, input } => {
                let result = self.iam.call(action, input, now);
                let changed = result.is_ok() && Iam::changes_state(action);
                (result.map_err(RegionError::from), changed)
            }
            Command::Reports { reports } => {
                let response: IngestResponse = self.monitoring.ingest_reports(reports, now);
                let answer = serde_json::to_value(response).map_err(|e| {
                    RegionError::Monitoring(monitoring::ApiError::new(
                        "InternalFailure",
                        e.to_string(),
                    ))
                });
                (answer, response.accepted > 0)
            }
            Command::Delivery {
                delivery,
                attempt,
                outcome,
            } => {
                let reported = self
                    .monitoring
                    .delivery_outcome(*delivery, *attempt, *outcome, now);
                let answer = serde_json::to_value(reported).map_err(|e| {
                    RegionError::Monitoring(monitoring::ApiError::new(
                        "InternalFailure",
                        e.to_string(),
                    ))
                });
                (answer, true)
            }
        };
        self.pipe_events();
        if changed {
            self.deliveries_changed = true;
        }
        (result, changed)
    }

    /// Applies a command at the current time.
    pub fn apply(&mut self, command: &Command) -> Result<Value, RegionError> {
        self.apply_and_tell(command).0
    }

    /// The deliveries due now that are not already being attempted; each is handed out
    /// once until its outcome is reported (or the region is rebuilt, when every
    /// unreported attempt is due again: SNS's at-least-once delivery).
    pub fn take_due_deliveries(&mut self) -> Vec<Attempt> {
        let now = self.now();
        self.monitoring.take_due_deliveries(now)
    }

    /// When the next delivery attempt is due.
    pub fn next_delivery_due(&self) -> Option<SimTime> {
        self.monitoring.next_delivery_due()
    }

    /// What changed since the last call.
    pub fn take_changes(&mut self) -> Changes {
        let ec2 = self.ec2.take_changes();
        let events = self
            .events_since
            .take()
            .map(|first| (first, self.bus.last_seq()));
        Changes {
            instances: ec2.instances,
            events,
            deliveries: std::mem::take(&mut self.deliveries_changed),
        }
    }

    /// Moves EC2's new events onto the region's bus and through EventBridge's rules,
    /// then the monitoring services' own events (alarm state changes, `PutEvents`)
    /// onto the bus.
    fn pipe_events(&mut self) {
        let now = self.now();
        let fresh: Vec<Value> = self
            .ec2
            .bus()
            .since(self.ec2_cursor)
            .map(|e| e.event.clone())
            .collect();
        self.ec2_cursor = self.ec2.bus().last_seq();
        for event in fresh {
            self.monitoring.route_event(&event, now);
            self.publish(event);
            self.deliveries_changed = true;
        }
        for event in self.monitoring.take_events() {
            self.publish(event);
            self.deliveries_changed = true;
        }
    }

    fn publish(&mut self, event: Value) {
        self.bus.publish(event);
        if self.events_since.is_none() {
            self.events_since = Some(self.bus.last_seq());
        }
    }
}
