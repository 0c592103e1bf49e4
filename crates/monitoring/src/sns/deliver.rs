//! Turning messages into deliveries, and the control plane's side of the outbox: take
//! what is due, report outcomes, read the per-subscription counters and the topics view.

use std::collections::BTreeMap;

use serde::Serialize;
use simtime::{SimDuration, SimTime};

use super::Sns;
use super::envelope::{Envelope, MessageAttribute, MessageKind, Urls};
use super::outbox::{Attempt, DeliveryCounters, DeliveryId, Outcome, Reported};
use super::policy::{RetryPolicy, effective};
use super::protocol::Protocol;
use super::subscriptions::Subscription;
use super::topics::Topic;

/// A message's text: one for every protocol, or MessageStructure=json's per-protocol
/// texts with their `default`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Content {
    /// The same text for every subscriber.
    Plain(String),
    /// A text per protocol key (`http`, `sqs`, `email`, ...), `default` for the rest.
    PerProtocol {
        default: String,
        by_protocol: BTreeMap<String, String>,
    },
}

impl Content {
    /// The text a `protocol` subscriber receives.
    pub fn for_protocol(&self, protocol: Protocol) -> &str {
        match self {
            Content::Plain(text) => text,
            Content::PerProtocol {
                default,
                by_protocol,
            } => by_protocol
                .get(protocol.as_str())
                .map_or(default.as_str(), String::as_str),
        }
    }
}

/// A message on its way to subscribers.
pub(super) struct Outgoing<'a> {
    pub kind: MessageKind,
    pub message_id: &'a str,
    pub subject: Option<&'a str>,
    pub content: &'a Content,
    /// Confirmations only.
    pub token: Option<&'a str>,
    /// FIFO notifications only.
    pub sequence_number: Option<&'a str>,
    pub attributes: &'a BTreeMap<String, MessageAttribute>,
}

/// A delivery's first attempt, the policy that retries it, and for throttled
/// subscriptions when the one after may go.
struct Planned {
    attempt: Attempt,
    policy: RetryPolicy,
    next_slot: Option<SimTime>,
}

/// Plans delivering `outgoing` to `subscription` of `topic` as delivery `id` at `now`.
fn plan(
    urls: &Urls,
    topic: &Topic,
    subscription: &Subscription,
    outgoing: &Outgoing<'_>,
    id: DeliveryId,
    now: SimTime,
) -> Planned {
    let protocol = subscription.protocol;
    let envelope = Envelope {
        kind: outgoing.kind,
        message_id: outgoing.message_id,
        topic_arn: &topic.arn,
        subscription_arn: &subscription.arn,
        subject: outgoing.subject,
        message: outgoing.content.for_protocol(protocol),
        timestamp: now.to_iso_millis(),
        token: outgoing.token,
        sequence_number: outgoing.sequence_number,
        signature_version: topic.signature_version(),
        attributes: outgoing.attributes,
    };
    let notification = outgoing.kind == MessageKind::Notification;
    let raw = subscription.raw && notification;
    let body = envelope.body(protocol, raw, urls);
    let (headers, policy, throttle) = if protocol.is_http() {
        let http = effective(&topic.policy, subscription.policy.as_ref());
        let headers = envelope.http_headers(raw, http.content_type());
        (headers, http.retry, http.throttle)
    } else {
        (Vec::new(), protocol.fixed_retry_policy(), None)
    };
    let subject = match protocol {
        Protocol::Email | Protocol::EmailJson => Some(envelope.email_subject()),
        _ => outgoing.subject.map(str::to_owned),
    };
    let (due, next_slot) = match throttle {
        Some(rate) if notification => {
            let due = now.max(subscription.next_slot);
            let gap = SimDuration::from_millis(1000_u64.div_ceil(u64::from(rate.max(1))));
            (due, Some(due + gap))
        }
        _ => (now, None),
    };
    Planned {
        attempt: Attempt {
            delivery: id,
            attempt: 0,
            kind: outgoing.kind,
            message_id: outgoing.message_id.to_owned(),
            topic_arn: topic.arn.clone(),
            subscription_arn: subscription.arn.clone(),
            protocol,
            endpoint: subscription.endpoint.clone(),
            headers,
            subject,
            body,
            message_attributes: if notification {
                outgoing.attributes.clone()
            } else {
                BTreeMap::new()
            },
            raw,
            due,
        },
        policy,
        next_slot,
    }
}

/// A topic as `spotlab topics` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopicView {
    /// The topic's ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// `DisplayName`, empty if unset.
    pub display_name: String,
    /// Messages published to it.
    pub published: u64,
    /// Its subscriptions, in creation order.
    pub subscriptions: Vec<SubscriptionView>,
}

/// A subscription as `spotlab topics` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubscriptionView {
    /// The subscription's ARN (also while pending).
    pub arn: String,
    /// How it receives messages.
    pub protocol: Protocol,
    /// Where.
    pub endpoint: String,
    /// Whether it is confirmed (pending subscriptions receive nothing but confirmation
    /// requests).
    pub confirmed: bool,
    /// Whether it has raw message delivery.
    pub raw: bool,
    /// Its notification counts.
    pub counters: DeliveryCounters,
}

impl Sns {
    /// Queues `outgoing` for subscription `number` at `now` (nothing if it is gone).
    pub(super) fn enqueue(&mut self, number: u64, outgoing: &Outgoing<'_>, now: SimTime) {
        let Some(subscription) = self.subscriptions.get(&number) else {
            return;
        };
        let Some(topic) = self.topics.get(&subscription.topic_arn) else {
            return;
        };
        let id = self.outbox.allocate();
        let planned = plan(&self.urls, topic, subscription, outgoing, id, now);
        if let Some(subscription) = self.subscriptions.get_mut(&number) {
            if outgoing.kind == MessageKind::Notification {
                subscription.counters.pending += 1;
            }
            if let Some(next_slot) = planned.next_slot {
                subscription.next_slot = next_slot;
            }
        }
        self.outbox.insert(planned.attempt, planned.policy);
    }

    /// Queues `outgoing` for a subscription that is no longer stored (an unsubscribe
    /// confirmation).
    pub(super) fn enqueue_to(
        &mut self,
        subscription: &Subscription,
        outgoing: &Outgoing<'_>,
        now: SimTime,
    ) {
        let Some(topic) = self.topics.get(&subscription.topic_arn) else {
            return;
        };
        let id = self.outbox.allocate();
        let planned = plan(&self.urls, topic, subscription, outgoing, id, now);
        self.outbox.insert(planned.attempt, planned.policy);
    }

    /// The attempts due at `now`, earliest first, each handed out once: they are in
    /// flight until reported (or until a restart, after which they are due again).
    /// Not journaled: it changes nothing a replay must rebuild.
    pub fn take_due(&mut self, now: SimTime) -> Vec<Attempt> {
        self.outbox.take_due(now)
    }

    /// When the next attempt not in flight is due, if any: sleep until then.
    pub fn next_due(&self) -> Option<SimTime> {
        self.outbox.next_due()
    }

    /// Reports how attempt `attempt` of `delivery` went, at `now`: a retryable failure
    /// is retried when the delivery policy says (the same message id and body), until
    /// the policy is exhausted; a permanent failure or an exhausted policy gives up and
    /// counts the notification as failed. A report for an attempt that is not the
    /// delivery's current one, or for a finished delivery, changes nothing. Journal
    /// reports: replaying them rebuilds the outbox.
    pub fn report(
        &mut self,
        delivery: DeliveryId,
        attempt: u32,
        outcome: Outcome,
        now: SimTime,
    ) -> Reported {
        let Some(settled) = self.outbox.report(delivery, attempt, outcome, now) else {
            return Reported::Stale;
        };
        if settled.kind == MessageKind::Notification {
            let subscription = self
                .by_arn
                .get(&settled.subscription_arn)
                .and_then(|number| self.subscriptions.get_mut(number));
            if let Some(subscription) = subscription {
                let counters = &mut subscription.counters;
                match settled.reported {
                    Reported::Delivered => {
                        counters.delivered += 1;
                        counters.pending = counters.pending.saturating_sub(1);
                    }
                    Reported::GaveUp => {
                        counters.failed += 1;
                        counters.pending = counters.pending.saturating_sub(1);
                    }
                    Reported::Retry { .. } => counters.retries += 1,
                    Reported::Stale => {}
                }
            }
        }
        settled.reported
    }

    /// Every delivery owed, with its current attempt, by delivery id.
    pub fn outbox(&self) -> Vec<Attempt> {
        self.outbox.attempts().cloned().collect()
    }

    /// How many deliveries are owed.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// A subscription's notification counters.
    pub fn counters(&self, subscription_arn: &str) -> Option<DeliveryCounters> {
        let number = self.by_arn.get(subscription_arn)?;
        self.subscriptions.get(number).map(|s| s.counters)
    }

    /// Every topic with its subscriptions and counters, by ARN.
    pub fn topics_view(&self) -> Vec<TopicView> {
        self.topics
            .values()
            .map(|topic| TopicView {
                arn: topic.arn.clone(),
                name: topic.name.clone(),
                display_name: topic
                    .attributes
                    .get("DisplayName")
                    .cloned()
                    .unwrap_or_default(),
                published: topic.published,
                subscriptions: topic
                    .subscriptions
                    .iter()
                    .filter_map(|number| self.subscriptions.get(number))
                    .map(|s| SubscriptionView {
                        arn: s.arn.clone(),
                        protocol: s.protocol,
                        endpoint: s.endpoint.clone(),
                        confirmed: s.is_confirmed(),
                        raw: s.raw,
                        counters: s.counters,
                    })
                    .collect(),
            })
            .collect()
    }

    /// Fans a notification out to every confirmed subscription of `topic_arn` whose
    /// filter policy accepts it: exactly one delivery each.
    pub(super) fn fan_out(&mut self, topic_arn: &str, outgoing: &Outgoing<'_>, now: SimTime) {
        let numbers: Vec<u64> = match self.topics.get(topic_arn) {
            Some(topic) => topic.subscriptions.iter().copied().collect(),
            None => return,
        };
        for number in numbers {
            let accepts = self.subscriptions.get(&number).is_some_and(|s| {
                s.is_confirmed()
                    && s.filter.as_ref().is_none_or(|filter| {
                        filter.matches(
                            s.scope,
                            outgoing.attributes,
                            outgoing.content.for_protocol(s.protocol),
                        )
                    })
            });
            if accepts {
                self.enqueue(number, outgoing, now);
            }
        }
    }
}
