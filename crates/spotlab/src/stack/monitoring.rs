//! A stack's monitoring through the SDKs: SNS topics and subscriptions, CloudWatch
//! alarms, EventBridge rules and targets. Each is known by its name, as AWS knows it:
//! CreateTopic, PutMetricAlarm and PutRule are idempotent by name (the last two replace
//! the configuration, keeping an alarm's state), and subscriptions and targets are
//! compared with what exists before anything is added.

use std::collections::BTreeMap;

use anyhow::bail;
use aws_sdk_cloudwatch::types::Dimension;

use super::note;
use super::spec::{Reference, STACK_TAG, Stack};
use crate::aws::{Context as _, next_token};

/// What `up` made of the stack's monitoring: ARNs by name.
#[derive(Clone, Debug, Default)]
pub struct Monitoring {
    /// Topic name to topic ARN.
    pub topic_arns: BTreeMap<String, String>,
    /// Alarm name to alarm ARN.
    pub alarm_arns: BTreeMap<String, String>,
    /// Rule name to rule ARN.
    pub rule_arns: BTreeMap<String, String>,
}

/// The clients monitoring needs.
pub struct Clients<'a> {
    /// CloudWatch.
    pub cloudwatch: &'a aws_sdk_cloudwatch::Client,
    /// SNS.
    pub sns: &'a aws_sdk_sns::Client,
    /// EventBridge.
    pub events: &'a aws_sdk_eventbridge::Client,
}

fn resolve(reference: &Reference, topics: &BTreeMap<String, String>) -> anyhow::Result<String> {
    match reference {
        Reference::Arn(arn) => Ok(arn.clone()),
        Reference::Topic(name) => topics
            .get(name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("topic {name} was not created")),
    }
}

fn resolve_all(
    references: &[Reference],
    topics: &BTreeMap<String, String>,
) -> anyhow::Result<Vec<String>> {
    references.iter().map(|r| resolve(r, topics)).collect()
}

/// Creates or updates the topics, subscriptions, alarms and rules.
pub async fn up(clients: &Clients<'_>, stack: &Stack) -> anyhow::Result<Monitoring> {
    let topic_arns = topics(clients.sns, stack).await?;
    let alarm_arns = alarms(clients.cloudwatch, stack, &topic_arns).await?;
    let rule_arns = rules(clients.events, stack, &topic_arns).await?;
    Ok(Monitoring {
        topic_arns,
        alarm_arns,
        rule_arns,
    })
}

async fn topics(
    sns: &aws_sdk_sns::Client,
    stack: &Stack,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut arns = BTreeMap::new();
    for topic in &stack.topics {
        let created = sns
            .create_topic()
            .name(&topic.name)
            .set_attributes((!topic.attributes.is_empty()).then(|| {
                topic
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            }))
            .send()
            .await
            .doing(|| format!("creating topic {}", topic.name))?;
        let arn = created
            .topic_arn()
            .ok_or_else(|| {
                anyhow::anyhow!("CreateTopic {} answered without a TopicArn", topic.name)
            })?
            .to_owned();
        // Tagged apart from CreateTopic, which refuses an existing topic's name when
        // the tags differ (a topic made before it carried them).
        sns.tag_resource()
            .resource_arn(&arn)
            .tags(
                aws_sdk_sns::types::Tag::builder()
                    .key(STACK_TAG)
                    .value(&stack.name)
                    .build()?,
            )
            .send()
            .await
            .doing(|| format!("tagging topic {}", topic.name))?;
        if !topic.subscriptions.is_empty() {
            let existing = subscriptions(sns, &arn).await?;
            for subscription in &topic.subscriptions {
                let present = existing.iter().any(|s| {
                    s.protocol() == Some(subscription.protocol.as_str())
                        && s.endpoint() == Some(subscription.endpoint.as_str())
                });
                if present {
                    continue;
                }
                let answer = sns
                    .subscribe()
                    .topic_arn(&arn)
                    .protocol(&subscription.protocol)
                    .endpoint(&subscription.endpoint)
                    .set_attributes((!subscription.attributes.is_empty()).then(|| {
                        subscription
                            .attributes
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    }))
                    .send()
                    .await
                    .doing(|| {
                        format!(
                            "subscribing {} {} to topic {}",
                            subscription.protocol, subscription.endpoint, topic.name
                        )
                    })?;
                note(
                    stack,
                    &format!(
                        "subscribed {} {} to topic {} ({})",
                        subscription.protocol,
                        subscription.endpoint,
                        topic.name,
                        answer.subscription_arn().unwrap_or_default()
                    ),
                );
            }
        }
        arns.insert(topic.name.clone(), arn);
    }
    Ok(arns)
}

async fn subscriptions(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
) -> anyhow::Result<Vec<aws_sdk_sns::types::Subscription>> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = sns
            .list_subscriptions_by_topic()
            .topic_arn(topic_arn)
            .set_next_token(token)
            .send()
            .await
            .doing(|| format!("listing the subscriptions of {topic_arn}"))?;
        all.extend(page.subscriptions().iter().cloned());
        token = next_token(page.next_token());
        if token.is_none() {
            return Ok(all);
        }
    }
}

async fn alarms(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    stack: &Stack,
    topics: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    for alarm in &stack.alarms {
        let dimensions = alarm
            .dimensions
            .iter()
            .map(|(name, value)| Dimension::builder().name(name).value(value).build())
            .collect::<Vec<_>>();
        cloudwatch
            .put_metric_alarm()
            .alarm_name(&alarm.name)
            .set_alarm_description(alarm.description.clone())
            .set_actions_enabled(alarm.actions_enabled)
            .set_ok_actions(Some(resolve_all(&alarm.ok_actions, topics)?))
            .set_alarm_actions(Some(resolve_all(&alarm.alarm_actions, topics)?))
            .set_insufficient_data_actions(Some(resolve_all(
                &alarm.insufficient_data_actions,
                topics,
            )?))
            .set_metric_name(alarm.metric_name.clone())
            .set_namespace(alarm.namespace.clone())
            .set_statistic(alarm.statistic.clone())
            .set_extended_statistic(alarm.extended_statistic.clone())
            .set_dimensions((!dimensions.is_empty()).then_some(dimensions))
            .set_period(alarm.period)
            .set_unit(alarm.unit.clone())
            .evaluation_periods(alarm.evaluation_periods)
            .set_datapoints_to_alarm(alarm.datapoints_to_alarm)
            .set_threshold(alarm.threshold)
            .comparison_operator(alarm.comparison_operator.clone())
            .set_treat_missing_data(alarm.treat_missing_data.clone())
            .set_evaluate_low_sample_count_percentile(
                alarm.evaluate_low_sample_count_percentile.clone(),
            )
            .set_metrics((!alarm.metrics.is_empty()).then(|| alarm.metrics.clone()))
            .set_threshold_metric_id(alarm.threshold_metric_id.clone())
            .send()
            .await
            .doing(|| format!("putting alarm {}", alarm.name))?;
    }
    let names: Vec<String> = stack.alarms.iter().map(|a| a.name.clone()).collect();
    let described = existing_alarms(cloudwatch, &names).await?;
    for name in &names {
        if !described.contains_key(name) {
            bail!("alarm {name} was put but DescribeAlarms does not show it");
        }
    }
    // PutMetricAlarm applies Tags only when it creates the alarm: tagged apart.
    for (name, arn) in &described {
        cloudwatch
            .tag_resource()
            .resource_arn(arn)
            .tags(
                aws_sdk_cloudwatch::types::Tag::builder()
                    .key(STACK_TAG)
                    .value(&stack.name)
                    .build(),
            )
            .send()
            .await
            .doing(|| format!("tagging alarm {name}"))?;
    }
    Ok(described)
}

/// The alarms among `names` that exist, with their ARNs.
async fn existing_alarms(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    names: &[String],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut found = BTreeMap::new();
    for chunk in names.chunks(100) {
        let mut token = None;
        loop {
            let page = cloudwatch
                .describe_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .set_next_token(token)
                .send()
                .await
                .doing(|| format!("describing alarms {}", chunk.join(", ")))?;
            for alarm in page.metric_alarms() {
                if let (Some(name), Some(arn)) = (alarm.alarm_name(), alarm.alarm_arn()) {
                    found.insert(name.to_owned(), arn.to_owned());
                }
            }
            token = next_token(page.next_token());
            if token.is_none() {
                break;
            }
        }
    }
    Ok(found)
}

async fn rules(
    events: &aws_sdk_eventbridge::Client,
    stack: &Stack,
    topics: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut arns = BTreeMap::new();
    for rule in &stack.rules {
        let put = events
            .put_rule()
            .name(&rule.name)
            .set_event_pattern(rule.event_pattern.clone())
            .set_schedule_expression(rule.schedule_expression.clone())
            .set_state(rule.state.clone())
            .set_description(rule.description.clone())
            .send()
            .await
            .doing(|| format!("putting rule {}", rule.name))?;
        let arn = put
            .rule_arn()
            .ok_or_else(|| anyhow::anyhow!("PutRule {} answered without a RuleArn", rule.name))?
            .to_owned();
        // PutRule applies Tags only when it creates the rule: tagged apart.
        events
            .tag_resource()
            .resource_arn(&arn)
            .tags(
                aws_sdk_eventbridge::types::Tag::builder()
                    .key(STACK_TAG)
                    .value(&stack.name)
                    .build()?,
            )
            .send()
            .await
            .doing(|| format!("tagging rule {}", rule.name))?;
        let existing = targets(events, &rule.name).await?;
        let stale: Vec<String> = existing
            .iter()
            .filter(|t| !rule.targets.iter().any(|want| want.id == t.id()))
            .map(|t| t.id().to_owned())
            .collect();
        if !stale.is_empty() {
            events
                .remove_targets()
                .rule(&rule.name)
                .set_ids(Some(stale.clone()))
                .send()
                .await
                .doing(|| {
                    format!(
                        "removing targets {} of rule {}",
                        stale.join(", "),
                        rule.name
                    )
                })?;
            note(
                stack,
                &format!(
                    "removed target(s) {} of rule {}: no longer in the file",
                    stale.join(", "),
                    rule.name
                ),
            );
        }
        let mut wanted = Vec::new();
        for target in &rule.targets {
            let built = aws_sdk_eventbridge::types::Target::builder()
                .id(&target.id)
                .arn(resolve(&target.destination, topics)?)
                .set_input(target.input.clone())
                .set_input_path(target.input_path.clone())
                .build()?;
            let same = existing.iter().any(|t| {
                t.id() == built.id()
                    && t.arn() == built.arn()
                    && t.input() == built.input()
                    && t.input_path() == built.input_path()
            });
            if !same {
                wanted.push(built);
            }
        }
        for chunk in wanted.chunks(10) {
            let answer = events
                .put_targets()
                .rule(&rule.name)
                .set_targets(Some(chunk.to_vec()))
                .send()
                .await
                .doing(|| format!("putting the targets of rule {}", rule.name))?;
            if let Some(failure) = answer.failed_entries().first() {
                bail!(
                    "putting target {} of rule {}: {}: {}",
                    failure.target_id().unwrap_or_default(),
                    rule.name,
                    failure.error_code().unwrap_or_default(),
                    failure.error_message().unwrap_or_default()
                );
            }
        }
        arns.insert(rule.name.clone(), arn);
    }
    Ok(arns)
}

/// A rule's targets; empty when the rule does not exist.
async fn targets(
    events: &aws_sdk_eventbridge::Client,
    rule: &str,
) -> anyhow::Result<Vec<aws_sdk_eventbridge::types::Target>> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = events
            .list_targets_by_rule()
            .rule(rule)
            .set_next_token(token)
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(Vec::new());
            }
            Err(error) => {
                return Err(error).doing(|| format!("listing the targets of rule {rule}"));
            }
        };
        all.extend(page.targets().iter().cloned());
        token = next_token(page.next_token());
        if token.is_none() {
            return Ok(all);
        }
    }
}

/// Deletes the file's rules (targets first), alarms, and topics (subscriptions
/// first); those that do not exist are skipped.
pub async fn down(clients: &Clients<'_>, stack: &Stack) -> anyhow::Result<()> {
    let rules: Vec<String> = stack.rules.iter().map(|r| r.name.clone()).collect();
    let alarms: Vec<String> = stack.alarms.iter().map(|a| a.name.clone()).collect();
    let topics: Vec<String> = stack.topics.iter().map(|t| t.name.clone()).collect();
    delete(clients, stack, &rules, &alarms, &topics).await
}

/// Deletes these rules (targets first), alarms, and topics (subscriptions first);
/// those that do not exist are skipped.
pub async fn delete(
    clients: &Clients<'_>,
    stack: &Stack,
    rules: &[String],
    alarms: &[String],
    topics: &[String],
) -> anyhow::Result<()> {
    for rule in rules {
        let exists = match clients.events.describe_rule().name(rule).send().await {
            Ok(_) => true,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                false
            }
            Err(error) => return Err(error).doing(|| format!("describing rule {rule}")),
        };
        if !exists {
            continue;
        }
        let ids: Vec<String> = targets(clients.events, rule)
            .await?
            .iter()
            .map(|t| t.id().to_owned())
            .collect();
        for chunk in ids.chunks(100) {
            clients
                .events
                .remove_targets()
                .rule(rule)
                .set_ids(Some(chunk.to_vec()))
                .send()
                .await
                .doing(|| format!("removing the targets of rule {rule}"))?;
        }
        clients
            .events
            .delete_rule()
            .name(rule)
            .send()
            .await
            .doing(|| format!("deleting rule {rule}"))?;
        note(stack, &format!("deleted rule {rule}"));
    }

    let existing: Vec<String> = existing_alarms(clients.cloudwatch, alarms)
        .await?
        .into_keys()
        .collect();
    for chunk in existing.chunks(100) {
        clients
            .cloudwatch
            .delete_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .send()
            .await
            .doing(|| format!("deleting alarms {}", chunk.join(", ")))?;
        note(stack, &format!("deleted alarm(s) {}", chunk.join(", ")));
    }

    if topics.is_empty() {
        return Ok(());
    }
    let topic_arns = existing_topics(clients.sns).await?;
    for topic in topics {
        let Some(arn) = topic_arns.get(topic) else {
            continue;
        };
        for subscription in subscriptions(clients.sns, arn).await? {
            // A subscription still waiting for its confirmation has no ARN yet; it goes
            // with the topic.
            let Some(id) = subscription
                .subscription_arn()
                .filter(|id| id.starts_with("arn:"))
            else {
                continue;
            };
            clients
                .sns
                .unsubscribe()
                .subscription_arn(id)
                .send()
                .await
                .doing(|| format!("unsubscribing {id}"))?;
        }
        clients
            .sns
            .delete_topic()
            .topic_arn(arn)
            .send()
            .await
            .doing(|| format!("deleting topic {topic}"))?;
        note(stack, &format!("deleted topic {topic}"));
    }
    Ok(())
}

/// A stack's monitoring resources found by their tag (names).
#[derive(Clone, Debug, Default)]
pub struct Tagged {
    /// Rule names.
    pub rules: Vec<String>,
    /// Alarm names.
    pub alarms: Vec<String>,
    /// Topic names.
    pub topics: Vec<String>,
}

/// Every topic, alarm and rule of the account (rules on the default bus) that carries
/// a stack's tag, by stack name.
pub async fn tagged(clients: &Clients<'_>) -> anyhow::Result<BTreeMap<String, Tagged>> {
    let mut found: BTreeMap<String, Tagged> = BTreeMap::new();
    for (name, arn) in existing_topics(clients.sns).await? {
        let tags = clients
            .sns
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .doing(|| format!("listing the tags of topic {name}"))?;
        if let Some(tag) = tags.tags().iter().find(|t| t.key() == STACK_TAG) {
            found
                .entry(tag.value().to_owned())
                .or_default()
                .topics
                .push(name);
        }
    }
    let mut pages = clients.cloudwatch.describe_alarms().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.doing(|| "describing alarms".to_owned())?;
        for alarm in page.metric_alarms() {
            let (Some(name), Some(arn)) = (alarm.alarm_name(), alarm.alarm_arn()) else {
                continue;
            };
            let tags = clients
                .cloudwatch
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .doing(|| format!("listing the tags of alarm {name}"))?;
            if let Some(value) = tags
                .tags()
                .iter()
                .find(|t| t.key() == Some(STACK_TAG))
                .and_then(|t| t.value())
            {
                found
                    .entry(value.to_owned())
                    .or_default()
                    .alarms
                    .push(name.to_owned());
            }
        }
    }
    let mut token = None;
    loop {
        let page = clients
            .events
            .list_rules()
            .set_next_token(token)
            .send()
            .await
            .doing(|| "listing rules".to_owned())?;
        for rule in page.rules() {
            let (Some(name), Some(arn)) = (rule.name(), rule.arn()) else {
                continue;
            };
            let tags = clients
                .events
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .doing(|| format!("listing the tags of rule {name}"))?;
            if let Some(tag) = tags.tags().iter().find(|t| t.key() == STACK_TAG) {
                found
                    .entry(tag.value().to_owned())
                    .or_default()
                    .rules
                    .push(name.to_owned());
            }
        }
        token = next_token(page.next_token());
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// Every topic of the account: name to ARN.
async fn existing_topics(sns: &aws_sdk_sns::Client) -> anyhow::Result<BTreeMap<String, String>> {
    let mut found = BTreeMap::new();
    let mut token = None;
    loop {
        let page = sns
            .list_topics()
            .set_next_token(token)
            .send()
            .await
            .doing(|| "listing topics".to_owned())?;
        for topic in page.topics() {
            if let Some(arn) = topic.topic_arn()
                && let Some(name) = arn.rsplit(':').next()
            {
                found.insert(name.to_owned(), arn.to_owned());
            }
        }
        token = next_token(page.next_token());
        if token.is_none() {
            return Ok(found);
        }
    }
}
