//! What is left of a stack, seen through the official SDKs rather than through
//! spotlab: every VPC, subnet, security group, launch template and running instance
//! carrying the stack's tag, every topic, alarm and rule tagged with it,
//! the roles and instance profiles under `/spotlab/`, the buckets and Fault Injection
//! Service's experiment templates tagged with it.
//! The tests that tear stacks down assert that this is empty. Each test file uses a part
//! of it, so unused parts are not warnings.
#![allow(dead_code)]

use aws_config::BehaviorVersion;
use aws_sdk_ec2::types::Filter;

/// The stacks' tag key.
pub const STACK_TAG: &str = "spotlab:stack";

/// The SDKs' configuration for `endpoint` (us-east-1, dummy credentials), or for AWS
/// itself (the standard chain) when `endpoint` is `None`.
pub async fn config(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = endpoint {
        loader = loader
            .endpoint_url(url)
            .region(aws_sdk_ec2::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                "spotlab", "spotlab", None, None, "test",
            ));
    }
    loader.load().await
}

/// SDK clients for an endpoint (or for AWS when `endpoint` is `None`), with
/// CloudWatch possibly elsewhere.
pub struct Clients {
    ec2: aws_sdk_ec2::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    sns: aws_sdk_sns::Client,
    events: aws_sdk_eventbridge::Client,
    iam: aws_sdk_iam::Client,
    s3: aws_sdk_s3::Client,
    fis: aws_sdk_fis::Client,
}

impl Clients {
    /// Clients for `endpoint` (dummy credentials), CloudWatch's at `cloudwatch` when
    /// given; for AWS itself (the standard chain) when `endpoint` is `None`.
    pub async fn new(endpoint: Option<&str>, cloudwatch: Option<&str>) -> Clients {
        let config = config(endpoint).await;
        let cloudwatch = match cloudwatch {
            Some(url) => aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(&config)
                    .endpoint_url(url)
                    .build(),
            ),
            None => aws_sdk_cloudwatch::Client::new(&config),
        };
        Clients {
            ec2: aws_sdk_ec2::Client::new(&config),
            cloudwatch,
            sns: aws_sdk_sns::Client::new(&config),
            events: aws_sdk_eventbridge::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            fis: aws_sdk_fis::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    .force_path_style(endpoint.is_some())
                    .build(),
            ),
        }
    }

    /// The S3 client.
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    /// The EC2 client.
    pub fn ec2(&self) -> &aws_sdk_ec2::Client {
        &self.ec2
    }

    /// One line per resource still tagged with `stack` (or, for IAM, under /spotlab/
    /// and tagged with it).
    pub async fn leftovers(&self, stack: &str) -> Vec<String> {
        let mut left = Vec::new();
        let tagged = Filter::builder()
            .name(format!("tag:{STACK_TAG}"))
            .values(stack)
            .build();
        let vpcs = self
            .ec2
            .describe_vpcs()
            .filters(tagged.clone())
            .send()
            .await
            .expect("DescribeVpcs");
        left.extend(
            vpcs.vpcs()
                .iter()
                .map(|v| format!("VPC {}", v.vpc_id().unwrap_or_default())),
        );
        let subnets = self
            .ec2
            .describe_subnets()
            .filters(tagged.clone())
            .send()
            .await
            .expect("DescribeSubnets");
        left.extend(
            subnets
                .subnets()
                .iter()
                .map(|s| format!("subnet {}", s.subnet_id().unwrap_or_default())),
        );
        let groups = self
            .ec2
            .describe_security_groups()
            .filters(tagged.clone())
            .send()
            .await
            .expect("DescribeSecurityGroups");
        left.extend(
            groups
                .security_groups()
                .iter()
                .map(|g| format!("security group {}", g.group_id().unwrap_or_default())),
        );
        let templates = self
            .ec2
            .describe_launch_templates()
            .filters(tagged.clone())
            .send()
            .await
            .expect("DescribeLaunchTemplates");
        left.extend(templates.launch_templates().iter().map(|t| {
            format!(
                "launch template {}",
                t.launch_template_id().unwrap_or_default()
            )
        }));
        let running = self
            .ec2
            .describe_instances()
            .filters(
                Filter::builder()
                    .name("instance-state-name")
                    .values("pending")
                    .values("running")
                    .build(),
            )
            .filters(tagged.clone())
            .send()
            .await
            .expect("DescribeInstances");
        left.extend(
            running
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .map(|i| format!("instance {}", i.instance_id().unwrap_or_default())),
        );

        let topics = self.sns.list_topics().send().await.expect("ListTopics");
        for topic in topics.topics() {
            let arn = topic.topic_arn().unwrap_or_default();
            let tags = self
                .sns
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .expect("SNS ListTagsForResource");
            if tags
                .tags()
                .iter()
                .any(|t| t.key() == STACK_TAG && t.value() == stack)
            {
                left.push(format!("topic {arn}"));
            }
        }
        let alarms = self
            .cloudwatch
            .describe_alarms()
            .send()
            .await
            .expect("DescribeAlarms");
        for alarm in alarms.metric_alarms() {
            let arn = alarm.alarm_arn().unwrap_or_default();
            let tags = self
                .cloudwatch
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .expect("CloudWatch ListTagsForResource");
            if tags
                .tags()
                .iter()
                .any(|t| t.key() == Some(STACK_TAG) && t.value() == Some(stack))
            {
                left.push(format!("alarm {arn}"));
            }
        }
        let rules = self.events.list_rules().send().await.expect("ListRules");
        for rule in rules.rules() {
            let arn = rule.arn().unwrap_or_default();
            let tags = self
                .events
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .expect("EventBridge ListTagsForResource");
            if tags
                .tags()
                .iter()
                .any(|t| t.key() == STACK_TAG && t.value() == stack)
            {
                left.push(format!("rule {arn}"));
            }
        }
        let roles = self
            .iam
            .list_roles()
            .path_prefix("/spotlab/")
            .send()
            .await
            .expect("ListRoles");
        left.extend(roles.roles().iter().map(|r| format!("role {}", r.arn())));
        let profiles = self
            .iam
            .list_instance_profiles()
            .path_prefix("/spotlab/")
            .send()
            .await
            .expect("ListInstanceProfiles");
        left.extend(
            profiles
                .instance_profiles()
                .iter()
                .map(|p| format!("instance profile {}", p.arn())),
        );
        let templates = self
            .fis
            .list_experiment_templates()
            .send()
            .await
            .expect("ListExperimentTemplates");
        for template in templates.experiment_templates() {
            if template
                .tags()
                .and_then(|t| t.get(STACK_TAG))
                .is_some_and(|v| v == stack)
            {
                left.push(format!(
                    "experiment template {}",
                    template.id().unwrap_or_default()
                ));
            }
        }
        let buckets = self.s3.list_buckets().send().await.expect("ListBuckets");
        for bucket in buckets.buckets() {
            let name = bucket.name().unwrap_or_default();
            if let Ok(tags) = self.s3.get_bucket_tagging().bucket(name).send().await
                && tags
                    .tag_set()
                    .iter()
                    .any(|t| t.key() == STACK_TAG && t.value() == stack)
            {
                left.push(format!("bucket {name}"));
            }
        }
        left
    }
}
