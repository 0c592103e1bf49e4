//! A checked stack: what `stack up` creates and `stack down` deletes, every value
//! already validated (enums are the SDKs' own), so the code that calls AWS re-checks
//! nothing. `file.rs` builds it from the stack file.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The tag key that marks a stack's EC2 resources (its value is the stack's name).
pub const STACK_TAG: &str = "spotlab:stack";
/// A checked stack.
#[derive(Clone, Debug)]
pub struct Stack {
    /// The stack's name: the value of [`STACK_TAG`] on its EC2 resources.
    pub name: String,
    /// The VPC, if the stack has a network.
    pub vpc: Option<Vpc>,
    /// Subnets of the VPC, in the file's order.
    pub subnets: Vec<Subnet>,
    /// The security group in the VPC.
    pub security_group: Option<SecurityGroup>,
    /// The launch template.
    pub launch_template: Option<LaunchTemplate>,
    /// SNS topics with their subscriptions.
    pub topics: Vec<Topic>,
    /// CloudWatch alarms.
    pub alarms: Vec<Alarm>,
    /// EventBridge rules with their targets.
    pub rules: Vec<Rule>,
    /// The instances' IAM role and its instance profile.
    pub instance_profile: Option<InstanceProfile>,
    /// The role AWS Fault Injection Service assumes to interrupt the stack's Spot
    /// instances (`interrupt` steps).
    pub fault_injection_role: Option<Role>,
    /// The S3 bucket for checkpoints (and the agent's binary).
    pub bucket: Option<Bucket>,
}

impl Stack {
    /// A stack known by its name only (what `cleanup` finds by tag).
    pub fn named(name: &str) -> Stack {
        Stack {
            name: name.to_owned(),
            vpc: None,
            subnets: Vec::new(),
            security_group: None,
            launch_template: None,
            topics: Vec::new(),
            alarms: Vec::new(),
            rules: Vec::new(),
            instance_profile: None,
            fault_injection_role: None,
            bucket: None,
        }
    }
}

/// A tag.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// The VPC (CreateVpc).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Vpc {
    /// IPv4 CIDR block, e.g. `10.0.0.0/16`.
    pub cidr_block: String,
    /// Tags besides the stack's own.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// A subnet (CreateSubnet).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Subnet {
    /// IPv4 CIDR block inside the VPC's; identifies the subnet within the stack.
    pub cidr_block: String,
    /// Availability zone, e.g. `us-east-1a`.
    pub availability_zone: String,
    /// Tags besides the stack's own.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// The security group (CreateSecurityGroup, AuthorizeSecurityGroupIngress).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct SecurityGroup {
    /// Group name, unique in the VPC.
    pub group_name: String,
    /// Description (required by EC2).
    pub description: String,
    /// Inbound rules.
    #[serde(default)]
    pub ingress: Vec<Ingress>,
    /// Tags besides the stack's own.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// One inbound rule, as AuthorizeSecurityGroupIngress's top-level members take it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Ingress {
    /// `tcp`, `udp`, `icmp` or `-1` (all).
    pub ip_protocol: String,
    /// First port (ICMP type).
    pub from_port: Option<i32>,
    /// Last port (ICMP code).
    pub to_port: Option<i32>,
    /// Source range, e.g. `0.0.0.0/0`.
    pub cidr_ip: String,
}

/// The launch template (CreateLaunchTemplate and its LaunchTemplateData).
#[derive(Clone, Debug)]
pub struct LaunchTemplate {
    /// LaunchTemplateName.
    pub name: String,
    /// ImageId.
    pub image_id: String,
    /// InstanceType (fleets usually override it).
    pub instance_type: Option<String>,
    /// KeyName.
    pub key_name: Option<String>,
    /// UserData, base64-encoded as EC2 takes it.
    pub user_data_base64: Option<String>,
    /// TagSpecifications of the launch template data (tags of launched resources).
    pub tag_specifications: Vec<TagSpecification>,
    /// Tags of the template itself besides the stack's own.
    pub tags: Vec<Tag>,
}

/// Tags for the resources an instance launch creates.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct TagSpecification {
    /// `instance`, `volume`, `network-interface`, `spot-instances-request`.
    pub resource_type: String,
    /// The tags.
    pub tags: Vec<Tag>,
}

/// An SNS topic (CreateTopic) and its subscriptions.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Topic {
    /// Topic name; identifies the topic.
    pub name: String,
    /// CreateTopic's attributes (e.g. `DisplayName`).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Subscriptions (Subscribe).
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
}

/// A subscription; identified by protocol and endpoint.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Subscription {
    /// `http`, `https`, `email`, `email-json`, `sqs`, `lambda`, and the local cloud's
    /// `file`, `command`, `log`.
    pub protocol: String,
    /// Where deliveries go.
    pub endpoint: String,
    /// Subscribe's attributes (e.g. `RawMessageDelivery`, `FilterPolicy`).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Where an alarm action or a rule target points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// One of the file's topics, by name.
    Topic(String),
    /// Any ARN, as is.
    Arn(String),
}

/// A CloudWatch alarm (PutMetricAlarm), enums checked against the SDK's.
#[derive(Clone, Debug)]
pub struct Alarm {
    /// AlarmName; identifies the alarm.
    pub name: String,
    /// AlarmDescription.
    pub description: Option<String>,
    /// ActionsEnabled.
    pub actions_enabled: Option<bool>,
    /// OKActions.
    pub ok_actions: Vec<Reference>,
    /// AlarmActions.
    pub alarm_actions: Vec<Reference>,
    /// InsufficientDataActions.
    pub insufficient_data_actions: Vec<Reference>,
    /// MetricName (single-metric alarms).
    pub metric_name: Option<String>,
    /// Namespace (single-metric alarms).
    pub namespace: Option<String>,
    /// Statistic.
    pub statistic: Option<aws_sdk_cloudwatch::types::Statistic>,
    /// ExtendedStatistic, e.g. `p99`.
    pub extended_statistic: Option<String>,
    /// Dimensions.
    pub dimensions: Vec<(String, String)>,
    /// Period in seconds.
    pub period: Option<i32>,
    /// Unit.
    pub unit: Option<aws_sdk_cloudwatch::types::StandardUnit>,
    /// EvaluationPeriods.
    pub evaluation_periods: i32,
    /// DatapointsToAlarm.
    pub datapoints_to_alarm: Option<i32>,
    /// Threshold.
    pub threshold: Option<f64>,
    /// ComparisonOperator.
    pub comparison_operator: aws_sdk_cloudwatch::types::ComparisonOperator,
    /// TreatMissingData.
    pub treat_missing_data: Option<String>,
    /// EvaluateLowSampleCountPercentile.
    pub evaluate_low_sample_count_percentile: Option<String>,
    /// Metrics (metric-math alarms).
    pub metrics: Vec<aws_sdk_cloudwatch::types::MetricDataQuery>,
    /// ThresholdMetricId.
    pub threshold_metric_id: Option<String>,
}

/// An EventBridge rule (PutRule) on the default bus, and its targets.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Name; identifies the rule.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The event pattern as JSON text.
    pub event_pattern: Option<String>,
    /// ScheduleExpression.
    pub schedule_expression: Option<String>,
    /// State.
    pub state: Option<aws_sdk_eventbridge::types::RuleState>,
    /// Targets (PutTargets).
    pub targets: Vec<Target>,
}

/// A rule's target.
#[derive(Clone, Debug)]
pub struct Target {
    /// Id, unique within the rule.
    pub id: String,
    /// The topic or ARN events go to.
    pub destination: Reference,
    /// Input (constant JSON text instead of the event).
    pub input: Option<String>,
    /// InputPath (a JSONPath into the event).
    pub input_path: Option<String>,
}

/// The IAM path of the roles and instance profiles stacks create: how `cleanup` lists
/// them without reading every role of the account.
pub const IAM_PATH: &str = "/spotlab/";

/// An IAM role (CreateRole, PutRolePolicy, AttachRolePolicy) under [`IAM_PATH`].
#[derive(Clone, Debug)]
pub struct Role {
    /// RoleName.
    pub role_name: String,
    /// AssumeRolePolicyDocument as JSON text.
    pub assume_role_policy_document: String,
    /// Description.
    pub description: Option<String>,
    /// Inline policies (PutRolePolicy): name and JSON text.
    pub policies: Vec<(String, String)>,
    /// Managed policies (AttachRolePolicy), by ARN.
    pub managed_policy_arns: Vec<String>,
    /// Tags besides the stack's own.
    pub tags: Vec<Tag>,
}

/// The instances' role and the instance profile that carries it
/// (CreateInstanceProfile, AddRoleToInstanceProfile), under [`IAM_PATH`].
#[derive(Clone, Debug)]
pub struct InstanceProfile {
    /// The role (EC2 may assume it unless the file says otherwise).
    pub role: Role,
    /// InstanceProfileName (the role's name unless the file says otherwise).
    pub instance_profile_name: String,
}

/// The S3 bucket (CreateBucket, PutBucketTagging), with the agent's binary put in it
/// when the file names a key for it.
#[derive(Clone, Debug)]
pub struct Bucket {
    /// Bucket name.
    pub name: String,
    /// Where `up` puts spotlab's binary for the instances' user data to fetch.
    pub agent_key: Option<String>,
    /// Tags besides the stack's own.
    pub tags: Vec<Tag>,
}
