//! [`Monitoring`]: CloudWatch, SNS and EventBridge together, as the control plane drives
//! them — calls by service, agents' native reports, events from the rest of the region,
//! time, and the outcomes of the deliveries the shell performed.
//!
//! The services meet here and only here:
//! - an alarm's state change publishes its message to the SNS topics among its actions
//!   (recording each action in the alarm's history) and puts a `CloudWatch Alarm State
//!   Change` event on the bus;
//! - every event (EC2's, alarm changes, PutEvents) goes through EventBridge's rules, and
//!   each matching SNS target gets the target's payload published to its topic;
//! - SNS turns publishes into deliveries the shell performs.
//!
//! Time: [`Monitoring::advance_to`] evaluates the alarms due (their cadence is fixed by
//! their configuration, not by how often time is advanced) and applies retention; with
//! the same calls at the same times, the same states, messages and deliveries follow.

use agent_wire::{IngestResponse, Ledger, Report};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use simtime::SimTime;
use watch::metrics::Retention;

use crate::ApiError;
use crate::cloudwatch::alarms::{self, ActionResult, AlarmData, Alarms, Datapoint, Transition};
use crate::cloudwatch::metrics::{self, Metrics};
use crate::eventbridge::{Delivery, EventBridge};
use crate::native;
use crate::prometheus;
use crate::sns::{Attempt, DeliveryId, Outcome, Reported, Sns};

/// Which monitoring service a call is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// CloudWatch (metrics and alarms).
    CloudWatch,
    /// SNS.
    Sns,
    /// EventBridge.
    EventBridge,
}

impl Service {
    /// The service's name as AWS writes it.
    pub fn name(self) -> &'static str {
        match self {
            Service::CloudWatch => "CloudWatch",
            Service::Sns => "SNS",
            Service::EventBridge => "EventBridge",
        }
    }
}

/// What fixes the monitoring services' behaviour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitoringConfig {
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// The account id.
    pub account: String,
    /// Seed of every id the services make.
    pub seed: u64,
    /// The URL the endpoint is reachable at, for links in SNS messages.
    pub endpoint_url: String,
}

/// CloudWatch's operations on metrics (the rest are the alarms').
const METRIC_OPERATIONS: [(&str, bool); 4] = [
    ("GetMetricData", false),
    ("GetMetricStatistics", false),
    ("ListMetrics", false),
    ("PutMetricData", true),
];

/// The monitoring services of one region.
#[derive(Debug)]
pub struct Monitoring {
    config: MonitoringConfig,
    metrics: Metrics,
    alarms: Alarms,
    sns: Sns,
    events: EventBridge,
    /// Native reports seen, by run and sequence number.
    ledger: Ledger,
    /// Events published here (alarm state changes, `PutEvents` on the default bus) for
    /// the region's bus.
    published: Vec<Value>,
    now: SimTime,
}

impl Monitoring {
    /// The services, empty.
    pub fn new(config: MonitoringConfig) -> Monitoring {
        let MonitoringConfig {
            region,
            account,
            seed,
            endpoint_url,
        } = &config;
        Monitoring {
            metrics: Metrics::new(Retention::default()),
            alarms: Alarms::new(region, account, seed.wrapping_add(1)),
            sns: Sns::new(region, account, seed.wrapping_add(2), endpoint_url),
            events: EventBridge::new(region, account, seed.wrapping_add(3)),
            ledger: Ledger::new(),
            published: Vec::new(),
            now: SimTime::from_millis(0),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MonitoringConfig {
        &self.config
    }

    /// CloudWatch's metrics (read-only).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// CloudWatch's alarms (read-only).
    pub fn alarms(&self) -> &Alarms {
        &self.alarms
    }

    /// SNS (read-only).
    pub fn sns(&self) -> &Sns {
        &self.sns
    }

    /// EventBridge (read-only).
    pub fn eventbridge(&self) -> &EventBridge {
        &self.events
    }

    /// The current CloudWatch series in Prometheus's text format (see [`prometheus`]).
    pub fn prometheus(&self, now: SimTime) -> String {
        prometheus::exposition(self.metrics.store(), now)
    }

    /// Whether a successful `action` of `service` changes state (and must be recorded).
    pub fn changes_state(service: Service, action: &str) -> bool {
        match service {
            Service::CloudWatch => METRIC_OPERATIONS
                .iter()
                .chain(alarms::OPERATIONS.iter())
                .any(|(name, changes)| *name == action && *changes),
            Service::Sns => Sns::changes_state(action),
            Service::EventBridge => {
                !(action.starts_with("Describe")
                    || action.starts_with("List")
                    || action == "TestEventPattern")
            }
        }
    }

    /// Performs a call at `now` (the region's current time).
    pub fn call(
        &mut self,
        service: Service,
        action: &str,
        input: &Value,
        now: SimTime,
    ) -> Result<Value, ApiError> {
        self.now = self.now.max(now);
        match service {
            Service::CloudWatch => {
                let result = match action {
                    "PutMetricData" => self.metrics.put_metric_data(input, now),
                    "GetMetricStatistics" => self.metrics.get_metric_statistics(input, now),
                    "GetMetricData" => self.metrics.get_metric_data(input, now),
                    "ListMetrics" => self.metrics.list_metrics(input, now),
                    _ => self.alarms.call(action, input, now),
                };
                // SetAlarmState changes states outside evaluation.
                let transitions = self.alarms.take_transitions();
                self.act_on(transitions, now);
                result
            }
            Service::Sns => self.sns.call(action, input, now),
            Service::EventBridge => {
                let result = self.events.call(action, input, now);
                let deliveries = self.events.take_deliveries();
                self.deliver(deliveries, now);
                self.published.extend(self.events.take_put_events());
                result
            }
        }
    }

    /// Ingests agents' native reports, ignoring those already seen (by run id and
    /// sequence number): each new one becomes datapoints of the `spotlab` namespace
    /// (see [`native`]).
    pub fn ingest_reports(&mut self, reports: &[Report], _now: SimTime) -> IngestResponse {
        let mut response = IngestResponse::default();
        for report in reports {
            match self.ledger.accept(report) {
                agent_wire::Accepted::New => {
                    native::record(&mut self.metrics, report);
                    response.accepted += 1;
                }
                agent_wire::Accepted::Duplicate => response.duplicates += 1,
            }
        }
        response
    }

    /// Offers an event from elsewhere in the region to EventBridge's rules.
    pub fn route_event(&mut self, event: &Value, now: SimTime) {
        let deliveries = self.events.route(event);
        self.deliver(deliveries, now);
    }

    /// When time next matters: the next alarm evaluation. (Delivery attempts are due
    /// by [`Monitoring::next_delivery_due`]; the shell performs them, so time need not
    /// stop there.)
    pub fn next_due(&self) -> Option<SimTime> {
        self.alarms.next_evaluation()
    }

    /// Runs the services forward to `now`: evaluates the alarms due and applies
    /// retention.
    pub fn advance_to(&mut self, now: SimTime) {
        if now < self.now {
            return;
        }
        self.now = now;
        if self.alarms.next_evaluation().is_some_and(|due| due <= now) {
            let source = Source {
                metrics: &self.metrics,
            };
            let transitions = self.alarms.evaluate_due(now, &source);
            self.act_on(transitions, now);
        }
        self.metrics.expire(now);
    }

    /// The events the services published since the last call (alarm state changes,
    /// `PutEvents` on the default bus); they have already been through EventBridge's
    /// rules.
    pub fn take_events(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.published)
    }

    /// The delivery attempts due at `now` not already handed out.
    pub fn take_due_deliveries(&mut self, now: SimTime) -> Vec<Attempt> {
        self.sns.take_due(now)
    }

    /// When the next delivery attempt is due.
    pub fn next_delivery_due(&self) -> Option<SimTime> {
        self.sns.next_due()
    }

    /// Records how a delivery attempt went.
    pub fn delivery_outcome(
        &mut self,
        delivery: DeliveryId,
        attempt: u32,
        outcome: Outcome,
        now: SimTime,
    ) -> Reported {
        self.sns.report(delivery, attempt, outcome, now)
    }

    /// Publishes what each transition sends: its SNS actions (each recorded in the
    /// alarm's history) and its event, which goes through EventBridge's rules too.
    fn act_on(&mut self, transitions: Vec<Transition>, now: SimTime) {
        for transition in transitions {
            for action in &transition.actions {
                let result = if action.starts_with("arn:aws:sns:") {
                    let subject = truncate(&transition.subject, 99);
                    match self
                        .sns
                        .publish_internal(action, Some(subject), &transition.message, now)
                    {
                        Ok(_) => ActionResult::Succeeded,
                        Err(error) => ActionResult::Failed {
                            reason: error.message,
                        },
                    }
                } else {
                    ActionResult::Failed {
                        reason: format!("spotlab performs only SNS actions, not {action}"),
                    }
                };
                self.alarms.record_action(&transition, action, &result, now);
            }
            self.route_event(&transition.event, now);
            self.published.push(transition.event);
        }
    }

    /// Publishes each EventBridge delivery to an SNS topic to that topic (other targets
    /// are not served locally).
    fn deliver(&mut self, deliveries: Vec<Delivery>, now: SimTime) {
        for delivery in deliveries {
            if delivery.target_arn.starts_with("arn:aws:sns:") {
                // A target naming a topic that does not exist delivers nothing, as on
                // AWS (the failure shows in the target's metrics there).
                let _ =
                    self.sns
                        .publish_internal(&delivery.target_arn, None, &delivery.payload, now);
            }
        }
    }
}

/// At most `max` characters of `text`, cut at a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// The metric store as alarms read it.
struct Source<'a> {
    metrics: &'a Metrics,
}

impl AlarmData for Source<'_> {
    fn datapoints(
        &self,
        query: &alarms::AlarmQuery,
        start: SimTime,
        end: SimTime,
    ) -> Vec<Datapoint> {
        let store_query = alarms::store_query(query);
        self.prepared_datapoints(query, store_query.as_ref(), start, end)
    }

    fn prepared_datapoints(
        &self,
        _query: &alarms::AlarmQuery,
        store_query: Option<&metrics::AlarmQuery>,
        start: SimTime,
        end: SimTime,
    ) -> Vec<Datapoint> {
        let Some(query) = store_query else {
            return Vec::new();
        };
        self.metrics
            .alarm_series(query, start, end)
            .unwrap_or_default()
            .into_iter()
            .map(|point| Datapoint {
                timestamp: point.timestamp,
                value: point.value,
                sample_count: point.sample_count,
            })
            .collect()
    }
}
