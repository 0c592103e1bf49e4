//! SNS, pure: topics, subscriptions, publishing, and the outbox of deliveries the
//! control plane performs.
//!
//! [`Sns::call`] answers the served calls (`CreateTopic`, `DeleteTopic`, `ListTopics`,
//! `GetTopicAttributes`, `SetTopicAttributes`, `Subscribe`, `ConfirmSubscription`,
//! `Unsubscribe`, `ListSubscriptions`, `ListSubscriptionsByTopic`,
//! `GetSubscriptionAttributes`, `SetSubscriptionAttributes`, `Publish`, `TagResource`,
//! `UntagResource`, `ListTagsForResource`) on JSON named by
//! botocore's members, with AWS's rules and messages. [`Sns::publish_internal`] is the
//! same Publish for CloudWatch alarm actions and EventBridge targets.
//!
//! Deliveries are data: Publish, Subscribe (confirmations) and Unsubscribe (http/s
//! unsubscribe confirmations) queue [`Attempt`]s; the control plane takes the due ones
//! ([`Sns::take_due`], [`Sns::next_due`]), performs them (POST, append a line, enqueue,
//! run a command, log) and reports each outcome ([`Sns::report`]), which schedules
//! retries by the delivery policy or settles the delivery. See [`Protocol`] for the
//! protocols, spotlab's local ones included.
//!
//! Performing an [`Attempt`], by protocol (the core has already built every byte):
//! - `http`/`https`: POST `body` to `endpoint` with `headers`, 15 s timeout; 2xx is
//!   [`Outcome::Delivered`], 4xx `Failed { retryable: false }`, anything else (5xx, 1xx,
//!   3xx, a connection or TLS error, a timeout) `Failed { retryable: true }`.
//! - `sqs`: push `body` (and with `raw`, `message_attributes`) onto the local queue
//!   named by the `endpoint` ARN, readable back.
//! - `file`: append `body` and a newline to the file at `endpoint`.
//! - `command`: run `endpoint` with `body` on its standard input.
//! - `log`, `lambda`, `email`, `email-json`: log or keep the message (`subject`, `body`)
//!   for inspection; spotlab sends no mail and runs no functions.
//!
//! Rebuilding: everything here is a function of the seed and the sequence of calls and
//! reports with their times (ids come from one seeded ChaCha stream, drawn only by calls
//! that succeed). Journal every successful call of an action for which
//! [`Sns::changes_state`] is true, and every report; replaying them at the same times
//! rebuilds the same topics, ids, bodies and outbox. What is in flight is not state:
//! after a restart every unreported attempt is due again (at-least-once).
//!
//! Not modelled: SMS, mobile push and Firehose subscriptions, topic policies as access
//! control, KMS, delivery status logging, dead-letter queues (RedrivePolicy is stored
//! only), data protection, and the deletion of unconfirmed subscriptions after 3 days.

mod arn;
mod deliver;
mod envelope;
mod filter;
mod input;
mod outbox;
mod policy;
mod protocol;
mod publish;
mod subscriptions;
mod tagging;
mod topics;

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use simtime::SimTime;

use crate::ApiError;

pub use deliver::{SubscriptionView, TopicView};
pub use envelope::{MessageAttribute, MessageKind};
pub use outbox::{Attempt, DeliveryCounters, DeliveryId, Outcome, Reported};
pub use policy::{Backoff, RetryPolicy};
pub use protocol::Protocol;

use envelope::Urls;
use outbox::Outbox;
use subscriptions::{Grant, Subscription};
use topics::Topic;

/// The local cloud's SNS in one region and account.
#[derive(Clone, Debug)]
pub struct Sns {
    /// The region topics live in; ARNs naming another region are refused.
    region: String,
    /// The account that owns every topic (`Owner`).
    account: String,
    /// The URLs messages carry, under the local endpoint.
    urls: Urls,
    /// Message ids, subscription ids and tokens, in call order.
    ids: ChaCha8Rng,
    /// Topics by ARN.
    topics: BTreeMap<String, Topic>,
    /// Subscriptions by creation number, the order list calls show them in.
    subscriptions: BTreeMap<u64, Subscription>,
    /// Subscription ARN to creation number.
    by_arn: BTreeMap<String, u64>,
    /// The next subscription's creation number.
    next_subscription: u64,
    /// Confirmation tokens handed out, by token.
    tokens: BTreeMap<String, Grant>,
    /// Deliveries owed.
    outbox: Outbox,
}

type Handler = fn(&mut Sns, &Value, SimTime) -> Result<Value, ApiError>;

/// `(action, changes state, handler)`, sorted by action.
const ACTIONS: &[(&str, bool, Handler)] = &[
    ("ConfirmSubscription", true, Sns::confirm_subscription),
    ("CreateTopic", true, Sns::create_topic),
    ("DeleteTopic", true, Sns::delete_topic),
    (
        "GetSubscriptionAttributes",
        false,
        Sns::get_subscription_attributes,
    ),
    ("GetTopicAttributes", false, Sns::get_topic_attributes),
    ("ListSubscriptions", false, Sns::list_subscriptions),
    (
        "ListSubscriptionsByTopic",
        false,
        Sns::list_subscriptions_by_topic,
    ),
    ("ListTagsForResource", false, Sns::list_tags_for_resource),
    ("ListTopics", false, Sns::list_topics),
    ("Publish", true, Sns::publish),
    (
        "SetSubscriptionAttributes",
        true,
        Sns::set_subscription_attributes,
    ),
    ("SetTopicAttributes", true, Sns::set_topic_attributes),
    ("Subscribe", true, Sns::subscribe),
    ("TagResource", true, Sns::tag_resource),
    ("Unsubscribe", true, Sns::unsubscribe),
    ("UntagResource", true, Sns::untag_resource),
];

impl Sns {
    /// An empty SNS for `region` and `account`; `seed` seeds every id; `base_url` is
    /// where the local endpoint is reachable (`http://127.0.0.1:4747/`), for the
    /// SubscribeURL, UnsubscribeURL and SigningCertURL messages carry.
    pub fn new(region: &str, account: &str, seed: u64, base_url: &str) -> Sns {
        Sns {
            region: region.to_owned(),
            account: account.to_owned(),
            urls: Urls::new(base_url),
            ids: ChaCha8Rng::seed_from_u64(seed ^ 0x5e57_0000_0000_5e57),
            topics: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            by_arn: BTreeMap::new(),
            next_subscription: 0,
            tokens: BTreeMap::new(),
            outbox: Outbox::default(),
        }
    }

    /// Answers `action` with `input` (botocore's member names) at `now`. An action this
    /// SNS does not serve is `InvalidAction`.
    pub fn call(&mut self, action: &str, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        let (_, _, handler) = ACTIONS
            .iter()
            .find(|(name, _, _)| *name == action)
            .ok_or_else(|| {
                ApiError::new(
                    "InvalidAction",
                    format!("The action {action} is not valid for this web service."),
                )
            })?;
        handler(self, input, now)
    }

    /// Whether a successful `action` may change state, so must be journaled. A refused
    /// call never changes anything.
    pub fn changes_state(action: &str) -> bool {
        ACTIONS
            .iter()
            .any(|(name, changes, _)| *name == action && *changes)
    }

    /// The actions [`Sns::call`] serves.
    pub fn actions() -> impl Iterator<Item = &'static str> {
        ACTIONS.iter().map(|(name, _, _)| *name)
    }

    /// Publishes `message` (with `subject`) to `topic_arn` exactly as a Publish call
    /// would, for alarm actions and EventBridge targets; returns the message id. The
    /// caller journals it like a Publish call.
    pub fn publish_internal(
        &mut self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
        now: SimTime,
    ) -> Result<String, ApiError> {
        let mut input = serde_json::Map::new();
        input.insert("TopicArn".to_owned(), Value::String(topic_arn.to_owned()));
        input.insert("Message".to_owned(), Value::String(message.to_owned()));
        if let Some(subject) = subject {
            input.insert("Subject".to_owned(), Value::String(subject.to_owned()));
        }
        let output = self.publish(&Value::Object(input), now)?;
        Ok(output
            .get("MessageId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// A topic's ARN from its name, in this region and account.
    pub fn topic_arn(&self, name: &str) -> String {
        format!("arn:aws:sns:{}:{}:{name}", self.region, self.account)
    }

    /// A fresh lower-case version-4 UUID from the id stream.
    fn new_uuid(&mut self) -> String {
        use rand::Rng;
        let mut bytes = [0u8; 16];
        self.ids.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string()
    }

    /// A fresh confirmation token: 256 lower-case hex digits from the id stream.
    fn new_token(&mut self) -> String {
        use rand::Rng;
        use std::fmt::Write as _;
        let mut bytes = [0u8; 128];
        self.ids.fill_bytes(&mut bytes);
        let mut token = String::with_capacity(256);
        for byte in bytes {
            let _ = write!(token, "{byte:02x}");
        }
        token
    }
}
