//! What a delivery carries: SNS's JSON envelope (`Notification`,
//! `SubscriptionConfirmation`, `UnsubscribeConfirmation`) written as AWS writes it
//! (`"Key" : value`, keys in AWS's order), its compact one-line form, Lambda's SNS
//! event, email texts, and the http/s headers.
//!
//! Signatures: the string to sign is AWS's, but spotlab holds no signing key, so
//! `Signature` is a stable stand-in derived from that string (same message, same
//! signature), not a verifiable RSA signature. Receivers that verify signatures must
//! skip verification against the local endpoint.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use super::protocol::Protocol;

/// The kind of message a delivery carries (`Type` in the envelope,
/// `x-amz-sns-message-type` over http/s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum MessageKind {
    /// Sent on Subscribe to endpoints that must confirm; carries the token.
    SubscriptionConfirmation,
    /// A published message.
    Notification,
    /// Sent to http/s endpoints on Unsubscribe; its token restores the subscription.
    UnsubscribeConfirmation,
}

impl MessageKind {
    /// The `Type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::SubscriptionConfirmation => "SubscriptionConfirmation",
            MessageKind::Notification => "Notification",
            MessageKind::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        }
    }
}

/// A message attribute as published: `DataType` and its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageAttribute {
    /// `DataType`: `String`, `String.Array`, `Number`, `Binary`, or one of them with a
    /// custom suffix (`Number.float`).
    pub data_type: String,
    /// The value: `StringValue`, or for binary types `BinaryValue` in base64.
    pub value: String,
}

/// An ordered JSON value, so that output keeps AWS's key order.
enum Json {
    Null,
    Str(String),
    Object(Vec<(&'static str, Json)>),
    Named(Vec<(String, Json)>),
    Array(Vec<Json>),
}

impl Json {
    fn str(text: &str) -> Json {
        Json::Str(text.to_owned())
    }

    fn compact(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Str(text) => out.push_str(&Value::String(text.clone()).to_string()),
            Json::Object(fields) => write_object(fields.iter().map(|(k, v)| (*k, v)), out),
            Json::Named(fields) => write_object(fields.iter().map(|(k, v)| (k.as_str(), v)), out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.compact(out);
                }
                out.push(']');
            }
        }
    }

    /// AWS's layout: objects at the top two levels one member a line (`"Key" : value`,
    /// two spaces an indent), anything deeper compact.
    fn pretty(&self, depth: usize, out: &mut String) {
        let fields: Vec<(&str, &Json)> = match self {
            Json::Object(fields) if depth < 2 => fields.iter().map(|(k, v)| (*k, v)).collect(),
            Json::Named(fields) if depth < 2 => {
                fields.iter().map(|(k, v)| (k.as_str(), v)).collect()
            }
            _ => return self.compact(out),
        };
        let indent = "  ".repeat(depth + 1);
        out.push_str("{\n");
        for (i, (key, value)) in fields.iter().enumerate() {
            out.push_str(&indent);
            out.push_str(&Value::String((*key).to_owned()).to_string());
            out.push_str(" : ");
            value.pretty(depth + 1, out);
            out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
        }
        out.push_str(&"  ".repeat(depth));
        out.push('}');
    }
}

fn write_object<'a>(fields: impl Iterator<Item = (&'a str, &'a Json)>, out: &mut String) {
    out.push('{');
    for (i, (key, value)) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String(key.to_owned()).to_string());
        out.push(':');
        value.compact(out);
    }
    out.push('}');
}

/// Where the local endpoint is reachable, for the URLs messages carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Urls {
    /// The endpoint's base URL, ending in `/`.
    base: String,
}

impl Urls {
    /// URLs under `base` (a `/` is added if missing).
    pub fn new(base: &str) -> Urls {
        let mut base = base.to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        Urls { base }
    }

    /// `SubscribeURL`: GET it to confirm.
    pub fn subscribe(&self, topic_arn: &str, token: &str) -> String {
        format!(
            "{}?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}",
            self.base
        )
    }

    /// `UnsubscribeURL`: GET it to unsubscribe.
    pub fn unsubscribe(&self, subscription_arn: &str) -> String {
        format!(
            "{}?Action=Unsubscribe&SubscriptionArn={subscription_arn}",
            self.base
        )
    }

    /// `SigningCertURL`: where a certificate would be served.
    pub fn signing_cert(&self) -> String {
        format!("{}SimpleNotificationService-spotlab.pem", self.base)
    }
}

/// One envelope's content, before it is written for a protocol.
pub(super) struct Envelope<'a> {
    pub kind: MessageKind,
    pub message_id: &'a str,
    pub topic_arn: &'a str,
    pub subscription_arn: &'a str,
    pub subject: Option<&'a str>,
    pub message: &'a str,
    /// The publish (or subscribe) time, `2012-05-02T00:54:06.655Z`.
    pub timestamp: String,
    /// Confirmations only.
    pub token: Option<&'a str>,
    /// FIFO topics: the message's sequence number; such envelopes carry no signature.
    pub sequence_number: Option<&'a str>,
    /// The topic's `SignatureVersion` (`1` or `2`).
    pub signature_version: &'a str,
    pub attributes: &'a BTreeMap<String, MessageAttribute>,
}

impl Envelope<'_> {
    /// AWS's string to sign: `Name\nvalue\n` pairs in byte order of the names.
    fn string_to_sign(&self, subscribe_url: Option<&str>) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("Message", self.message),
            ("MessageId", self.message_id),
            ("Timestamp", &self.timestamp),
            ("TopicArn", self.topic_arn),
            ("Type", self.kind.as_str()),
        ];
        match self.kind {
            MessageKind::Notification => {
                if let Some(subject) = self.subject {
                    pairs.push(("Subject", subject));
                }
            }
            MessageKind::SubscriptionConfirmation | MessageKind::UnsubscribeConfirmation => {
                pairs.push(("SubscribeURL", subscribe_url.unwrap_or_default()));
                pairs.push(("Token", self.token.unwrap_or_default()));
            }
        }
        pairs.sort_unstable();
        let mut text = String::new();
        for (name, value) in pairs {
            let _ = write!(text, "{name}\n{value}\n");
        }
        text
    }

    fn attributes_json(&self) -> Json {
        Json::Named(
            self.attributes
                .iter()
                .map(|(name, attribute)| {
                    (
                        name.clone(),
                        Json::Object(vec![
                            ("Type", Json::str(&attribute.data_type)),
                            ("Value", Json::str(&attribute.value)),
                        ]),
                    )
                })
                .collect(),
        )
    }

    /// The envelope's members in AWS's order.
    fn json(&self, urls: &Urls) -> Json {
        let mut fields = vec![
            ("Type", Json::str(self.kind.as_str())),
            ("MessageId", Json::str(self.message_id)),
        ];
        let subscribe_url = self
            .token
            .map(|token| urls.subscribe(self.topic_arn, token));
        let signature = match self.sequence_number {
            Some(_) => None,
            None => Some(signature(&self.string_to_sign(subscribe_url.as_deref()))),
        };
        match self.kind {
            MessageKind::Notification => {
                if let Some(sequence) = self.sequence_number {
                    fields.push(("SequenceNumber", Json::str(sequence)));
                }
                fields.push(("TopicArn", Json::str(self.topic_arn)));
                if let Some(subject) = self.subject {
                    fields.push(("Subject", Json::str(subject)));
                }
                fields.push(("Message", Json::str(self.message)));
                fields.push(("Timestamp", Json::str(&self.timestamp)));
                self.push_signature(&mut fields, signature, urls);
                fields.push((
                    "UnsubscribeURL",
                    Json::Str(urls.unsubscribe(self.subscription_arn)),
                ));
                if !self.attributes.is_empty() {
                    fields.push(("MessageAttributes", self.attributes_json()));
                }
            }
            MessageKind::SubscriptionConfirmation | MessageKind::UnsubscribeConfirmation => {
                fields.push(("Token", Json::str(self.token.unwrap_or_default())));
                fields.push(("TopicArn", Json::str(self.topic_arn)));
                fields.push(("Message", Json::str(self.message)));
                fields.push(("SubscribeURL", Json::Str(subscribe_url.unwrap_or_default())));
                fields.push(("Timestamp", Json::str(&self.timestamp)));
                self.push_signature(&mut fields, signature, urls);
            }
        }
        Json::Object(fields)
    }

    fn push_signature(
        &self,
        fields: &mut Vec<(&'static str, Json)>,
        signature: Option<String>,
        urls: &Urls,
    ) {
        if let Some(signature) = signature {
            fields.push(("SignatureVersion", Json::str(self.signature_version)));
            fields.push(("Signature", Json::Str(signature)));
            fields.push(("SigningCertURL", Json::Str(urls.signing_cert())));
        }
    }

    /// The envelope as AWS sends it to http/s, SQS and email-json endpoints.
    pub fn pretty(&self, urls: &Urls) -> String {
        let mut out = String::new();
        self.json(urls).pretty(0, &mut out);
        out
    }

    /// The envelope on one line (for JSON-lines files and the log).
    pub fn compact(&self, urls: &Urls) -> String {
        let mut out = String::new();
        self.json(urls).compact(&mut out);
        out
    }

    /// Lambda's SNS event (`Records[0].Sns`, with `…Url` spelled as Lambda spells it).
    pub fn lambda_event(&self, urls: &Urls) -> String {
        let signature = signature(&self.string_to_sign(None));
        let sns = Json::Object(vec![
            ("Type", Json::str(self.kind.as_str())),
            ("MessageId", Json::str(self.message_id)),
            ("TopicArn", Json::str(self.topic_arn)),
            ("Subject", self.subject.map_or(Json::Null, Json::str)),
            ("Message", Json::str(self.message)),
            ("Timestamp", Json::str(&self.timestamp)),
            ("SignatureVersion", Json::str(self.signature_version)),
            ("Signature", Json::Str(signature)),
            ("SigningCertUrl", Json::Str(urls.signing_cert())),
            (
                "UnsubscribeUrl",
                Json::Str(urls.unsubscribe(self.subscription_arn)),
            ),
            ("MessageAttributes", self.attributes_json()),
        ]);
        let record = Json::Object(vec![
            ("EventSource", Json::str("aws:sns")),
            ("EventVersion", Json::str("1.0")),
            ("EventSubscriptionArn", Json::str(self.subscription_arn)),
            ("Sns", sns),
        ]);
        let mut out = String::new();
        Json::Object(vec![("Records", Json::Array(vec![record]))]).compact(&mut out);
        out
    }

    /// An `email` subscription's text: the message and the unsubscribe footer, or the
    /// confirmation request.
    pub fn email_text(&self, urls: &Urls) -> String {
        const FOOTER: &str = "Please do not reply directly to this email. If you have any questions or \
                              comments regarding this email, please contact us at \
                              https://aws.amazon.com/support";
        match self.kind {
            MessageKind::Notification => format!(
                "{}\n\n--\nIf you wish to stop receiving notifications from this topic, please \
                 click or visit the link below to unsubscribe:\n{}\n\n{FOOTER}",
                self.message,
                urls.unsubscribe(self.subscription_arn)
            ),
            MessageKind::SubscriptionConfirmation | MessageKind::UnsubscribeConfirmation => {
                format!(
                    "You have chosen to subscribe to the topic: \n{}\n\nTo confirm this \
                     subscription, click or visit the link below (If this was in error no action \
                     is necessary): \nConfirm subscription {}\n\n{FOOTER}",
                    self.topic_arn,
                    urls.subscribe(self.topic_arn, self.token.unwrap_or_default())
                )
            }
        }
    }

    /// The mail subject an `email`/`email-json` delivery is sent with.
    pub fn email_subject(&self) -> String {
        match self.kind {
            MessageKind::Notification => self
                .subject
                .unwrap_or("AWS Notification Message")
                .to_owned(),
            MessageKind::SubscriptionConfirmation | MessageKind::UnsubscribeConfirmation => {
                "AWS Notification - Subscription Confirmation".to_owned()
            }
        }
    }

    /// The body `protocol` receives: the envelope in the protocol's form, or with raw
    /// delivery the bare message (notifications only).
    pub fn body(&self, protocol: Protocol, raw: bool, urls: &Urls) -> String {
        if raw && self.kind == MessageKind::Notification {
            return self.message.to_owned();
        }
        match protocol {
            Protocol::Http
            | Protocol::Https
            | Protocol::Sqs
            | Protocol::EmailJson
            | Protocol::Command => self.pretty(urls),
            Protocol::File | Protocol::Log => self.compact(urls),
            Protocol::Email => self.email_text(urls),
            Protocol::Lambda => self.lambda_event(urls),
        }
    }

    /// The http/s request headers, in the order SNS sends them.
    pub fn http_headers(&self, raw: bool, content_type: &str) -> Vec<(String, String)> {
        let notification = self.kind == MessageKind::Notification;
        let content_type = if notification {
            content_type
        } else {
            super::policy::DEFAULT_CONTENT_TYPE
        };
        let mut headers = vec![
            ("Content-Type", content_type),
            ("User-Agent", "Amazon Simple Notification Service Agent"),
            ("x-amz-sns-message-type", self.kind.as_str()),
            ("x-amz-sns-message-id", self.message_id),
            ("x-amz-sns-topic-arn", self.topic_arn),
        ];
        if self.kind != MessageKind::SubscriptionConfirmation {
            headers.push(("x-amz-sns-subscription-arn", self.subscription_arn));
        }
        if notification && raw {
            headers.push(("x-amz-sns-rawdelivery", "true"));
        }
        headers
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }
}

/// A stand-in signature: 256 bytes (an RSA-2048 signature's length) drawn from a
/// SplitMix64 stream seeded with the FNV-1a hash of the string to sign, in base64.
fn signature(string_to_sign: &str) -> String {
    let mut state = string_to_sign
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    let mut bytes = Vec::with_capacity(256);
    while bytes.len() < 256 {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        bytes.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope<'a>(attributes: &'a BTreeMap<String, MessageAttribute>) -> Envelope<'a> {
        Envelope {
            kind: MessageKind::Notification,
            message_id: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            topic_arn: "arn:aws:sns:us-west-2:123456789012:MyTopic",
            subscription_arn: "arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0",
            subject: Some("My First Message"),
            message: "Hello world!",
            timestamp: "2012-05-02T00:54:06.655Z".to_owned(),
            token: None,
            sequence_number: None,
            signature_version: "1",
            attributes,
        }
    }

    #[test]
    fn notification_is_laid_out_like_aws() {
        let mut attributes = BTreeMap::new();
        attributes.insert(
            "store".to_owned(),
            MessageAttribute {
                data_type: "String".to_owned(),
                value: "example_corp".to_owned(),
            },
        );
        let urls = Urls::new("http://127.0.0.1:4747");
        let text = envelope(&attributes).pretty(&urls);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "{");
        assert_eq!(lines[1], "  \"Type\" : \"Notification\",");
        assert_eq!(
            lines[2],
            "  \"MessageId\" : \"22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\","
        );
        assert_eq!(lines[4], "  \"Subject\" : \"My First Message\",");
        assert_eq!(lines[6], "  \"Timestamp\" : \"2012-05-02T00:54:06.655Z\",");
        assert_eq!(lines[7], "  \"SignatureVersion\" : \"1\",");
        assert_eq!(
            lines[10],
            "  \"UnsubscribeURL\" : \"http://127.0.0.1:4747/?Action=Unsubscribe&SubscriptionArn=\
             arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0\","
        );
        assert_eq!(lines[11], "  \"MessageAttributes\" : {");
        assert_eq!(
            lines[12],
            "    \"store\" : {\"Type\":\"String\",\"Value\":\"example_corp\"}"
        );
        assert_eq!(lines[13], "  }");
        assert_eq!(lines[14], "}");
        let parsed: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(parsed["Message"], "Hello world!");
        let compact: Value =
            serde_json::from_str(&envelope(&attributes).compact(&urls)).unwrap_or_default();
        assert_eq!(parsed, compact);
    }

    #[test]
    fn string_to_sign_is_in_byte_order() {
        let attributes = BTreeMap::new();
        assert_eq!(
            envelope(&attributes).string_to_sign(None),
            "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n\
             Subject\nMy First Message\nTimestamp\n2012-05-02T00:54:06.655Z\n\
             TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n"
        );
        assert_eq!(signature("a"), signature("a"));
        assert_ne!(signature("a"), signature("b"));
    }
}
