//! Topic and subscription ARNs: `arn:aws:sns:<region>:<account>:<name>` and
//! `<topic ARN>:<uuid>`, checked the way SNS checks them, with its messages.

use crate::ApiError;

use super::input::invalid;

/// The longest topic name, FIFO suffix included.
const NAME_MAX: usize = 256;

/// Whether `name` is a valid topic name: 1 to 256 of `[A-Za-z0-9_-]`, plus the `.fifo`
/// suffix when `fifo`.
pub(super) fn valid_topic_name(name: &str, fifo: bool) -> bool {
    let stem = if fifo {
        match name.strip_suffix(".fifo") {
            Some(stem) => stem,
            None => return false,
        }
    } else {
        name
    };
    !stem.is_empty()
        && name.len() <= NAME_MAX
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The error for an ARN with fewer than six `:`-separated parts.
fn too_short(member: &str, parts: usize) -> ApiError {
    invalid(format_args!(
        "{member} Reason: An ARN must have at least 6 elements, not {parts}"
    ))
}

/// Checks a topic ARN given as `member` (`TopicArn`, `TargetArn`) against this
/// region: a malformed ARN or another region is `InvalidParameter`; a well-formed one
/// is returned for the caller to look up (an unknown one is then `NotFound`).
pub(super) fn check_topic_arn<'a>(
    arn: &'a str,
    member: &str,
    region: &str,
) -> Result<&'a str, ApiError> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 6 {
        return Err(too_short(member, parts.len()));
    }
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5].is_empty() {
        return Err(invalid(member));
    }
    if parts[3] != region {
        return Err(invalid(member));
    }
    Ok(arn)
}

/// Checks a subscription ARN: fewer than six parts, a bare topic ARN (`SubscriptionId`
/// missing) or anything else malformed is `InvalidParameter`.
pub(super) fn check_subscription_arn(arn: &str) -> Result<&str, ApiError> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 6 {
        return Err(too_short("SubscriptionArn", parts.len()));
    }
    if parts.len() == 6 {
        return Err(invalid("SubscriptionId"));
    }
    if parts.len() != 7 || parts[0] != "arn" || parts[2] != "sns" || parts[6].is_empty() {
        return Err(invalid("SubscriptionArn"));
    }
    Ok(arn)
}

/// Whether `endpoint` is an ARN of `service` with a non-empty resource
/// (`arn:<partition>:<service>:<region>:<account>:<resource>`).
pub(super) fn is_service_arn(endpoint: &str, service: &str) -> bool {
    let parts: Vec<&str> = endpoint.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == service
        && !parts[4].is_empty()
        && !parts[5].is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_sns_rules() {
        assert!(valid_topic_name("alarms", false));
        assert!(valid_topic_name("a-b_C9", false));
        assert!(!valid_topic_name("", false));
        assert!(!valid_topic_name("has space", false));
        assert!(!valid_topic_name("dots.are.bad", false));
        assert!(!valid_topic_name(&"x".repeat(257), false));
        assert!(valid_topic_name(&"x".repeat(256), false));
        assert!(valid_topic_name("orders.fifo", true));
        assert!(!valid_topic_name("orders", true));
        assert!(!valid_topic_name(".fifo", true));
        assert!(!valid_topic_name("orders.fifo", false));
    }

    #[test]
    fn arns_are_checked_with_sns_messages() {
        let short = check_topic_arn("arn:aws:sns", "TopicArn", "us-east-1");
        assert_eq!(
            short.map_err(|e| e.message),
            Err(
                "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 3"
                    .to_owned()
            )
        );
        assert!(
            check_topic_arn(
                "arn:aws:sns:us-east-1:123456789012:t",
                "TopicArn",
                "us-east-1"
            )
            .is_ok()
        );
        assert!(
            check_topic_arn(
                "arn:aws:sns:eu-west-1:123456789012:t",
                "TopicArn",
                "us-east-1"
            )
            .is_err()
        );
        assert_eq!(
            check_subscription_arn("arn:aws:sns:us-east-1:123456789012:t").map_err(|e| e.message),
            Err("Invalid parameter: SubscriptionId".to_owned())
        );
        assert!(is_service_arn(
            "arn:aws:sqs:us-east-1:123456789012:q",
            "sqs"
        ));
        assert!(!is_service_arn("arn:aws:sqs:us-east-1::q", "sqs"));
        assert!(!is_service_arn("https://sqs", "sqs"));
    }
}
