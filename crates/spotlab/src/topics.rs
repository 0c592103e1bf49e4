//! `spotlab topics`: SNS's topics through aws-sdk-sns (ListTopics, then per topic
//! GetTopicAttributes and ListSubscriptionsByTopic, every page), each with its
//! subscription counts and its subscriptions: protocol, endpoint, confirmed or pending.
//! Works against the local cloud and AWS alike; changes nothing.

use anyhow::Context as _;
use serde::Serialize;

use crate::aws::{Clients, Context as _, next_token};
use crate::cli::TopicsArgs;
use crate::view::{self, Show};

/// One topic as shown; JSON members are named like SNS's where they are its.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopicRow {
    /// The topic's name (the ARN's last part).
    pub name: String,
    /// TopicArn.
    pub topic_arn: String,
    /// The `DisplayName` attribute, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The `SubscriptionsConfirmed` attribute.
    pub subscriptions_confirmed: Option<u64>,
    /// The `SubscriptionsPending` attribute.
    pub subscriptions_pending: Option<u64>,
    /// The `SubscriptionsDeleted` attribute.
    pub subscriptions_deleted: Option<u64>,
    /// Its subscriptions, as ListSubscriptionsByTopic gives them.
    pub subscriptions: Vec<SubscriptionRow>,
}

/// One subscription.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubscriptionRow {
    /// Protocol: `http`, `sqs`, `email`, ...
    pub protocol: String,
    /// Endpoint.
    pub endpoint: String,
    /// `confirmed`, `pending` (waiting for ConfirmSubscription), or what SNS says.
    pub status: String,
    /// SubscriptionArn: an ARN once confirmed, else `PendingConfirmation`.
    pub subscription_arn: String,
}

/// Runs the command.
pub fn run(args: TopicsArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let clients = Clients::new(&args.aws).await;
        let source = args.aws.target();
        let show = Show {
            title: "spotlab topics",
            source: &source,
            watch: args.watch,
            format: args.format,
        };
        view::show(
            &show,
            || fetch(&clients.sns),
            |rows: &Vec<TopicRow>| text(rows),
        )
        .await
        .with_context(|| format!("topics at {source}"))
    })
}

/// Every topic, by ARN, with its subscriptions.
async fn fetch(sns: &aws_sdk_sns::Client) -> anyhow::Result<Vec<TopicRow>> {
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let page = sns
            .list_topics()
            .set_next_token(token)
            .send()
            .await
            .doing(|| "ListTopics".to_owned())?;
        arns.extend(
            page.topics()
                .iter()
                .filter_map(|t| t.topic_arn())
                .map(str::to_owned),
        );
        token = next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    arns.sort();
    let mut rows = Vec::with_capacity(arns.len());
    for arn in arns {
        rows.push(topic(sns, arn).await?);
    }
    Ok(rows)
}

async fn topic(sns: &aws_sdk_sns::Client, arn: String) -> anyhow::Result<TopicRow> {
    let attributes = sns
        .get_topic_attributes()
        .topic_arn(&arn)
        .send()
        .await
        .doing(|| format!("GetTopicAttributes {arn}"))?;
    let attributes = attributes.attributes();
    let attribute = |name: &str| attributes.and_then(|a| a.get(name));
    let count = |name: &str| attribute(name).and_then(|v| v.parse().ok());
    let mut subscriptions = Vec::new();
    let mut token = None;
    loop {
        let page = sns
            .list_subscriptions_by_topic()
            .topic_arn(&arn)
            .set_next_token(token)
            .send()
            .await
            .doing(|| format!("ListSubscriptionsByTopic {arn}"))?;
        subscriptions.extend(page.subscriptions().iter().map(|s| {
            let subscription_arn = s.subscription_arn().unwrap_or_default().to_owned();
            SubscriptionRow {
                protocol: s.protocol().unwrap_or_default().to_owned(),
                endpoint: s.endpoint().unwrap_or_default().to_owned(),
                status: status(&subscription_arn),
                subscription_arn,
            }
        }));
        token = next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    Ok(TopicRow {
        name: arn.rsplit(':').next().unwrap_or_default().to_owned(),
        display_name: attribute("DisplayName").filter(|v| !v.is_empty()).cloned(),
        subscriptions_confirmed: count("SubscriptionsConfirmed"),
        subscriptions_pending: count("SubscriptionsPending"),
        subscriptions_deleted: count("SubscriptionsDeleted"),
        subscriptions,
        topic_arn: arn,
    })
}

/// What a subscription's ARN says of it: SNS lists a subscription waiting for its
/// confirmation as `PendingConfirmation`, and a confirmed one by its ARN.
fn status(subscription_arn: &str) -> String {
    if subscription_arn.starts_with("arn:") {
        "confirmed".to_owned()
    } else if subscription_arn == "PendingConfirmation" {
        "pending".to_owned()
    } else {
        subscription_arn.to_owned()
    }
}

/// Each topic on a line (name, ARN, counts), its subscriptions indented below.
fn text(rows: &[TopicRow]) -> String {
    if rows.is_empty() {
        return "no topics\n".to_owned();
    }
    let count = |n: Option<u64>| n.map_or("?".to_owned(), |n| n.to_string());
    let mut out = String::new();
    for topic in rows {
        out.push_str(&format!(
            "{}  {}  confirmed {}, pending {}, deleted {}\n",
            topic.name,
            topic.topic_arn,
            count(topic.subscriptions_confirmed),
            count(topic.subscriptions_pending),
            count(topic.subscriptions_deleted),
        ));
        if topic.subscriptions.is_empty() {
            out.push_str("  no subscriptions\n");
            continue;
        }
        let cells: Vec<Vec<String>> = topic
            .subscriptions
            .iter()
            .map(|s| {
                vec![
                    s.protocol.clone(),
                    s.endpoint.clone(),
                    s.status.clone(),
                    s.subscription_arn.clone(),
                ]
            })
            .collect();
        for line in view::table(&["PROTOCOL", "ENDPOINT", "STATUS", "SUBSCRIPTION"], &cells).lines()
        {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_list_their_subscriptions() {
        let rows = [TopicRow {
            name: "alerts".to_owned(),
            topic_arn: "arn:aws:sns:us-east-1:000000000000:alerts".to_owned(),
            display_name: None,
            subscriptions_confirmed: Some(1),
            subscriptions_pending: Some(1),
            subscriptions_deleted: Some(0),
            subscriptions: vec![
                SubscriptionRow {
                    protocol: "http".to_owned(),
                    endpoint: "http://127.0.0.1:9/".to_owned(),
                    status: status("PendingConfirmation"),
                    subscription_arn: "PendingConfirmation".to_owned(),
                },
                SubscriptionRow {
                    protocol: "sqs".to_owned(),
                    endpoint: "arn:aws:sqs:us-east-1:000000000000:q".to_owned(),
                    status: status("arn:aws:sns:us-east-1:000000000000:alerts:1"),
                    subscription_arn: "arn:aws:sns:us-east-1:000000000000:alerts:1".to_owned(),
                },
            ],
        }];
        assert_eq!(
            text(&rows),
            "alerts  arn:aws:sns:us-east-1:000000000000:alerts  confirmed 1, pending 1, deleted 0\n  \
             PROTOCOL  ENDPOINT                              STATUS     SUBSCRIPTION\n  \
             http      http://127.0.0.1:9/                   pending    PendingConfirmation\n  \
             sqs       arn:aws:sqs:us-east-1:000000000000:q  confirmed  arn:aws:sns:us-east-1:000000000000:alerts:1\n"
        );
    }
}
