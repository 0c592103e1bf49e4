//! The outbox: every delivery SNS owes an endpoint, with the attempt the control plane
//! should make next and when. The core decides (what to send, when to retry, when to
//! give up); the control plane acts (POSTs, appends, enqueues, runs) and reports each
//! attempt's outcome back.
//!
//! Which deliveries are in flight is the only state here that is not rebuilt by
//! replaying calls and reports: after a restart every unreported attempt is simply due
//! again, which is SNS's at-least-once delivery.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use simtime::SimTime;

use super::envelope::{MessageAttribute, MessageKind};
use super::policy::RetryPolicy;
use super::protocol::Protocol;

/// A delivery's id: stable across its retries, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DeliveryId(pub u64);

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "delivery-{}", self.0)
    }
}

/// One attempt to deliver, for the control plane to make: everything it needs to send,
/// and nothing it must compute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// The delivery this attempt belongs to; report with it.
    pub delivery: DeliveryId,
    /// 0 for the first attempt, then the retry number; report with it.
    pub attempt: u32,
    /// What the message is.
    pub kind: MessageKind,
    /// The message id: the published message's (the same on every retry and for every
    /// subscription), or the confirmation's own.
    pub message_id: String,
    /// The topic.
    pub topic_arn: String,
    /// The subscription.
    pub subscription_arn: String,
    /// How to deliver.
    pub protocol: Protocol,
    /// Where: a URL, an address, a queue or function ARN, a path, a command line.
    pub endpoint: String,
    /// The request headers for http/s (in order); empty for other protocols.
    pub headers: Vec<(String, String)>,
    /// The mail subject for email protocols; otherwise the message's `Subject`, if any.
    pub subject: Option<String>,
    /// What to send: the POST body, the queue message, the file line (without its
    /// newline), the command's standard input, the mail body.
    pub body: String,
    /// With raw delivery to a queue, the message attributes become the queue message's
    /// attributes; always the published attributes of a notification.
    pub message_attributes: BTreeMap<String, MessageAttribute>,
    /// Whether the subscription has raw message delivery.
    pub raw: bool,
    /// When the attempt is due.
    pub due: SimTime,
}

/// How an attempt went, as the control plane saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Delivered (http/s: a 2xx answer).
    Delivered,
    /// Not delivered. `retryable`: a connection or TLS error, a timeout, a 5xx (or 1xx)
    /// answer, a local write that may succeed later; not retryable: a 4xx answer, which
    /// SNS treats as a permanent failure.
    Failed {
        /// Whether the delivery policy should retry it.
        retryable: bool,
    },
}

/// What a report did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Reported {
    /// The delivery is done.
    Delivered,
    /// The delivery will be retried at `due`.
    Retry {
        /// When the retry is due.
        due: SimTime,
    },
    /// The delivery failed for good: permanently, or its retries are exhausted.
    GaveUp,
    /// Nothing: the delivery is finished or gone (its subscription was deleted), or the
    /// report is for an older attempt.
    Stale,
}

/// Per-subscription delivery counts of notifications (confirmations are not counted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounters {
    /// Notifications delivered.
    pub delivered: u64,
    /// Notifications that failed for good.
    pub failed: u64,
    /// Notifications still in the outbox (due, in flight or waiting to be retried).
    pub pending: u64,
    /// Retries scheduled so far.
    pub retries: u64,
}

/// One delivery: its current attempt and the policy that schedules retries.
#[derive(Clone, Debug)]
struct Entry {
    attempt: Attempt,
    policy: RetryPolicy,
}

/// What became of a delivery a report settled or moved on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Settled {
    pub reported: Reported,
    pub subscription_arn: String,
    pub kind: MessageKind,
}

/// The deliveries owed, by id, with an index of the waiting ones by due time.
#[derive(Clone, Debug, Default)]
pub(super) struct Outbox {
    next_id: u64,
    entries: BTreeMap<DeliveryId, Entry>,
    waiting: BTreeSet<(SimTime, DeliveryId)>,
    in_flight: BTreeSet<DeliveryId>,
}

impl Outbox {
    /// A fresh delivery id.
    pub fn allocate(&mut self) -> DeliveryId {
        self.next_id += 1;
        DeliveryId(self.next_id)
    }

    /// Adds a delivery whose first attempt is `attempt` (its id from [`Outbox::allocate`]).
    pub fn insert(&mut self, attempt: Attempt, policy: RetryPolicy) {
        self.waiting.insert((attempt.due, attempt.delivery));
        self.entries
            .insert(attempt.delivery, Entry { attempt, policy });
    }

    /// The attempts due at `now` that are not in flight, earliest first; they are in
    /// flight until reported.
    pub fn take_due(&mut self, now: SimTime) -> Vec<Attempt> {
        let due: Vec<(SimTime, DeliveryId)> = self
            .waiting
            .iter()
            .take_while(|(at, _)| *at <= now)
            .copied()
            .collect();
        let mut attempts = Vec::with_capacity(due.len());
        for key in due {
            self.waiting.remove(&key);
            self.in_flight.insert(key.1);
            if let Some(entry) = self.entries.get(&key.1) {
                attempts.push(entry.attempt.clone());
            }
        }
        attempts
    }

    /// When the earliest waiting attempt is due.
    pub fn next_due(&self) -> Option<SimTime> {
        self.waiting.first().map(|(at, _)| *at)
    }

    /// Applies a report on attempt `attempt` of `delivery`.
    pub fn report(
        &mut self,
        delivery: DeliveryId,
        attempt: u32,
        outcome: Outcome,
        now: SimTime,
    ) -> Option<Settled> {
        let entry = self.entries.get_mut(&delivery)?;
        if entry.attempt.attempt != attempt {
            return None;
        }
        self.waiting.remove(&(entry.attempt.due, delivery));
        self.in_flight.remove(&delivery);
        let subscription_arn = entry.attempt.subscription_arn.clone();
        let kind = entry.attempt.kind;
        let retry = match outcome {
            Outcome::Delivered | Outcome::Failed { retryable: false } => None,
            Outcome::Failed { retryable: true } => {
                let next = attempt.saturating_add(1);
                entry
                    .policy
                    .delay_before_retry(next)
                    .map(|delay| (next, now + delay))
            }
        };
        let reported = match (outcome, retry) {
            (_, Some((next, due))) => {
                entry.attempt.attempt = next;
                entry.attempt.due = due;
                self.waiting.insert((due, delivery));
                Reported::Retry { due }
            }
            (Outcome::Delivered, None) => {
                self.entries.remove(&delivery);
                Reported::Delivered
            }
            (Outcome::Failed { .. }, None) => {
                self.entries.remove(&delivery);
                Reported::GaveUp
            }
        };
        Some(Settled {
            reported,
            subscription_arn,
            kind,
        })
    }

    /// Drops every delivery to `subscription_arn` (it was deleted), returning how many
    /// of them were notifications.
    pub fn drop_subscription(&mut self, subscription_arn: &str) -> u64 {
        let gone: Vec<DeliveryId> = self
            .entries
            .iter()
            .filter(|(_, entry)| entry.attempt.subscription_arn == subscription_arn)
            .map(|(id, _)| *id)
            .collect();
        let mut notifications = 0;
        for id in gone {
            if let Some(entry) = self.entries.remove(&id) {
                self.waiting.remove(&(entry.attempt.due, id));
                self.in_flight.remove(&id);
                if entry.attempt.kind == MessageKind::Notification {
                    notifications += 1;
                }
            }
        }
        notifications
    }

    /// Every delivery's current attempt, by id.
    pub fn attempts(&self) -> impl Iterator<Item = &Attempt> {
        self.entries.values().map(|entry| &entry.attempt)
    }

    /// How many deliveries are owed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}
