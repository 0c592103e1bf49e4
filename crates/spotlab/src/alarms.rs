//! `spotlab alarms`: CloudWatch's alarms through aws-sdk-cloudwatch (DescribeAlarms,
//! every page), one row each: state and since when, the metric or expression watched,
//! the condition, and the reason of the last change. Works against the local cloud and
//! AWS alike; changes nothing.

use anyhow::Context as _;
use aws_sdk_cloudwatch::primitives::{DateTime, DateTimeFormat};
use aws_sdk_cloudwatch::types::{AlarmType, CompositeAlarm, MetricAlarm, MetricDataQuery};
use serde::Serialize;

use crate::aws::{Clients, Context as _, next_token};
use crate::cli::AlarmsArgs;
use crate::view::{self, Show};

/// One alarm as shown; JSON members are named like DescribeAlarms' where they are its.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmRow {
    /// AlarmName.
    pub alarm_name: String,
    /// AlarmArn.
    pub alarm_arn: String,
    /// `MetricAlarm` or `CompositeAlarm`.
    pub alarm_type: &'static str,
    /// StateValue: `OK`, `ALARM`, `INSUFFICIENT_DATA`.
    pub state_value: String,
    /// StateUpdatedTimestamp, ISO 8601 (the cloud's clock, virtual locally).
    pub state_updated_timestamp: Option<String>,
    /// What is watched: `Namespace MetricName Stat/Periods [Dimensions]`, the
    /// expression of a metric-math alarm, or a composite alarm's rule.
    pub metric: String,
    /// When it is breached: `> 0.1 for 1 of 1`.
    pub condition: String,
    /// StateReason.
    pub state_reason: Option<String>,
}

/// Runs the command.
pub fn run(args: AlarmsArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let clients = Clients::new(&args.aws).await;
        let source = args.aws.target();
        let show = Show {
            title: "spotlab alarms",
            source: &source,
            watch: args.watch,
            format: args.format,
        };
        view::show(
            &show,
            || fetch(&clients.cloudwatch, args.prefix.as_deref()),
            |rows: &Vec<AlarmRow>| text(rows),
        )
        .await
        .with_context(|| format!("alarms at {source}"))
    })
}

/// Every alarm (metric and composite), by name.
async fn fetch(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    prefix: Option<&str>,
) -> anyhow::Result<Vec<AlarmRow>> {
    let mut rows = Vec::new();
    let mut token = None;
    loop {
        let page = cloudwatch
            .describe_alarms()
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .set_alarm_name_prefix(prefix.map(str::to_owned))
            .set_next_token(token)
            .send()
            .await
            .doing(|| "DescribeAlarms".to_owned())?;
        rows.extend(page.metric_alarms().iter().map(metric_row));
        rows.extend(page.composite_alarms().iter().map(composite_row));
        token = next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    rows.sort_by(|a, b| a.alarm_name.cmp(&b.alarm_name));
    Ok(rows)
}

fn iso(time: Option<&DateTime>) -> Option<String> {
    time.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
}

fn metric_row(alarm: &MetricAlarm) -> AlarmRow {
    let metric = match (alarm.namespace(), alarm.metric_name()) {
        (Some(namespace), Some(name)) => {
            let statistic = alarm
                .statistic()
                .map(|s| s.as_str())
                .or(alarm.extended_statistic())
                .unwrap_or("?");
            let mut text = format!(
                "{namespace} {name} {statistic}/{}s",
                alarm.period().unwrap_or_default()
            );
            let dimensions: Vec<String> = alarm
                .dimensions()
                .iter()
                .map(|d| {
                    format!(
                        "{}={}",
                        d.name().unwrap_or_default(),
                        d.value().unwrap_or_default()
                    )
                })
                .collect();
            if !dimensions.is_empty() {
                text.push(' ');
                text.push_str(&dimensions.join(","));
            }
            text
        }
        _ => math(alarm.metrics()),
    };
    AlarmRow {
        alarm_name: alarm.alarm_name().unwrap_or_default().to_owned(),
        alarm_arn: alarm.alarm_arn().unwrap_or_default().to_owned(),
        alarm_type: "MetricAlarm",
        state_value: alarm.state_value().map_or("?", |s| s.as_str()).to_owned(),
        state_updated_timestamp: iso(alarm.state_updated_timestamp()),
        metric,
        condition: condition(alarm),
        state_reason: alarm.state_reason().map(str::to_owned),
    }
}

/// A metric-math alarm's watched series: `id = expression` of the query that returns
/// data (or `id = Namespace MetricName Stat` for a plain one).
fn math(queries: &[MetricDataQuery]) -> String {
    let returned = queries
        .iter()
        .find(|q| q.return_data() == Some(true))
        .or_else(|| queries.iter().find(|q| q.expression().is_some()))
        .or(queries.first());
    let Some(query) = returned else {
        return String::new();
    };
    let what = match (query.expression(), query.metric_stat()) {
        (Some(expression), _) => expression.to_owned(),
        (None, Some(stat)) => {
            let metric = stat.metric();
            format!(
                "{} {} {}/{}s",
                metric.and_then(|m| m.namespace()).unwrap_or_default(),
                metric.and_then(|m| m.metric_name()).unwrap_or_default(),
                stat.stat().unwrap_or_default(),
                stat.period().unwrap_or_default()
            )
        }
        (None, None) => String::new(),
    };
    format!("{} = {what}", query.id().unwrap_or_default())
}

/// `> 0.1 for 2 of 3`: the comparison, the threshold (or the band's series), and how
/// many of the evaluated periods must breach.
fn condition(alarm: &MetricAlarm) -> String {
    let operator = alarm
        .comparison_operator()
        .map_or("?", |c| match c.as_str() {
            "GreaterThanThreshold" => ">",
            "GreaterThanOrEqualToThreshold" => ">=",
            "LessThanThreshold" => "<",
            "LessThanOrEqualToThreshold" => "<=",
            "GreaterThanUpperThreshold" => "above",
            "LessThanLowerThreshold" => "below",
            "LessThanLowerOrGreaterThanUpperThreshold" => "outside",
            other => other,
        });
    let threshold = match (alarm.threshold(), alarm.threshold_metric_id()) {
        (_, Some(band)) => band.to_owned(),
        (Some(value), None) => value.to_string(),
        (None, None) => "?".to_owned(),
    };
    let periods = alarm.evaluation_periods().unwrap_or(1);
    let breaching = alarm.datapoints_to_alarm().unwrap_or(periods);
    format!("{operator} {threshold} for {breaching} of {periods}")
}

fn composite_row(alarm: &CompositeAlarm) -> AlarmRow {
    AlarmRow {
        alarm_name: alarm.alarm_name().unwrap_or_default().to_owned(),
        alarm_arn: alarm.alarm_arn().unwrap_or_default().to_owned(),
        alarm_type: "CompositeAlarm",
        state_value: alarm.state_value().map_or("?", |s| s.as_str()).to_owned(),
        state_updated_timestamp: iso(alarm.state_updated_timestamp()),
        metric: alarm.alarm_rule().unwrap_or_default().to_owned(),
        condition: "rule".to_owned(),
        state_reason: alarm.state_reason().map(str::to_owned),
    }
}

/// The table.
fn text(rows: &[AlarmRow]) -> String {
    if rows.is_empty() {
        return "no alarms\n".to_owned();
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.alarm_name.clone(),
                row.state_value.clone(),
                row.state_updated_timestamp.clone().unwrap_or_default(),
                row.metric.clone(),
                row.condition.clone(),
                row.state_reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    view::table(
        &["NAME", "STATE", "SINCE", "METRIC", "CONDITION", "REASON"],
        &cells,
    )
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};

    use super::*;

    #[test]
    fn a_metric_alarm_is_one_row() {
        let alarm = MetricAlarm::builder()
            .alarm_name("errors")
            .alarm_arn("arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors")
            .state_value(StateValue::Alarm)
            .state_updated_timestamp(DateTime::from_secs(1_767_225_600))
            .state_reason("Threshold Crossed")
            .namespace("spotlab")
            .metric_name("Failures")
            .statistic(Statistic::Sum)
            .period(60)
            .dimensions(Dimension::builder().name("Fleet").value("f-1").build())
            .evaluation_periods(3)
            .datapoints_to_alarm(2)
            .threshold(0.1)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .build();
        let row = metric_row(&alarm);
        assert_eq!(row.metric, "spotlab Failures Sum/60s Fleet=f-1");
        assert_eq!(row.condition, "> 0.1 for 2 of 3");
        assert_eq!(
            row.state_updated_timestamp.as_deref(),
            Some("2026-01-01T00:00:00Z")
        );
        assert_eq!(
            text(&[row]),
            "NAME    STATE  SINCE                 METRIC                              CONDITION         REASON\n\
             errors  ALARM  2026-01-01T00:00:00Z  spotlab Failures Sum/60s Fleet=f-1  > 0.1 for 2 of 3  Threshold Crossed\n"
        );
    }

    #[test]
    fn a_metric_math_alarm_shows_its_expression() {
        let queries = [
            MetricDataQuery::builder()
                .id("m1")
                .return_data(false)
                .build(),
            MetricDataQuery::builder()
                .id("e1")
                .expression("100*m1/m2")
                .return_data(true)
                .build(),
        ];
        assert_eq!(math(&queries), "e1 = 100*m1/m2");
    }
}
