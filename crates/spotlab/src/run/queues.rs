//! How a run on AWS counts what each topic delivers: AWS has no `file` subscriptions,
//! so every topic gets an SQS queue of the run's own (its policy lets only that topic
//! send), subscribed without raw delivery, so each message is SNS's JSON envelope. Each
//! look drains the queues into the same JSON-lines files the local cloud's `file`
//! subscriptions write, so the rest of the run reads one format. The queues and
//! subscriptions go when the run ends.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, QueueAttributeName};

use crate::aws::{Clients, Context as _};

/// One topic's queue.
struct Queue {
    topic: String,
    url: String,
    subscription: Option<String>,
    file: PathBuf,
}

/// The run's queues.
pub struct Queues {
    sqs: aws_sdk_sqs::Client,
    sns: aws_sdk_sns::Client,
    queues: Vec<Queue>,
}

/// The access policy that lets `topic_arn` (and nothing else) send to `queue_arn`.
fn policy(queue_arn: &str, topic_arn: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "sns.amazonaws.com" },
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": { "ArnEquals": { "aws:SourceArn": topic_arn } }
        }]
    })
    .to_string()
}

impl Queues {
    /// A queue per topic (`topics`: name to ARN), named after the run, subscribed;
    /// messages go to `dir/<topic>.jsonl`.
    pub async fn subscribe(
        clients: &Clients,
        topics: &BTreeMap<String, String>,
        dir: &Path,
        run: &str,
    ) -> anyhow::Result<Queues> {
        let mut queues = Queues {
            sqs: clients.sqs.clone(),
            sns: clients.sns.clone(),
            queues: Vec::new(),
        };
        for (index, (name, topic_arn)) in topics.iter().enumerate() {
            // Queue names are at most 80 characters of [A-Za-z0-9_-].
            let run: String = run
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .take(60)
                .collect();
            let queue_name = format!("spotlab-{run}-{index}");
            let created = queues
                .sqs
                .create_queue()
                .queue_name(&queue_name)
                .tags("spotlab:run", &run)
                .send()
                .await
                .doing(|| format!("creating queue {queue_name} for topic {name}"))?;
            let url = created
                .queue_url()
                .ok_or_else(|| anyhow::anyhow!("CreateQueue answered without a QueueUrl"))?
                .to_owned();
            queues.queues.push(Queue {
                topic: name.clone(),
                url: url.clone(),
                subscription: None,
                file: dir.join(format!("{name}.jsonl")),
            });
            let attributes = queues
                .sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .doing(|| format!("reading the ARN of queue {queue_name}"))?;
            let queue_arn = attributes
                .attributes()
                .and_then(|a| a.get(&QueueAttributeName::QueueArn))
                .ok_or_else(|| anyhow::anyhow!("GetQueueAttributes answered without a QueueArn"))?
                .clone();
            queues
                .sqs
                .set_queue_attributes()
                .queue_url(&url)
                .attributes(QueueAttributeName::Policy, policy(&queue_arn, topic_arn))
                .send()
                .await
                .doing(|| format!("letting topic {name} send to queue {queue_name}"))?;
            let subscribed = queues
                .sns
                .subscribe()
                .topic_arn(topic_arn)
                .protocol("sqs")
                .endpoint(&queue_arn)
                .return_subscription_arn(true)
                .send()
                .await
                .doing(|| format!("subscribing queue {queue_name} to topic {name}"))?;
            if let Some(queue) = queues.queues.last_mut() {
                queue.subscription = subscribed.subscription_arn().map(str::to_owned);
            }
        }
        Ok(queues)
    }

    /// Moves every message waiting in the queues to its topic's file.
    pub async fn drain(&self) -> anyhow::Result<()> {
        for queue in &self.queues {
            loop {
                let received = self
                    .sqs
                    .receive_message()
                    .queue_url(&queue.url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(0)
                    .send()
                    .await
                    .doing(|| format!("receiving {}'s messages", queue.topic))?;
                let messages = received.messages();
                if messages.is_empty() {
                    break;
                }
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&queue.file)
                    .with_context(|| format!("opening {}", queue.file.display()))?;
                let mut done = Vec::new();
                for (index, message) in messages.iter().enumerate() {
                    if let Some(body) = message.body() {
                        // One line per envelope, as the `file` protocol writes them.
                        let line = serde_json::from_str::<serde_json::Value>(body)
                            .map(|v| v.to_string())
                            .unwrap_or_else(|_| body.replace('\n', " "));
                        writeln!(file, "{line}")
                            .with_context(|| format!("writing {}", queue.file.display()))?;
                    }
                    if let Some(handle) = message.receipt_handle() {
                        done.push(
                            DeleteMessageBatchRequestEntry::builder()
                                .id(index.to_string())
                                .receipt_handle(handle)
                                .build()?,
                        );
                    }
                }
                if !done.is_empty() {
                    self.sqs
                        .delete_message_batch()
                        .queue_url(&queue.url)
                        .set_entries(Some(done))
                        .send()
                        .await
                        .doing(|| format!("deleting {}'s received messages", queue.topic))?;
                }
            }
        }
        Ok(())
    }

    /// Unsubscribes and deletes the queues; failures are reported, not fatal.
    pub async fn remove(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for queue in &self.queues {
            if let Some(arn) = queue
                .subscription
                .as_deref()
                .filter(|a| a.starts_with("arn:"))
                && let Err(e) = self
                    .sns
                    .unsubscribe()
                    .subscription_arn(arn)
                    .send()
                    .await
                    .doing(|| format!("unsubscribing {arn}"))
            {
                problems.push(format!("{e:#}"));
            }
            if let Err(e) = self
                .sqs
                .delete_queue()
                .queue_url(&queue.url)
                .send()
                .await
                .doing(|| format!("deleting queue {}", queue.url))
            {
                problems.push(format!("{e:#}"));
            }
        }
        problems
    }
}
