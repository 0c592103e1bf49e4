//! What the CloudWatch service answers, for the codec to render and botocore to read
//! back: one realistic value per operation with an output, and the error shapes.

use serde_json::{Value, json};

/// What the CloudWatch service answers, one realistic value per operation with an output.
pub fn answers() -> Vec<(&'static str, &'static str, Value)> {
    let dimension = json!([{"Name": "Svc", "Value": "api"}]);
    let alarm = json!({
        "AlarmName": "HighLatency", "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighLatency",
        "AlarmDescription": "Latenz über 100 ms ✓", "ActionsEnabled": true,
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:alerts"], "OKActions": [],
        "InsufficientDataActions": [], "StateValue": "ALARM",
        "StateReason": "Threshold Crossed: 2 out of the last 3 datapoints were greater than the threshold (100.0).",
        "StateReasonData": "{\"version\":\"1.0\",\"startDate\":\"2024-01-02T03:00:00.000+0000\"}",
        "StateUpdatedTimestamp": 1_704_164_645.5, "StateTransitionedTimestamp": 1_704_164_645,
        "AlarmConfigurationUpdatedTimestamp": 1_704_164_000.25,
        "MetricName": "Latency", "Namespace": "App", "Statistic": "Average",
        "Dimensions": dimension, "Period": 60, "Unit": "Milliseconds",
        "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 100.0,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "EvaluationState": null
    });
    let math_alarm = json!({
        "AlarmName": "error-rate", "StateValue": "INSUFFICIENT_DATA", "Threshold": 0.1,
        "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold",
        "ExtendedStatistic": null,
        "Metrics": [
            {"Id": "e1", "Expression": "errors / (errors + successes)", "Label": "Error rate", "ReturnData": true},
            {"Id": "errors", "ReturnData": false, "MetricStat": {
                "Metric": {"Namespace": "spotlab", "MetricName": "Error", "Dimensions": [{"Name": "FleetId", "Value": "fleet-1"}]},
                "Period": 60, "Stat": "Sum"}}
        ]
    });
    vec![
        (
            "describe-alarms",
            "DescribeAlarms",
            json!({
                "MetricAlarms": [alarm, math_alarm],
                "CompositeAlarms": [{
                    "AlarmName": "both", "AlarmRule": "ALARM(HighLatency) AND ALARM(error-rate)",
                    "ActionsEnabled": false, "ActionsSuppressorWaitPeriod": 120,
                    "StateUpdatedTimestamp": 1_704_164_645
                }],
                "LogAlarms": [{
                    "AlarmName": "logs", "Threshold": 5.0, "QueryResultsToAlarm": 1,
                    "ScheduledQueryConfiguration": {
                        "QueryString": "fields @message",
                        "ScheduleConfiguration": {"ScheduleExpression": "rate(5 minutes)", "StartTimeOffset": 300, "EndTimeOffset": -9_007_199_254_740_993_i64}
                    }
                }],
                "NextToken": "n-2"
            }),
        ),
        ("describe-alarms-empty", "DescribeAlarms", json!({})),
        ("describe-alarms-null", "DescribeAlarms", Value::Null),
        (
            "describe-alarms-for-metric",
            "DescribeAlarmsForMetric",
            json!({"MetricAlarms": [alarm]}),
        ),
        (
            "describe-alarm-history",
            "DescribeAlarmHistory",
            json!({
                "AlarmHistoryItems": [{
                    "AlarmName": "HighLatency", "AlarmType": "MetricAlarm", "Timestamp": 1_704_164_645.123,
                    "HistoryItemType": "StateUpdate",
                    "HistorySummary": "Alarm updated from OK to ALARM",
                    "HistoryData": "{\"version\":\"1.0\",\"oldState\":{\"stateValue\":\"OK\"}}",
                    "AlarmContributorAttributes": {"InstanceId": "i-0abc", "ünïcode": "✓"}
                }],
                "NextToken": null
            }),
        ),
        (
            "get-metric-data",
            "GetMetricData",
            json!({
                "MetricDataResults": [
                    {"Id": "e1", "Label": "Error rate", "StatusCode": "Complete",
                     "Timestamps": [1_704_164_640, 1_704_164_580, 1.5],
                     "Values": [0.25, 3.0, -0.0], "Messages": []},
                    {"Id": "m1", "StatusCode": "PartialData", "Timestamps": [], "Values": [],
                     "Messages": [{"Code": "MaxDatapointsExceeded", "Value": "100800"}]}
                ],
                "Messages": [{"Code": "Note", "Value": "x"}], "NextToken": "t"
            }),
        ),
        (
            "get-metric-statistics",
            "GetMetricStatistics",
            json!({
                "Label": "Latency",
                "Datapoints": [
                    {"Timestamp": 1_704_164_400, "Average": 12.5, "Unit": "Milliseconds"},
                    {"Timestamp": 1_704_164_460, "SampleCount": 3.0, "Sum": 36.0, "Minimum": 1.0,
                     "Maximum": 1e300, "ExtendedStatistics": {"p99": 120.0, "p50": 0.5}}
                ]
            }),
        ),
        (
            "list-metrics",
            "ListMetrics",
            json!({
                "Metrics": [
                    {"Namespace": "App", "MetricName": "Latency", "Dimensions": dimension},
                    {"Namespace": "App", "MetricName": "Sizes", "Dimensions": []}
                ],
                "OwningAccounts": ["123456789012"], "NextToken": "m-3"
            }),
        ),
        (
            "list-tags-for-resource",
            "ListTagsForResource",
            json!({"Tags": [{"Key": "spotlab:stack", "Value": "demo ✓"}, {"Key": "empty", "Value": ""}]}),
        ),
        ("tag-resource", "TagResource", json!({})),
        ("untag-resource", "UntagResource", json!({})),
    ]
}

/// The error shapes of fact sheet 1.5 that the trimmed CloudWatch model has, as
/// (code sent, shape, query code, status, fault side).
pub const ERRORS: [(&str, &str, &str, u16, &str); 11] = [
    (
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "InvalidParameterValue",
        400,
        "Sender",
    ),
    (
        "InvalidParameterValueException",
        "InvalidParameterValueException",
        "InvalidParameterValue",
        400,
        "Sender",
    ),
    (
        "InvalidParameterCombination",
        "InvalidParameterCombinationException",
        "InvalidParameterCombination",
        400,
        "Sender",
    ),
    (
        "MissingParameter",
        "MissingRequiredParameterException",
        "MissingParameter",
        400,
        "Sender",
    ),
    (
        "LimitExceeded",
        "LimitExceededFault",
        "LimitExceeded",
        400,
        "Sender",
    ),
    (
        "ResourceNotFound",
        "ResourceNotFound",
        "ResourceNotFound",
        404,
        "Sender",
    ),
    (
        "InternalServiceError",
        "InternalServiceFault",
        "InternalServiceError",
        500,
        "Receiver",
    ),
    (
        "InvalidNextToken",
        "InvalidNextToken",
        "InvalidNextToken",
        400,
        "Sender",
    ),
    (
        "InvalidFormat",
        "InvalidFormatFault",
        "InvalidFormat",
        400,
        "Sender",
    ),
    (
        "ResourceConflict",
        "ResourceConflict",
        "ResourceConflict",
        409,
        "Sender",
    ),
    (
        "ResourceNotFoundException",
        "ResourceNotFoundException",
        "ResourceNotFoundException",
        404,
        "Sender",
    ),
];
