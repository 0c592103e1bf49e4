//! Subscriptions: Subscribe (with the confirmation handshake for http/s and email),
//! ConfirmSubscription (tokens valid 2 days), Unsubscribe (idempotent; http/s endpoints
//! get an UnsubscribeConfirmation whose token restores the subscription), the list
//! calls, and subscription attributes.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use simtime::{SimDuration, SimTime};

use crate::ApiError;

use super::Sns;
use super::arn::{check_subscription_arn, check_topic_arn};
use super::deliver::{Content, Outgoing};
use super::envelope::MessageKind;
use super::filter::{FilterPolicy, Scope};
use super::input::{
    PAGE_SIZE, boolean, invalid, next_token, next_token_start, parse_bool, required, string,
    string_map, subscription_not_found, topic_not_found,
};
use super::outbox::DeliveryCounters;
use super::policy::{SubscriptionPolicy, effective, subscription_effective_json};
use super::protocol::Protocol;

/// How long a confirmation token stays valid.
const TOKEN_LIFETIME: SimDuration = SimDuration::from_days(2);

/// What Subscribe answers for a subscription awaiting confirmation.
const PENDING_ANSWER: &str = "pending confirmation";

/// What the list calls show as the ARN of a subscription awaiting confirmation.
const PENDING_ARN: &str = "PendingConfirmation";

/// A subscription's confirmation state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    /// Awaiting ConfirmSubscription: receives nothing but confirmation requests.
    Pending,
    /// Confirmed (or needing no confirmation); `authenticated` is
    /// `ConfirmationWasAuthenticated`.
    Confirmed { authenticated: bool },
}

/// A subscription.
#[derive(Clone, Debug)]
pub(super) struct Subscription {
    /// Creation number: the list calls' order.
    pub number: u64,
    pub arn: String,
    pub topic_arn: String,
    pub protocol: Protocol,
    pub endpoint: String,
    pub status: Status,
    /// The attributes set, as given (`RawMessageDelivery` lower-cased).
    pub attributes: BTreeMap<String, String>,
    /// `DeliveryPolicy`, parsed.
    pub policy: Option<SubscriptionPolicy>,
    /// `FilterPolicy`, parsed for `scope`.
    pub filter: Option<FilterPolicy>,
    /// `FilterPolicyScope`.
    pub scope: Scope,
    /// `RawMessageDelivery`.
    pub raw: bool,
    pub counters: DeliveryCounters,
    /// With a throttle policy, the earliest time the next notification may go.
    pub next_slot: SimTime,
}

/// A confirmation token handed out, and what confirming it does.
#[derive(Clone, Debug)]
pub(super) struct Grant {
    /// When it was issued; it expires 2 days later.
    pub issued: SimTime,
    pub topic_arn: String,
    pub subscription_arn: String,
    /// For an UnsubscribeConfirmation's token: the subscription as it was, to restore.
    pub restore: Option<Box<Subscription>>,
}

impl Subscription {
    /// Whether notifications flow to it.
    pub fn is_confirmed(&self) -> bool {
        matches!(self.status, Status::Confirmed { .. })
    }

    /// An attribute's value as GetSubscriptionAttributes shows it, defaults included.
    fn attribute_value(&self, name: &str) -> Option<String> {
        match name {
            "RawMessageDelivery" => Some(self.raw.to_string()),
            "FilterPolicyScope" => Some(
                match self.scope {
                    Scope::MessageAttributes => "MessageAttributes",
                    Scope::MessageBody => "MessageBody",
                }
                .to_owned(),
            ),
            _ => self.attributes.get(name).cloned(),
        }
    }

    /// Checks and sets one attribute; a refused value changes nothing. `reason` wraps a
    /// failure's reason in the calling operation's words.
    fn set_attribute(
        &mut self,
        name: &str,
        value: &str,
        reason: &dyn Fn(&str) -> ApiError,
    ) -> Result<(), ApiError> {
        let mut stored = value.to_owned();
        match name {
            "DeliveryPolicy" => {
                if !self.protocol.is_http() && !value.is_empty() {
                    return Err(reason(&format!(
                        "DeliveryPolicy: Delivery protocol [{}] does not support delivery policy",
                        self.protocol
                    )));
                }
                self.policy = if value.is_empty() {
                    None
                } else {
                    Some(
                        SubscriptionPolicy::parse(value)
                            .map_err(|why| reason(&format!("DeliveryPolicy: {why}")))?,
                    )
                };
            }
            "FilterPolicy" => {
                self.filter = if value.is_empty() {
                    None
                } else {
                    Some(FilterPolicy::parse(value, self.scope).map_err(|why| reason(&why))?)
                };
            }
            "FilterPolicyScope" => {
                let scope = Scope::parse(value).ok_or_else(|| {
                    reason(&format!(
                        "FilterPolicyScope: Invalid value [{value}]. Please use either \
                         MessageBody or MessageAttributes"
                    ))
                })?;
                if let Some(text) = self.attributes.get("FilterPolicy") {
                    self.filter =
                        Some(FilterPolicy::parse(text, scope).map_err(|why| reason(&why))?);
                }
                self.scope = scope;
            }
            "RawMessageDelivery" => {
                let raw = parse_bool(value).ok_or_else(|| {
                    reason(&format!(
                        "RawMessageDelivery: Invalid value [{value}]. Must be true or false."
                    ))
                })?;
                if raw && !self.protocol.supports_raw() {
                    return Err(reason(&format!(
                        "Delivery protocol [{}] does not support raw message delivery.",
                        self.protocol
                    )));
                }
                self.raw = raw;
                stored = raw.to_string();
            }
            "RedrivePolicy" => {
                let target = serde_json::from_str::<Value>(value)
                    .map_err(|_| reason("RedrivePolicy: failed to parse JSON."))?;
                let arn = target
                    .get("deadLetterTargetArn")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !super::arn::is_service_arn(arn, "sqs") {
                    return Err(reason(
                        "RedrivePolicy: deadLetterTargetArn is an invalid arn",
                    ));
                }
            }
            "SubscriptionRoleArn" | "ReplayPolicy" => {}
            _ => return Err(reason("AttributeName")),
        }
        if value.is_empty() {
            self.attributes.remove(name);
        } else {
            self.attributes.insert(name.to_owned(), stored);
        }
        Ok(())
    }
}

impl Sns {
    /// Removes subscription `number` and what it owes: its deliveries are dropped and
    /// its topic counts it as deleted. Returns it.
    pub(super) fn forget_subscription(&mut self, number: u64) -> Option<Subscription> {
        let subscription = self.subscriptions.remove(&number)?;
        self.by_arn.remove(&subscription.arn);
        if let Some(topic) = self.topics.get_mut(&subscription.topic_arn) {
            topic.subscriptions.remove(&number);
            topic.subscriptions_deleted += 1;
        }
        self.outbox.drop_subscription(&subscription.arn);
        Some(subscription)
    }

    /// Issues a token for subscription `number` and queues its SubscriptionConfirmation.
    fn request_confirmation(&mut self, number: u64, now: SimTime) {
        let Some(subscription) = self.subscriptions.get(&number) else {
            return;
        };
        let (topic_arn, subscription_arn) =
            (subscription.topic_arn.clone(), subscription.arn.clone());
        let token = self.new_token();
        let message_id = self.new_uuid();
        self.tokens.insert(
            token.clone(),
            Grant {
                issued: now,
                topic_arn: topic_arn.clone(),
                subscription_arn,
                restore: None,
            },
        );
        let content = Content::Plain(format!(
            "You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, \
             visit the SubscribeURL included in this message."
        ));
        let outgoing = Outgoing {
            kind: MessageKind::SubscriptionConfirmation,
            message_id: &message_id,
            subject: None,
            content: &content,
            token: Some(&token),
            sequence_number: None,
            attributes: &BTreeMap::new(),
        };
        self.enqueue(number, &outgoing, now);
    }

    /// `Subscribe`: http/s and email subscriptions stay pending until confirmed (the
    /// answer is `pending confirmation` unless `ReturnSubscriptionArn`); subscribing an
    /// endpoint again returns the existing subscription (a pending one gets a fresh
    /// confirmation request).
    pub(super) fn subscribe(&mut self, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        let topic_arn = required(input, "TopicArn")?;
        let protocol_text = required(input, "Protocol")?;
        let endpoint = string(input, "Endpoint")?;
        let attributes = string_map(input, "Attributes")?;
        let return_arn = boolean(input, "ReturnSubscriptionArn")?.unwrap_or(false);
        let topic = self.topic(topic_arn, "TopicArn")?;
        let topic_arn = topic.arn.clone();
        let protocol = Protocol::parse(protocol_text).ok_or_else(|| {
            invalid(format_args!(
                "Amazon SNS does not support this protocol string: {protocol_text}"
            ))
        })?;
        let endpoint = protocol.check_endpoint(endpoint, topic.fifo)?;
        let mut subscription = Subscription {
            number: self.next_subscription,
            arn: String::new(),
            topic_arn: topic_arn.clone(),
            protocol,
            endpoint,
            status: if protocol.needs_confirmation() {
                Status::Pending
            } else {
                Status::Confirmed {
                    authenticated: true,
                }
            },
            attributes: BTreeMap::new(),
            policy: None,
            filter: None,
            scope: Scope::default(),
            raw: false,
            counters: DeliveryCounters::default(),
            next_slot: SimTime::EPOCH,
        };
        let reason = |why: &str| invalid(format_args!("Attributes Reason: {why}"));
        // The scope first, so that the filter policy is checked against it.
        if let Some(scope) = attributes.get("FilterPolicyScope") {
            subscription.set_attribute("FilterPolicyScope", scope, &reason)?;
        }
        for (name, value) in attributes
            .iter()
            .filter(|(name, _)| *name != "FilterPolicyScope")
        {
            subscription.set_attribute(name, value, &reason)?;
        }
        let existing = topic
            .subscriptions
            .iter()
            .filter_map(|number| self.subscriptions.get(number))
            .find(|s| s.protocol == protocol && s.endpoint == subscription.endpoint);
        if let Some(existing) = existing {
            let same = subscription
                .attributes
                .keys()
                .all(|name| existing.attribute_value(name) == subscription.attribute_value(name));
            if !same {
                return Err(invalid(
                    "Attributes Reason: Subscription already exists with different attributes",
                ));
            }
            let (number, arn, confirmed) = (
                existing.number,
                existing.arn.clone(),
                existing.is_confirmed(),
            );
            if confirmed {
                return Ok(json!({ "SubscriptionArn": arn }));
            }
            self.request_confirmation(number, now);
            let answer = if return_arn {
                arn
            } else {
                PENDING_ANSWER.to_owned()
            };
            return Ok(json!({ "SubscriptionArn": answer }));
        }
        let number = self.next_subscription;
        self.next_subscription += 1;
        subscription.arn = format!("{topic_arn}:{}", self.new_uuid());
        let arn = subscription.arn.clone();
        let pending = subscription.status == Status::Pending;
        self.by_arn.insert(arn.clone(), number);
        self.subscriptions.insert(number, subscription);
        if let Some(topic) = self.topics.get_mut(&topic_arn) {
            topic.subscriptions.insert(number);
        }
        if pending {
            self.request_confirmation(number, now);
        }
        let answer = if pending && !return_arn {
            PENDING_ANSWER.to_owned()
        } else {
            arn
        };
        Ok(json!({ "SubscriptionArn": answer }))
    }

    /// `ConfirmSubscription`: confirms the subscription a token was issued for
    /// (idempotent), or restores the one an UnsubscribeConfirmation's token names.
    pub(super) fn confirm_subscription(
        &mut self,
        input: &Value,
        now: SimTime,
    ) -> Result<Value, ApiError> {
        let topic_arn = required(input, "TopicArn")?;
        let token = required(input, "Token")?;
        let authenticate = match string(input, "AuthenticateOnUnsubscribe")? {
            None => false,
            Some(text) => parse_bool(text).ok_or_else(|| invalid("AuthenticateOnUnsubscribe"))?,
        };
        let topic_arn = check_topic_arn(topic_arn, "TopicArn", &self.region)?;
        let grant = self
            .tokens
            .get(token)
            .filter(|grant| grant.topic_arn == topic_arn)
            .ok_or_else(|| invalid("Token"))?;
        if !self.topics.contains_key(topic_arn) {
            return Err(topic_not_found());
        }
        if now > grant.issued + TOKEN_LIFETIME {
            return Err(invalid("Token"));
        }
        let arn = grant.subscription_arn.clone();
        if let Some(number) = self.by_arn.get(&arn).copied() {
            if let Some(subscription) = self.subscriptions.get_mut(&number)
                && subscription.status == Status::Pending
            {
                subscription.status = Status::Confirmed {
                    authenticated: authenticate,
                };
            }
            return Ok(json!({ "SubscriptionArn": arn }));
        }
        let Some(snapshot) = grant.restore.clone() else {
            // The subscription was deleted since the token was issued.
            return Err(invalid("Token"));
        };
        let mut restored = *snapshot;
        let number = self.next_subscription;
        self.next_subscription += 1;
        restored.number = number;
        restored.status = Status::Confirmed {
            authenticated: authenticate,
        };
        restored.counters = DeliveryCounters::default();
        restored.next_slot = SimTime::EPOCH;
        self.by_arn.insert(arn.clone(), number);
        self.subscriptions.insert(number, restored);
        if let Some(topic) = self.topics.get_mut(topic_arn) {
            topic.subscriptions.insert(number);
        }
        Ok(json!({ "SubscriptionArn": arn }))
    }

    /// `Unsubscribe`: idempotent. A confirmed http/s subscription is sent an
    /// UnsubscribeConfirmation.
    pub(super) fn unsubscribe(&mut self, input: &Value, now: SimTime) -> Result<Value, ApiError> {
        let arn = check_subscription_arn(required(input, "SubscriptionArn")?)?;
        let Some(number) = self.by_arn.get(arn).copied() else {
            return Ok(json!({}));
        };
        let Some(removed) = self.forget_subscription(number) else {
            return Ok(json!({}));
        };
        if removed.protocol.is_http() && removed.is_confirmed() {
            let token = self.new_token();
            let message_id = self.new_uuid();
            let content = Content::Plain(format!(
                "You have chosen to deactivate subscription {}.\nTo cancel this operation and \
                 restore the subscription, visit the SubscribeURL included in this message.",
                removed.arn
            ));
            let outgoing = Outgoing {
                kind: MessageKind::UnsubscribeConfirmation,
                message_id: &message_id,
                subject: None,
                content: &content,
                token: Some(&token),
                sequence_number: None,
                attributes: &BTreeMap::new(),
            };
            self.enqueue_to(&removed, &outgoing, now);
            self.tokens.insert(
                token,
                Grant {
                    issued: now,
                    topic_arn: removed.topic_arn.clone(),
                    subscription_arn: removed.arn.clone(),
                    restore: Some(Box::new(removed)),
                },
            );
        }
        Ok(json!({}))
    }

    fn subscription_entry(&self, subscription: &Subscription) -> Value {
        let arn = if subscription.is_confirmed() {
            subscription.arn.as_str()
        } else {
            PENDING_ARN
        };
        json!({
            "SubscriptionArn": arn,
            "Owner": self.account,
            "Protocol": subscription.protocol.as_str(),
            "Endpoint": subscription.endpoint,
            "TopicArn": subscription.topic_arn,
        })
    }

    /// One page of `numbers` (subscription creation numbers, ascending) from `token`.
    fn subscription_page(
        &self,
        numbers: impl Iterator<Item = u64>,
        token: Option<&str>,
    ) -> Result<Value, ApiError> {
        let start = match next_token_start(token)? {
            None => 0,
            Some(text) => text.parse::<u64>().map_err(|_| invalid("NextToken"))?,
        };
        let mut numbers = numbers.filter(|number| *number >= start);
        let page: Vec<Value> = numbers
            .by_ref()
            .take(PAGE_SIZE)
            .filter_map(|number| self.subscriptions.get(&number))
            .map(|subscription| self.subscription_entry(subscription))
            .collect();
        let mut output = json!({ "Subscriptions": page });
        if let Some(next) = numbers.next() {
            output["NextToken"] = Value::String(next_token(&next.to_string()));
        }
        Ok(output)
    }

    /// `ListSubscriptions`, in creation order, 100 to a page.
    pub(super) fn list_subscriptions(
        &mut self,
        input: &Value,
        _now: SimTime,
    ) -> Result<Value, ApiError> {
        self.subscription_page(
            self.subscriptions.keys().copied(),
            string(input, "NextToken")?,
        )
    }

    /// `ListSubscriptionsByTopic`, in creation order, 100 to a page.
    pub(super) fn list_subscriptions_by_topic(
        &mut self,
        input: &Value,
        _now: SimTime,
    ) -> Result<Value, ApiError> {
        let topic = self.topic(required(input, "TopicArn")?, "TopicArn")?;
        self.subscription_page(
            topic.subscriptions.iter().copied(),
            string(input, "NextToken")?,
        )
    }

    fn subscription_by_arn(&self, arn: &str) -> Result<&Subscription, ApiError> {
        let arn = check_subscription_arn(arn)?;
        self.by_arn
            .get(arn)
            .and_then(|number| self.subscriptions.get(number))
            .ok_or_else(subscription_not_found)
    }

    /// `GetSubscriptionAttributes`.
    pub(super) fn get_subscription_attributes(
        &mut self,
        input: &Value,
        _now: SimTime,
    ) -> Result<Value, ApiError> {
        let subscription = self.subscription_by_arn(required(input, "SubscriptionArn")?)?;
        let mut attributes = subscription.attributes.clone();
        let (pending, authenticated) = match subscription.status {
            Status::Pending => (true, false),
            Status::Confirmed { authenticated } => (false, authenticated),
        };
        for (name, value) in [
            ("SubscriptionArn", subscription.arn.clone()),
            ("TopicArn", subscription.topic_arn.clone()),
            ("Owner", self.account.clone()),
            ("Protocol", subscription.protocol.as_str().to_owned()),
            ("Endpoint", subscription.endpoint.clone()),
            ("PendingConfirmation", pending.to_string()),
            ("ConfirmationWasAuthenticated", authenticated.to_string()),
            ("RawMessageDelivery", subscription.raw.to_string()),
        ] {
            attributes.insert(name.to_owned(), value);
        }
        if attributes.contains_key("FilterPolicy") {
            let scope = subscription
                .attribute_value("FilterPolicyScope")
                .unwrap_or_default();
            attributes.insert("FilterPolicyScope".to_owned(), scope);
        }
        if subscription.protocol.is_http() {
            let topic_policy = self
                .topics
                .get(&subscription.topic_arn)
                .map(|topic| topic.policy.clone())
                .unwrap_or_default();
            let policy = effective(&topic_policy, subscription.policy.as_ref());
            attributes.insert(
                "EffectiveDeliveryPolicy".to_owned(),
                subscription_effective_json(&policy),
            );
        }
        Ok(json!({ "Attributes": attributes }))
    }

    /// `SetSubscriptionAttributes`: one attribute.
    pub(super) fn set_subscription_attributes(
        &mut self,
        input: &Value,
        _now: SimTime,
    ) -> Result<Value, ApiError> {
        let arn = required(input, "SubscriptionArn")?;
        let name = required(input, "AttributeName")?;
        let value = string(input, "AttributeValue")?.unwrap_or_default();
        let number = self.subscription_by_arn(arn)?.number;
        let subscription = self
            .subscriptions
            .get_mut(&number)
            .ok_or_else(subscription_not_found)?;
        subscription.set_attribute(name, value, &|why: &str| invalid(why))?;
        Ok(json!({}))
    }
}
