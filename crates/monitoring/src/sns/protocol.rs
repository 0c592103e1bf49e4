//! [`Protocol`]: how a subscription receives its messages, AWS's protocols and the
//! local ones spotlab adds, and what each one's endpoint must look like.

use std::fmt;

use serde::Serialize;

use crate::ApiError;

use super::arn::is_service_arn;
use super::input::invalid;
use super::policy::RetryPolicy;

/// A subscription's protocol.
///
/// AWS's: `http`, `https` (POST with the JSON envelope, confirmation handshake, delivery
/// policy), `email` (plain text) and `email-json` (the envelope as the body), both
/// confirmed with ConfirmSubscription, `sqs` (an SQS queue ARN: spotlab keeps a local
/// queue per ARN that can be read back, no confirmation) and `lambda` (a function ARN;
/// the body is Lambda's SNS event).
///
/// spotlab's local protocols, which a user can name in `aws sns subscribe --protocol`:
/// `file` (endpoint an absolute path: one JSON envelope per line is appended), `command`
/// (endpoint a command line, run with the envelope, or the bare message when raw, on its
/// standard input) and `log` (a line in spotlab's log; any endpoint, or none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// `http`: POST to an `http://` URL.
    Http,
    /// `https`: POST to an `https://` URL.
    Https,
    /// `email`: a plain-text mail.
    Email,
    /// `email-json`: a mail whose body is the JSON envelope.
    EmailJson,
    /// `sqs`: a queue, named by its ARN.
    Sqs,
    /// `lambda`: a function, named by its ARN.
    Lambda,
    /// `file`: one JSON line per message, appended to a file (spotlab's own).
    File,
    /// `command`: a command run with the message on its standard input (spotlab's own).
    Command,
    /// `log`: a line in spotlab's log (spotlab's own).
    Log,
}

impl Protocol {
    /// Every protocol, in the order above.
    pub const ALL: [Protocol; 9] = [
        Protocol::Http,
        Protocol::Https,
        Protocol::Email,
        Protocol::EmailJson,
        Protocol::Sqs,
        Protocol::Lambda,
        Protocol::File,
        Protocol::Command,
        Protocol::Log,
    ];

    /// The protocol a `Protocol` string names (exactly, as SNS compares them).
    pub fn parse(text: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// The protocol's string, as Subscribe takes and ListSubscriptions shows it; also the
    /// key MessageStructure=json messages use for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Email => "email",
            Protocol::EmailJson => "email-json",
            Protocol::Sqs => "sqs",
            Protocol::Lambda => "lambda",
            Protocol::File => "file",
            Protocol::Command => "command",
            Protocol::Log => "log",
        }
    }

    /// Whether a new subscription stays `PendingConfirmation` until ConfirmSubscription.
    pub fn needs_confirmation(self) -> bool {
        matches!(
            self,
            Protocol::Http | Protocol::Https | Protocol::Email | Protocol::EmailJson
        )
    }

    /// Whether the protocol is delivered by an HTTP POST.
    pub fn is_http(self) -> bool {
        matches!(self, Protocol::Http | Protocol::Https)
    }

    /// Whether `RawMessageDelivery` applies (AWS: sqs, http/s; and the local protocols).
    pub fn supports_raw(self) -> bool {
        !matches!(
            self,
            Protocol::Email | Protocol::EmailJson | Protocol::Lambda
        )
    }

    /// The retry policy of a protocol whose policy SNS fixes (every one but http/s, whose
    /// policy comes from the topic's and subscription's `DeliveryPolicy`): AWS's managed
    /// endpoint policy for sqs and lambda, its customer-managed one for email, and
    /// spotlab's choice for the local protocols: the http default, 3 retries 20 s apart.
    pub(super) fn fixed_retry_policy(self) -> RetryPolicy {
        match self {
            Protocol::Sqs | Protocol::Lambda => RetryPolicy::AWS_MANAGED,
            Protocol::Email | Protocol::EmailJson => RetryPolicy::CUSTOMER_MANAGED,
            Protocol::Http
            | Protocol::Https
            | Protocol::File
            | Protocol::Command
            | Protocol::Log => RetryPolicy::HTTP_DEFAULT,
        }
    }

    /// Checks a Subscribe endpoint for this protocol, in SNS's words; `fifo_topic` says
    /// whether the topic is FIFO. Returns the endpoint as stored.
    pub(super) fn check_endpoint(
        self,
        endpoint: Option<&str>,
        fifo_topic: bool,
    ) -> Result<String, ApiError> {
        if self == Protocol::Log {
            return Ok(endpoint.unwrap_or_default().to_owned());
        }
        let endpoint = match endpoint {
            Some(endpoint) if !endpoint.is_empty() => endpoint,
            _ => return Err(invalid("Endpoint")),
        };
        let ok = match self {
            Protocol::Http => endpoint.starts_with("http://") && endpoint.len() > 7,
            Protocol::Https => endpoint.starts_with("https://") && endpoint.len() > 8,
            Protocol::Email | Protocol::EmailJson => {
                let mut parts = endpoint.splitn(2, '@');
                let local = parts.next().unwrap_or_default();
                let domain = parts.next().unwrap_or_default();
                if local.is_empty()
                    || domain.is_empty()
                    || domain.contains('@')
                    || endpoint.chars().any(char::is_whitespace)
                {
                    return Err(invalid("Email address"));
                }
                true
            }
            Protocol::Sqs => {
                if !is_service_arn(endpoint, "sqs") {
                    return Err(invalid("SQS endpoint ARN"));
                }
                if endpoint.ends_with(".fifo") && !fifo_topic {
                    return Err(invalid(
                        "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be \
                         subscribed to standard SNS topics",
                    ));
                }
                true
            }
            Protocol::Lambda => {
                if !is_service_arn(endpoint, "lambda") || !endpoint.contains(":function:") {
                    return Err(invalid("Lambda endpoint ARN"));
                }
                true
            }
            Protocol::File => {
                if !endpoint.starts_with('/') {
                    return Err(invalid(
                        "Endpoint Reason: a file endpoint must be an absolute path",
                    ));
                }
                true
            }
            Protocol::Command | Protocol::Log => true,
        };
        if !ok {
            return Err(invalid("Endpoint must match the specified protocol"));
        }
        if fifo_topic
            && !matches!(
                self,
                Protocol::Sqs | Protocol::File | Protocol::Command | Protocol::Log
            )
        {
            return Err(invalid(format_args!(
                "Endpoint Reason: FIFO topics do not support the {self} protocol"
            )));
        }
        Ok(endpoint.to_owned())
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for protocol in Protocol::ALL {
            assert_eq!(Protocol::parse(protocol.as_str()), Some(protocol));
        }
        assert_eq!(Protocol::parse("HTTP"), None);
        assert_eq!(Protocol::parse("sms"), None);
    }

    #[test]
    fn endpoints_are_checked_per_protocol() {
        let check = |p: Protocol, e: &str| p.check_endpoint(Some(e), false).map_err(|e| e.message);
        assert!(check(Protocol::Http, "http://127.0.0.1:9000/hook").is_ok());
        assert_eq!(
            check(Protocol::Http, "https://example.com/"),
            Err("Invalid parameter: Endpoint must match the specified protocol".to_owned())
        );
        assert!(check(Protocol::Email, "ops@example.com").is_ok());
        assert_eq!(
            check(Protocol::EmailJson, "not-an-address"),
            Err("Invalid parameter: Email address".to_owned())
        );
        assert!(check(Protocol::Sqs, "arn:aws:sqs:us-east-1:123456789012:q").is_ok());
        assert_eq!(
            check(Protocol::Sqs, "https://sqs.us-east-1.amazonaws.com/1/q"),
            Err("Invalid parameter: SQS endpoint ARN".to_owned())
        );
        assert!(check(Protocol::File, "/tmp/events.jsonl").is_ok());
        assert!(check(Protocol::File, "events.jsonl").is_err());
        assert!(Protocol::Log.check_endpoint(None, false).is_ok());
        assert!(Protocol::Command.check_endpoint(None, false).is_err());
    }
}
