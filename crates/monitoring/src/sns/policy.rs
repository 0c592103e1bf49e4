//! Delivery policies: [`RetryPolicy`] and its four phases (immediate, pre-backoff,
//! backoff, post-backoff), the http/s `DeliveryPolicy` attributes of topics
//! (`http.defaultHealthyRetryPolicy`, ...) and subscriptions (`healthyRetryPolicy`, ...),
//! their validation, and the `EffectiveDeliveryPolicy` text SNS shows.
//!
//! AWS applies jitter to retries; this core does not (a retry's due time is exact, which
//! keeps replays identical). How the four backoff functions interpolate between the
//! minimum and maximum delay is not documented beyond a graph; [`Backoff`] says what
//! spotlab does.

use serde_json::{Map, Value};
use simtime::SimDuration;

/// The content type of http/s notifications unless a delivery policy overrides it.
pub(super) const DEFAULT_CONTENT_TYPE: &str = "text/plain; charset=UTF-8";

/// The most retries an http/s delivery policy may ask for.
const MAX_RETRIES: u64 = 100;

/// The longest an http/s delivery policy's retries may take in all, in seconds.
const MAX_TOTAL_SECONDS: u64 = 3600;

/// How delays grow across the backoff phase, from `minDelayTarget` towards
/// `maxDelayTarget`. For the `i`-th of `n` backoff retries (`i` from 1), with
/// `x = i / n`, the delay is `min + (max - min) * f`, the last backoff retry waiting
/// exactly `max`:
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backoff {
    /// `f = x`.
    Linear,
    /// `f = i (i + 1) / (n (n + 1))`: the step grows by the same amount each retry.
    Arithmetic,
    /// The delays form a geometric sequence: `delay = min * (max / min)^x`.
    Geometric,
    /// `f = (2^i - 1) / (2^n - 1)`: the step doubles each retry.
    Exponential,
}

impl Backoff {
    /// The `backoffFunction` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Backoff::Linear => "linear",
            Backoff::Arithmetic => "arithmetic",
            Backoff::Geometric => "geometric",
            Backoff::Exponential => "exponential",
        }
    }

    fn parse(text: &str) -> Option<Backoff> {
        [
            Backoff::Linear,
            Backoff::Arithmetic,
            Backoff::Geometric,
            Backoff::Exponential,
        ]
        .into_iter()
        .find(|b| b.as_str() == text)
    }
}

/// When a failed delivery is retried: SNS's `healthyRetryPolicy`. Delays are whole
/// seconds; `num_retries` counts every retry, the first attempt excluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// `minDelayTarget`: the pre-backoff delay and where backoff starts, in seconds.
    pub min_delay_target: u32,
    /// `maxDelayTarget`: where backoff ends and the post-backoff delay, in seconds.
    pub max_delay_target: u32,
    /// `numRetries`: all retries, every phase included.
    pub num_retries: u32,
    /// `numNoDelayRetries`: the immediate phase.
    pub num_no_delay_retries: u32,
    /// `numMinDelayRetries`: the pre-backoff phase, `min_delay_target` apart.
    pub num_min_delay_retries: u32,
    /// `numMaxDelayRetries`: the post-backoff phase, `max_delay_target` apart.
    pub num_max_delay_retries: u32,
    /// `backoffFunction`.
    pub backoff: Backoff,
}

impl RetryPolicy {
    /// The http/s default: 3 retries, 20 s apart.
    pub const HTTP_DEFAULT: RetryPolicy = RetryPolicy {
        min_delay_target: 20,
        max_delay_target: 20,
        num_retries: 3,
        num_no_delay_retries: 0,
        num_min_delay_retries: 0,
        num_max_delay_retries: 0,
        backoff: Backoff::Linear,
    };

    /// AWS's policy for its managed endpoints (SQS, Lambda): 3 immediate retries, 2 one
    /// second apart, 10 backing off exponentially from 1 s to 20 s, then 100,000 twenty
    /// seconds apart (over 23 days).
    pub const AWS_MANAGED: RetryPolicy = RetryPolicy {
        min_delay_target: 1,
        max_delay_target: 20,
        num_retries: 100_015,
        num_no_delay_retries: 3,
        num_min_delay_retries: 2,
        num_max_delay_retries: 100_000,
        backoff: Backoff::Exponential,
    };

    /// AWS's policy for customer-managed endpoints (email): 2 retries 10 s apart, 10
    /// backing off exponentially from 10 s to 600 s, then 38 ten minutes apart.
    pub const CUSTOMER_MANAGED: RetryPolicy = RetryPolicy {
        min_delay_target: 10,
        max_delay_target: 600,
        num_retries: 50,
        num_no_delay_retries: 0,
        num_min_delay_retries: 2,
        num_max_delay_retries: 38,
        backoff: Backoff::Exponential,
    };

    /// How long to wait, after the attempt before it failed, before retry number `retry`
    /// (1 for the first retry); `None` once the policy is exhausted.
    pub fn delay_before_retry(&self, retry: u32) -> Option<SimDuration> {
        if retry == 0 || retry > self.num_retries {
            return None;
        }
        let immediate = self.num_no_delay_retries;
        let pre = self.num_min_delay_retries;
        let backoff = self.num_retries.saturating_sub(
            immediate
                .saturating_add(pre)
                .saturating_add(self.num_max_delay_retries),
        );
        let min_ms = u64::from(self.min_delay_target) * 1000;
        let max_ms = u64::from(self.max_delay_target) * 1000;
        let ms = if retry <= immediate {
            0
        } else if retry <= immediate.saturating_add(pre) {
            min_ms
        } else if retry <= immediate.saturating_add(pre).saturating_add(backoff) {
            self.backoff_ms(retry - immediate - pre, backoff)
        } else {
            max_ms
        };
        Some(SimDuration::from_millis(ms))
    }

    /// The delay of backoff retry `i` of `n`, in milliseconds.
    fn backoff_ms(&self, i: u32, n: u32) -> u64 {
        let min = f64::from(self.min_delay_target) * 1000.0;
        let max = f64::from(self.max_delay_target) * 1000.0;
        let (i, n) = (f64::from(i), f64::from(n));
        let delay = match self.backoff {
            Backoff::Linear => min + (max - min) * i / n,
            Backoff::Arithmetic => min + (max - min) * (i * (i + 1.0)) / (n * (n + 1.0)),
            Backoff::Geometric if min > 0.0 => min * (max / min).powf(i / n),
            Backoff::Geometric => max * i / n,
            Backoff::Exponential => min + (max - min) * (2f64.powf(i) - 1.0) / (2f64.powf(n) - 1.0),
        };
        // Delays are kept between min and max (whole milliseconds of at most a few
        // days), so the cast is exact.
        delay.round().max(min).min(max) as u64
    }

    /// The sum of every retry's delay: how long the policy can keep a delivery.
    pub fn total_delay(&self) -> SimDuration {
        let mut total = SimDuration::ZERO;
        for retry in 1..=self.num_retries {
            total += self.delay_before_retry(retry).unwrap_or(SimDuration::ZERO);
        }
        total
    }

    /// The policy as SNS writes it, keys in AWS's order.
    pub(super) fn to_json(self) -> String {
        format!(
            "{{\"minDelayTarget\":{},\"maxDelayTarget\":{},\"numRetries\":{},\
             \"numMaxDelayRetries\":{},\"numNoDelayRetries\":{},\"numMinDelayRetries\":{},\
             \"backoffFunction\":\"{}\"}}",
            self.min_delay_target,
            self.max_delay_target,
            self.num_retries,
            self.num_max_delay_retries,
            self.num_no_delay_retries,
            self.num_min_delay_retries,
            self.backoff.as_str()
        )
    }
}

/// What governs http/s deliveries of one subscription: retries, throttling, content type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct HttpPolicy {
    /// The retry schedule.
    pub retry: RetryPolicy,
    /// `maxReceivesPerSecond`, if throttled.
    pub throttle: Option<u32>,
    /// `headerContentType`, if not the default.
    pub content_type: Option<String>,
}

impl HttpPolicy {
    /// The `Content-Type` of notifications.
    pub fn content_type(&self) -> &str {
        self.content_type.as_deref().unwrap_or(DEFAULT_CONTENT_TYPE)
    }
}

/// A topic's `DeliveryPolicy`, parsed: its `http` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TopicPolicy {
    /// `defaultHealthyRetryPolicy`, `defaultThrottlePolicy`, `defaultRequestPolicy`.
    pub http: HttpPolicy,
    /// `disableSubscriptionOverrides`: subscriptions' own policies are ignored.
    pub disable_overrides: bool,
}

impl Default for TopicPolicy {
    fn default() -> TopicPolicy {
        TopicPolicy {
            http: HttpPolicy {
                retry: RetryPolicy::HTTP_DEFAULT,
                throttle: None,
                content_type: None,
            },
            disable_overrides: false,
        }
    }
}

impl TopicPolicy {
    /// Parses a topic's `DeliveryPolicy`; the error is the reason, for the caller to
    /// prefix.
    pub fn parse(text: &str) -> Result<TopicPolicy, String> {
        let root = parse_object(text)?;
        let mut policy = TopicPolicy::default();
        let Some(http) = root.get("http") else {
            return Ok(policy);
        };
        let http = as_object(http, "http")?;
        if let Some(retry) = present(http, "defaultHealthyRetryPolicy") {
            policy.http.retry = parse_retry(retry, "defaultHealthyRetryPolicy")?;
        }
        if let Some(throttle) = present(http, "defaultThrottlePolicy") {
            policy.http.throttle = parse_throttle(throttle, "defaultThrottlePolicy")?;
        }
        if let Some(request) = present(http, "defaultRequestPolicy") {
            policy.http.content_type = parse_request(request, "defaultRequestPolicy")?;
        }
        match present(http, "disableSubscriptionOverrides") {
            None => {}
            Some(Value::Bool(disable)) => policy.disable_overrides = *disable,
            Some(_) => return Err("disableSubscriptionOverrides must be a boolean".to_owned()),
        }
        Ok(policy)
    }

    /// `EffectiveDeliveryPolicy` as GetTopicAttributes shows it.
    pub fn effective_json(&self) -> String {
        let throttle = self
            .http
            .throttle
            .map(|rate| format!(",\"defaultThrottlePolicy\":{{\"maxReceivesPerSecond\":{rate}}}"))
            .unwrap_or_default();
        format!(
            "{{\"http\":{{\"defaultHealthyRetryPolicy\":{},\"disableSubscriptionOverrides\":{}{throttle},\
             \"defaultRequestPolicy\":{{\"headerContentType\":{}}}}}}}",
            self.http.retry.to_json(),
            self.disable_overrides,
            json_string(self.http.content_type())
        )
    }
}

/// A subscription's `DeliveryPolicy`, parsed: only what it sets.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(super) struct SubscriptionPolicy {
    /// `healthyRetryPolicy`.
    pub retry: Option<RetryPolicy>,
    /// `throttlePolicy.maxReceivesPerSecond`.
    pub throttle: Option<u32>,
    /// `requestPolicy.headerContentType`.
    pub content_type: Option<String>,
}

impl SubscriptionPolicy {
    /// Parses a subscription's `DeliveryPolicy`; the error is the reason.
    pub fn parse(text: &str) -> Result<SubscriptionPolicy, String> {
        let root = parse_object(text)?;
        let mut policy = SubscriptionPolicy::default();
        if let Some(retry) = present(&root, "healthyRetryPolicy") {
            policy.retry = Some(parse_retry(retry, "healthyRetryPolicy")?);
        }
        if let Some(throttle) = present(&root, "throttlePolicy") {
            policy.throttle = parse_throttle(throttle, "throttlePolicy")?;
        }
        if let Some(request) = present(&root, "requestPolicy") {
            policy.content_type = parse_request(request, "requestPolicy")?;
        }
        Ok(policy)
    }
}

/// The policy in force for an http/s subscription: its own settings unless the topic
/// disables overrides, the topic's otherwise.
pub(super) fn effective(
    topic: &TopicPolicy,
    subscription: Option<&SubscriptionPolicy>,
) -> HttpPolicy {
    match subscription {
        Some(own) if !topic.disable_overrides => HttpPolicy {
            retry: own.retry.unwrap_or(topic.http.retry),
            throttle: own.throttle.or(topic.http.throttle),
            content_type: own
                .content_type
                .clone()
                .or_else(|| topic.http.content_type.clone()),
        },
        _ => topic.http.clone(),
    }
}

/// A subscription's `EffectiveDeliveryPolicy` as GetSubscriptionAttributes shows it.
pub(super) fn subscription_effective_json(policy: &HttpPolicy) -> String {
    let throttle = policy.throttle.map_or_else(
        || "null".to_owned(),
        |rate| format!("{{\"maxReceivesPerSecond\":{rate}}}"),
    );
    let request = policy
        .content_type
        .as_deref()
        .map(|ct| {
            format!(
                ",\"requestPolicy\":{{\"headerContentType\":{}}}",
                json_string(ct)
            )
        })
        .unwrap_or_default();
    format!(
        "{{\"healthyRetryPolicy\":{},\"sicklyRetryPolicy\":null,\"throttlePolicy\":{throttle}{request},\
         \"guaranteed\":false}}",
        policy.retry.to_json()
    )
}

fn json_string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

fn parse_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("DeliveryPolicy must be a JSON object".to_owned()),
        Err(_) => Err("failed to parse JSON.".to_owned()),
    }
}

/// A member that is present and not `null`.
fn present<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn as_object<'a>(value: &'a Value, name: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{name} must be a JSON object"))
}

fn whole_number(map: &Map<String, Value>, key: &str, section: &str) -> Result<Option<u64>, String> {
    match present(map, key) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{section}: {key} must be a non-negative integer")),
    }
}

fn parse_retry(value: &Value, section: &str) -> Result<RetryPolicy, String> {
    let map = as_object(value, section)?;
    let base = RetryPolicy::HTTP_DEFAULT;
    let get = |key: &str, default: u32| -> Result<u64, String> {
        Ok(whole_number(map, key, section)?.unwrap_or(u64::from(default)))
    };
    let min = get("minDelayTarget", base.min_delay_target)?;
    let max = get("maxDelayTarget", base.max_delay_target)?;
    let retries = get("numRetries", base.num_retries)?;
    let no_delay = get("numNoDelayRetries", 0)?;
    let min_delay = get("numMinDelayRetries", 0)?;
    let max_delay = get("numMaxDelayRetries", 0)?;
    let backoff = match present(map, "backoffFunction") {
        None => Backoff::Linear,
        Some(Value::String(name)) => Backoff::parse(name).ok_or_else(|| {
            format!("{section}: backoffFunction must be one of linear, arithmetic, geometric, exponential")
        })?,
        Some(_) => return Err(format!("{section}: backoffFunction must be a string")),
    };
    if min < 1 {
        return Err(format!("{section}: minDelayTarget must be at least 1"));
    }
    if max > MAX_TOTAL_SECONDS {
        return Err(format!(
            "{section}: maxDelayTarget must be at most {MAX_TOTAL_SECONDS}"
        ));
    }
    if min > max {
        return Err(format!(
            "{section}: minDelayTarget must be less than or equal to maxDelayTarget"
        ));
    }
    if retries > MAX_RETRIES {
        return Err(format!(
            "{section}: numRetries must be between 0 and {MAX_RETRIES}"
        ));
    }
    if no_delay + min_delay + max_delay > retries {
        return Err(format!(
            "{section}: numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries"
        ));
    }
    // Every count is at most 100 and every delay at most 3600, so these fit.
    let narrow = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    let policy = RetryPolicy {
        min_delay_target: narrow(min),
        max_delay_target: narrow(max),
        num_retries: narrow(retries),
        num_no_delay_retries: narrow(no_delay),
        num_min_delay_retries: narrow(min_delay),
        num_max_delay_retries: narrow(max_delay),
        backoff,
    };
    if policy.total_delay().as_secs() > MAX_TOTAL_SECONDS {
        return Err(format!(
            "{section}: the total retry time must not exceed {MAX_TOTAL_SECONDS} seconds"
        ));
    }
    Ok(policy)
}

fn parse_throttle(value: &Value, section: &str) -> Result<Option<u32>, String> {
    let map = as_object(value, section)?;
    match whole_number(map, "maxReceivesPerSecond", section)? {
        None => Ok(None),
        Some(0) => Err(format!(
            "{section}: maxReceivesPerSecond must be at least 1"
        )),
        Some(rate) => Ok(Some(u32::try_from(rate).unwrap_or(u32::MAX))),
    }
}

fn parse_request(value: &Value, section: &str) -> Result<Option<String>, String> {
    let map = as_object(value, section)?;
    match present(map, "headerContentType") {
        None => Ok(None),
        Some(Value::String(ct)) if ct.contains('/') && !ct.contains(['\r', '\n']) => {
            Ok(Some(ct.clone()))
        }
        Some(_) => Err(format!(
            "{section}: headerContentType is not a supported content type"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delays(policy: &RetryPolicy) -> Vec<u64> {
        (1..=policy.num_retries)
            .map(|k| policy.delay_before_retry(k).map_or(0, |d| d.as_millis()))
            .collect()
    }

    #[test]
    fn default_http_policy_is_three_retries_twenty_seconds_apart() {
        // Fact sheet 4.2: default policy 3 retries, 20 s apart.
        assert_eq!(
            delays(&RetryPolicy::HTTP_DEFAULT),
            vec![20_000, 20_000, 20_000]
        );
        assert_eq!(RetryPolicy::HTTP_DEFAULT.delay_before_retry(4), None);
        assert_eq!(
            TopicPolicy::default().effective_json(),
            "{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":20,\"maxDelayTarget\":20,\
             \"numRetries\":3,\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,\"numMinDelayRetries\":0,\
             \"backoffFunction\":\"linear\"},\"disableSubscriptionOverrides\":false,\
             \"defaultRequestPolicy\":{\"headerContentType\":\"text/plain; charset=UTF-8\"}}}"
        );
    }

    #[test]
    fn phases_come_in_order() {
        let policy = RetryPolicy {
            min_delay_target: 2,
            max_delay_target: 10,
            num_retries: 9,
            num_no_delay_retries: 2,
            num_min_delay_retries: 2,
            num_max_delay_retries: 1,
            backoff: Backoff::Linear,
        };
        // 2 immediate, 2 at min, 4 backing off linearly 2 -> 10, 1 at max.
        assert_eq!(
            delays(&policy),
            vec![0, 0, 2000, 2000, 4000, 6000, 8000, 10_000, 10_000]
        );
    }

    #[test]
    fn backoff_functions_end_at_max_and_grow() {
        for backoff in [
            Backoff::Linear,
            Backoff::Arithmetic,
            Backoff::Geometric,
            Backoff::Exponential,
        ] {
            let policy = RetryPolicy {
                min_delay_target: 1,
                max_delay_target: 64,
                num_retries: 6,
                num_no_delay_retries: 0,
                num_min_delay_retries: 0,
                num_max_delay_retries: 0,
                backoff,
            };
            let d = delays(&policy);
            assert_eq!(d.last(), Some(&64_000), "{backoff:?}");
            assert!(d.windows(2).all(|w| w[0] < w[1]), "{backoff:?} {d:?}");
        }
        let geometric = RetryPolicy {
            min_delay_target: 1,
            max_delay_target: 64,
            num_retries: 6,
            num_no_delay_retries: 0,
            num_min_delay_retries: 0,
            num_max_delay_retries: 0,
            backoff: Backoff::Geometric,
        };
        assert_eq!(
            delays(&geometric),
            vec![2000, 4000, 8000, 16_000, 32_000, 64_000]
        );
    }

    #[test]
    fn invalid_policies_are_refused() {
        assert!(TopicPolicy::parse("not json").is_err());
        assert!(
            TopicPolicy::parse(r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":101}}}"#)
                .is_err()
        );
        assert!(TopicPolicy::parse(
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":30,"maxDelayTarget":20}}}"#
        )
        .is_err());
        // 100 retries of 3600 s is far beyond the 3600 s total.
        assert!(SubscriptionPolicy::parse(
            r#"{"healthyRetryPolicy":{"minDelayTarget":3600,"maxDelayTarget":3600,"numRetries":2}}"#
        )
        .is_err());
        assert!(
            SubscriptionPolicy::parse(r#"{"healthyRetryPolicy":{"backoffFunction":"cubic"}}"#)
                .is_err()
        );
        let partial =
            TopicPolicy::parse(r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":5}}}"#);
        assert_eq!(partial.map(|p| p.http.retry.num_retries), Ok(5));
    }
}
