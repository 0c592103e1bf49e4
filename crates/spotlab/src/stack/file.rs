//! The stack file: one TOML document describing a stack's network, security group,
//! launch template, topics, alarms and rules. Read once, `${NAME}` placeholders filled
//! from the environment, and checked into a [`Stack`]; nothing downstream re-checks.
//! This module talks to no service.
//!
//! Sections are lower-case (`vpc`, `subnets`, ...); the keys inside them are the member
//! names of the AWS call that creates the resource (`CidrBlock`, `AlarmName`,
//! `EventPattern`...), except the references to the file's own topics (alarm actions,
//! rule targets' `Topic`) and `UserData`, which is text (the tool base64-encodes it).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context as _, bail, ensure};
use base64::Engine as _;
use serde::Deserialize;

use super::placeholders::{Placeholders, substitute};
use super::spec::{
    Alarm, Bucket, InstanceProfile, LaunchTemplate, Reference, Role, Rule, STACK_TAG,
    SecurityGroup, Stack, Subnet, Tag, TagSpecification, Target, Topic, Vpc,
};

// ---- The file as written -------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: String,
    vpc: Option<Vpc>,
    #[serde(default)]
    subnets: Vec<Subnet>,
    security_group: Option<SecurityGroup>,
    launch_template: Option<LaunchTemplateFile>,
    #[serde(default)]
    topics: Vec<Topic>,
    #[serde(default)]
    alarms: Vec<AlarmFile>,
    #[serde(default)]
    rules: Vec<RuleFile>,
    instance_profile: Option<InstanceProfileFile>,
    fault_injection_role: Option<RoleFile>,
    bucket: Option<BucketFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct RoleFile {
    role_name: String,
    /// A table or JSON text.
    assume_role_policy_document: Option<serde_json::Value>,
    description: Option<String>,
    #[serde(default)]
    policies: Vec<PolicyFile>,
    #[serde(default)]
    managed_policy_arns: Vec<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct InstanceProfileFile {
    role_name: String,
    instance_profile_name: Option<String>,
    /// A table or JSON text.
    assume_role_policy_document: Option<serde_json::Value>,
    description: Option<String>,
    #[serde(default)]
    policies: Vec<PolicyFile>,
    #[serde(default)]
    managed_policy_arns: Vec<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct PolicyFile {
    policy_name: String,
    /// A table or JSON text.
    policy_document: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct BucketFile {
    bucket: String,
    agent_key: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct LaunchTemplateFile {
    launch_template_name: String,
    image_id: String,
    instance_type: Option<String>,
    key_name: Option<String>,
    user_data: Option<String>,
    #[serde(default)]
    tag_specifications: Vec<TagSpecification>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct Dimension {
    name: String,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct AlarmFile {
    alarm_name: String,
    alarm_description: Option<String>,
    actions_enabled: Option<bool>,
    #[serde(default, rename = "OKActions")]
    ok_actions: Vec<String>,
    #[serde(default)]
    alarm_actions: Vec<String>,
    #[serde(default)]
    insufficient_data_actions: Vec<String>,
    metric_name: Option<String>,
    namespace: Option<String>,
    statistic: Option<String>,
    extended_statistic: Option<String>,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    period: Option<i32>,
    unit: Option<String>,
    evaluation_periods: i32,
    datapoints_to_alarm: Option<i32>,
    threshold: Option<f64>,
    comparison_operator: String,
    treat_missing_data: Option<String>,
    evaluate_low_sample_count_percentile: Option<String>,
    #[serde(default)]
    metrics: Vec<MetricQueryFile>,
    threshold_metric_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct MetricQueryFile {
    id: String,
    expression: Option<String>,
    metric_stat: Option<MetricStatFile>,
    label: Option<String>,
    return_data: Option<bool>,
    period: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct MetricStatFile {
    metric: MetricFile,
    period: i32,
    stat: String,
    unit: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct MetricFile {
    namespace: String,
    metric_name: String,
    #[serde(default)]
    dimensions: Vec<Dimension>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct RuleFile {
    name: String,
    description: Option<String>,
    /// A table (written as JSON by the tool) or JSON text.
    event_pattern: Option<serde_json::Value>,
    schedule_expression: Option<String>,
    state: Option<String>,
    #[serde(default)]
    targets: Vec<TargetFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct TargetFile {
    id: String,
    topic: Option<String>,
    arn: Option<String>,
    input: Option<String>,
    input_path: Option<String>,
}
// ---- Loading --------------------------------------------------------------------------

/// Reads and checks the stack file at `path`, filling placeholders from the process
/// environment.
pub fn load(path: &Path, placeholders: Placeholders) -> anyhow::Result<Stack> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the stack file {}", path.display()))?;
    parse(&text, &|name| std::env::var(name).ok(), placeholders)
        .with_context(|| format!("stack file {}", path.display()))
}

/// Parses and checks a stack file's text; `lookup` gives the placeholders' values.
pub fn parse(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    placeholders: Placeholders,
) -> anyhow::Result<Stack> {
    // Parsed once as written, so a mistake is reported at its line and column...
    toml::from_str::<File>(text)?;
    // ...then again with the placeholders filled: only string contents change, so the
    // shape is the one just checked.
    let mut tree: toml::Table = toml::from_str(text)?;
    for (key, value) in tree.iter_mut() {
        fill(value, key, lookup, placeholders)?;
    }
    let file: File = toml::Value::Table(tree).try_into()?;
    check(file)
}

fn fill(
    value: &mut toml::Value,
    at: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    placeholders: Placeholders,
) -> anyhow::Result<()> {
    match value {
        toml::Value::String(text) => {
            *text = substitute(text, lookup, placeholders).with_context(|| format!("in {at}"))?;
        }
        toml::Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                fill(item, &format!("{at}[{index}]"), lookup, placeholders)?;
            }
        }
        toml::Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                fill(item, &format!("{at}.{key}"), lookup, placeholders)?;
            }
        }
        _ => {}
    }
    Ok(())
}
// ---- Checking -------------------------------------------------------------------------

fn check(file: File) -> anyhow::Result<Stack> {
    let name = file.name;
    ensure!(
        !name.is_empty()
            && name.chars().count() <= 128
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
        "name {name:?}: a stack name is 1 to 128 letters, digits, '-', '_' or '.'"
    );
    if file.vpc.is_none() {
        ensure!(
            file.subnets.is_empty(),
            "subnets need a [vpc] section to live in"
        );
        ensure!(
            file.security_group.is_none(),
            "security_group needs a [vpc] section to live in"
        );
    }
    if let Some(vpc) = &file.vpc {
        check_tags(&vpc.tags, "vpc")?;
    }
    let mut cidrs = BTreeSet::new();
    for subnet in &file.subnets {
        ensure!(
            cidrs.insert(subnet.cidr_block.as_str()),
            "subnets: CidrBlock {} appears twice (a subnet is known by its block)",
            subnet.cidr_block
        );
        check_tags(&subnet.tags, &format!("subnet {}", subnet.cidr_block))?;
    }
    if let Some(group) = &file.security_group {
        ensure!(
            !group.group_name.is_empty(),
            "security_group: GroupName is empty"
        );
        check_tags(&group.tags, "security_group")?;
    }
    let launch_template = file.launch_template.map(launch_template).transpose()?;

    let mut topics = BTreeSet::new();
    for topic in &file.topics {
        check_topic_name(&topic.name)?;
        ensure!(
            topics.insert(topic.name.clone()),
            "topics: {} appears twice",
            topic.name
        );
        for subscription in &topic.subscriptions {
            ensure!(
                !subscription.protocol.is_empty() && !subscription.endpoint.is_empty(),
                "topic {}: a subscription needs a Protocol and an Endpoint",
                topic.name
            );
        }
    }
    let mut alarm_names = BTreeSet::new();
    let mut alarms = Vec::new();
    for alarm in file.alarms {
        ensure!(
            alarm_names.insert(alarm.alarm_name.clone()),
            "alarms: {} appears twice",
            alarm.alarm_name
        );
        let name = alarm.alarm_name.clone();
        alarms.push(check_alarm(alarm, &topics).with_context(|| format!("alarm {name}"))?);
    }
    let mut rule_names = BTreeSet::new();
    let mut rules = Vec::new();
    for rule in file.rules {
        ensure!(
            rule_names.insert(rule.name.clone()),
            "rules: {} appears twice",
            rule.name
        );
        let name = rule.name.clone();
        rules.push(check_rule(rule, &topics).with_context(|| format!("rule {name}"))?);
    }
    let instance_profile = file
        .instance_profile
        .map(instance_profile)
        .transpose()
        .context("instance_profile")?;
    let fault_injection_role = file
        .fault_injection_role
        .map(|f| role(f, FIS_TRUST_POLICY))
        .transpose()
        .context("fault_injection_role")?;
    if let (Some(a), Some(b)) = (&instance_profile, &fault_injection_role) {
        ensure!(
            a.role.role_name != b.role_name,
            "instance_profile and fault_injection_role name the same role {}",
            b.role_name
        );
    }
    let bucket = file.bucket.map(bucket).transpose().context("bucket")?;
    Ok(Stack {
        name,
        instance_profile,
        fault_injection_role,
        bucket,
        vpc: file.vpc,
        subnets: file.subnets,
        security_group: file.security_group,
        launch_template,
        topics: file.topics,
        alarms,
        rules,
    })
}

fn check_tags(tags: &[Tag], at: &str) -> anyhow::Result<()> {
    for tag in tags {
        ensure!(
            !tag.key.to_ascii_lowercase().starts_with("aws:"),
            "{at}: tag keys starting with aws: are AWS's"
        );
        ensure!(
            tag.key != STACK_TAG,
            "{at}: the tag {STACK_TAG} is set by spotlab"
        );
    }
    Ok(())
}

fn launch_template(file: LaunchTemplateFile) -> anyhow::Result<LaunchTemplate> {
    let name = file.launch_template_name;
    ensure!(
        (3..=128).contains(&name.chars().count())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "()./_-".contains(c)),
        "launch_template: LaunchTemplateName {name:?} must be 3 to 128 letters, digits or ( ) . / _ -"
    );
    ensure!(
        !file.image_id.is_empty(),
        "launch_template: ImageId is empty"
    );
    check_tags(&file.tags, "launch_template")?;
    for spec in &file.tag_specifications {
        check_tags(&spec.tags, "launch_template.TagSpecifications")?;
    }
    let user_data_base64 = file
        .user_data
        .map(|text| base64::engine::general_purpose::STANDARD.encode(text));
    if let Some(encoded) = &user_data_base64 {
        ensure!(
            encoded.len() <= 16_384,
            "launch_template: UserData is {} bytes once base64-encoded; EC2 takes at most 16384",
            encoded.len()
        );
    }
    Ok(LaunchTemplate {
        name,
        image_id: file.image_id,
        instance_type: file.instance_type,
        key_name: file.key_name,
        user_data_base64,
        tag_specifications: file.tag_specifications,
        tags: file.tags,
    })
}

/// A member that is a JSON object, written as a table or as JSON text: its JSON text.
fn json_object(value: serde_json::Value, member: &str) -> anyhow::Result<String> {
    match value {
        serde_json::Value::String(text) => {
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{member} is a string but not JSON text"))?;
            ensure!(value.is_object(), "{member} must be a JSON object");
            Ok(text)
        }
        value @ serde_json::Value::Object(_) => Ok(serde_json::to_string(&value)?),
        _ => bail!("{member} must be a table or JSON text"),
    }
}

/// IAM's pattern for role, instance profile and policy names: `[\w+=,.@-]+`.
fn check_iam_name(name: &str, member: &str, max: usize) -> anyhow::Result<()> {
    ensure!(
        (1..=max).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)),
        "{member} {name:?} must be 1 to {max} letters, digits or _+=,.@-"
    );
    Ok(())
}

/// What EC2 instances need to be trusted with a role.
const EC2_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// What AWS Fault Injection Service needs to be trusted with a role.
const FIS_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"fis.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn instance_profile(file: InstanceProfileFile) -> anyhow::Result<InstanceProfile> {
    let instance_profile_name = file
        .instance_profile_name
        .unwrap_or_else(|| file.role_name.clone());
    let role = role(
        RoleFile {
            role_name: file.role_name,
            assume_role_policy_document: file.assume_role_policy_document,
            description: file.description,
            policies: file.policies,
            managed_policy_arns: file.managed_policy_arns,
            tags: file.tags,
        },
        EC2_TRUST_POLICY,
    )?;
    check_iam_name(&instance_profile_name, "InstanceProfileName", 128)?;
    Ok(InstanceProfile {
        role,
        instance_profile_name,
    })
}

/// A role; `trust` is its AssumeRolePolicyDocument unless the file gives one.
fn role(file: RoleFile, trust: &str) -> anyhow::Result<Role> {
    check_iam_name(&file.role_name, "RoleName", 64)?;
    check_tags(&file.tags, &format!("role {}", file.role_name))?;
    let assume_role_policy_document = file
        .assume_role_policy_document
        .map(|value| json_object(value, "AssumeRolePolicyDocument"))
        .transpose()?
        .unwrap_or_else(|| trust.to_owned());
    let mut names = BTreeSet::new();
    let mut policies = Vec::new();
    for policy in file.policies {
        check_iam_name(&policy.policy_name, "PolicyName", 128)?;
        ensure!(
            names.insert(policy.policy_name.clone()),
            "policy {} appears twice",
            policy.policy_name
        );
        let document = json_object(
            policy.policy_document,
            &format!("policy {}'s PolicyDocument", policy.policy_name),
        )?;
        policies.push((policy.policy_name, document));
    }
    for arn in &file.managed_policy_arns {
        ensure!(
            arn.starts_with("arn:") && arn.contains(":policy/"),
            "ManagedPolicyArns: {arn:?} is not a policy ARN"
        );
    }
    Ok(Role {
        role_name: file.role_name,
        assume_role_policy_document,
        description: file.description,
        policies,
        managed_policy_arns: file.managed_policy_arns,
        tags: file.tags,
    })
}

/// S3's rules for a general purpose bucket's name.
fn bucket(file: BucketFile) -> anyhow::Result<Bucket> {
    let name = file.bucket;
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    let ip_like = name.split('.').count() == 4 && name.split('.').all(|l| l.parse::<u8>().is_ok());
    ensure!(
        (3..=63).contains(&name.len()) && labels_ok && !ip_like && !name.starts_with("xn--"),
        "Bucket {name:?} must be 3 to 63 lower-case letters, digits, '-' and '.', \
         start and end with a letter or digit, and not look like an IP address"
    );
    if let Some(key) = &file.agent_key {
        ensure!(
            !key.is_empty() && key.len() <= 1024 && !key.ends_with('/'),
            "AgentKey {key:?} must be an object key (1 to 1024 bytes, not ending in /)"
        );
    }
    check_tags(&file.tags, "bucket")?;
    Ok(Bucket {
        name,
        agent_key: file.agent_key,
        tags: file.tags,
    })
}

fn check_topic_name(name: &str) -> anyhow::Result<()> {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    ensure!(
        (1..=256).contains(&name.len())
            && !base.is_empty()
            && base
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "topics: Name {name:?} must be 1 to 256 letters, digits, '-' or '_' (.fifo may end it)"
    );
    Ok(())
}

/// `value` if it is one of `allowed`, else an error listing them.
fn one_of(value: &str, member: &str, allowed: &[&str]) -> anyhow::Result<()> {
    ensure!(
        allowed.contains(&value),
        "{member} {value:?} is not one of {}",
        allowed.join(", ")
    );
    Ok(())
}

fn references(
    names: Vec<String>,
    member: &str,
    topics: &BTreeSet<String>,
) -> anyhow::Result<Vec<Reference>> {
    names
        .into_iter()
        .map(|name| {
            if topics.contains(&name) {
                Ok(Reference::Topic(name))
            } else if name.starts_with("arn:") {
                Ok(Reference::Arn(name))
            } else {
                bail!("{member}: {name:?} is neither a topic of this file nor an ARN")
            }
        })
        .collect()
}

fn check_alarm(file: AlarmFile, topics: &BTreeSet<String>) -> anyhow::Result<Alarm> {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, StandardUnit, Statistic};
    ensure!(
        (1..=255).contains(&file.alarm_name.chars().count()),
        "AlarmName must be 1 to 255 characters"
    );
    one_of(
        &file.comparison_operator,
        "ComparisonOperator",
        ComparisonOperator::values(),
    )?;
    if let Some(statistic) = &file.statistic {
        one_of(statistic, "Statistic", Statistic::values())?;
    }
    if let Some(unit) = &file.unit {
        one_of(unit, "Unit", StandardUnit::values())?;
    }
    if let Some(treatment) = &file.treat_missing_data {
        one_of(
            treatment,
            "TreatMissingData",
            &["missing", "notBreaching", "breaching", "ignore"],
        )?;
    }
    if let Some(evaluate) = &file.evaluate_low_sample_count_percentile {
        one_of(
            evaluate,
            "EvaluateLowSampleCountPercentile",
            &["evaluate", "ignore"],
        )?;
    }
    ensure!(
        file.evaluation_periods >= 1,
        "EvaluationPeriods must be at least 1"
    );
    let single = file.metric_name.is_some() || file.namespace.is_some();
    if file.metrics.is_empty() {
        ensure!(
            file.metric_name.is_some() && file.namespace.is_some(),
            "a metric alarm needs Namespace and MetricName (or Metrics for metric math)"
        );
        ensure!(
            file.statistic.is_some() != file.extended_statistic.is_some(),
            "give exactly one of Statistic and ExtendedStatistic"
        );
        ensure!(file.period.is_some(), "a metric alarm needs a Period");
    } else {
        ensure!(
            !single
                && file.statistic.is_none()
                && file.extended_statistic.is_none()
                && file.period.is_none()
                && file.dimensions.is_empty(),
            "Metrics (metric math) excludes Namespace, MetricName, Statistic, \
             ExtendedStatistic, Dimensions and Period"
        );
    }
    let metrics = file
        .metrics
        .into_iter()
        .map(metric_query)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Alarm {
        name: file.alarm_name,
        description: file.alarm_description,
        actions_enabled: file.actions_enabled,
        ok_actions: references(file.ok_actions, "OKActions", topics)?,
        alarm_actions: references(file.alarm_actions, "AlarmActions", topics)?,
        insufficient_data_actions: references(
            file.insufficient_data_actions,
            "InsufficientDataActions",
            topics,
        )?,
        metric_name: file.metric_name,
        namespace: file.namespace,
        statistic: file.statistic.as_deref().map(Statistic::from),
        extended_statistic: file.extended_statistic,
        dimensions: file
            .dimensions
            .into_iter()
            .map(|d| (d.name, d.value))
            .collect(),
        period: file.period,
        unit: file.unit.as_deref().map(StandardUnit::from),
        evaluation_periods: file.evaluation_periods,
        datapoints_to_alarm: file.datapoints_to_alarm,
        threshold: file.threshold,
        comparison_operator: ComparisonOperator::from(file.comparison_operator.as_str()),
        treat_missing_data: file.treat_missing_data,
        evaluate_low_sample_count_percentile: file.evaluate_low_sample_count_percentile,
        metrics,
        threshold_metric_id: file.threshold_metric_id,
    })
}

fn metric_query(
    file: MetricQueryFile,
) -> anyhow::Result<aws_sdk_cloudwatch::types::MetricDataQuery> {
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, StandardUnit};
    ensure!(
        file.expression.is_some() != file.metric_stat.is_some(),
        "Metrics {}: give exactly one of Expression and MetricStat",
        file.id
    );
    let stat = match file.metric_stat {
        Some(stat) => {
            if let Some(unit) = &stat.unit {
                one_of(unit, "Unit", StandardUnit::values())?;
            }
            let dimensions = stat
                .metric
                .dimensions
                .into_iter()
                .map(|d| Dimension::builder().name(d.name).value(d.value).build())
                .collect();
            Some(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace(stat.metric.namespace)
                            .metric_name(stat.metric.metric_name)
                            .set_dimensions(Some(dimensions))
                            .build(),
                    )
                    .period(stat.period)
                    .stat(stat.stat)
                    .set_unit(stat.unit.as_deref().map(StandardUnit::from))
                    .build(),
            )
        }
        None => None,
    };
    Ok(MetricDataQuery::builder()
        .id(file.id)
        .set_expression(file.expression)
        .set_metric_stat(stat)
        .set_label(file.label)
        .set_return_data(file.return_data)
        .set_period(file.period)
        .build())
}

fn check_rule(file: RuleFile, topics: &BTreeSet<String>) -> anyhow::Result<Rule> {
    use aws_sdk_eventbridge::types::RuleState;
    ensure!(
        (1..=64).contains(&file.name.len())
            && file
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
        "Name must be 1 to 64 letters, digits, '.', '-' or '_'"
    );
    let event_pattern = file
        .event_pattern
        .map(|value| json_object(value, "EventPattern"))
        .transpose()?;
    ensure!(
        event_pattern.is_some() || file.schedule_expression.is_some(),
        "a rule needs an EventPattern or a ScheduleExpression"
    );
    if let Some(state) = &file.state {
        one_of(state, "State", RuleState::values())?;
    }
    let mut ids = BTreeSet::new();
    let mut targets = Vec::new();
    for target in file.targets {
        ensure!(
            ids.insert(target.id.clone()),
            "target {} appears twice",
            target.id
        );
        let destination = match (target.topic, target.arn) {
            (Some(topic), None) => {
                ensure!(
                    topics.contains(&topic),
                    "target {}: Topic {topic:?} is not a topic of this file",
                    target.id
                );
                Reference::Topic(topic)
            }
            (None, Some(arn)) => Reference::Arn(arn),
            _ => bail!("target {}: give exactly one of Topic and Arn", target.id),
        };
        ensure!(
            target.input.is_none() || target.input_path.is_none(),
            "target {}: Input and InputPath exclude each other",
            target.id
        );
        targets.push(Target {
            id: target.id,
            destination,
            input: target.input,
            input_path: target.input_path,
        });
    }
    Ok(Rule {
        name: file.name,
        description: file.description,
        event_pattern,
        schedule_expression: file.schedule_expression,
        state: file.state.as_deref().map(RuleState::from),
        targets,
    })
}
#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TARGET_URL" => Some("http://127.0.0.1:8080/".to_owned()),
            _ => None,
        }
    }

    fn error_of(text: &str) -> String {
        format!(
            "{:#}",
            parse(text, &env, Placeholders::Required).expect_err("a bad file")
        )
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                "name = \"s\"\n[vpc]\nCidr = \"10.0.0.0/16\"\n",
                "unknown field `Cidr`",
            ),
            (
                "name = \"s\"\n[[subnets]]\nCidrBlock = \"10.0.1.0/24\"\nAvailabilityZone = \"us-east-1a\"\n",
                "subnets need a [vpc]",
            ),
            ("name = \"bad name\"\n", "stack name"),
            (
                "name = \"s\"\n[[alarms]]\nAlarmName = \"a\"\nNamespace = \"n\"\nMetricName = \"m\"\nStatistic = \"Average\"\nPeriod = 60\nEvaluationPeriods = 1\nThreshold = 1\nComparisonOperator = \"Bigger\"\n",
                "alarm a: ComparisonOperator \"Bigger\" is not one of",
            ),
            (
                "name = \"s\"\n[[alarms]]\nAlarmName = \"a\"\nNamespace = \"n\"\nMetricName = \"m\"\nStatistic = \"Average\"\nPeriod = 60\nEvaluationPeriods = 1\nThreshold = 1\nComparisonOperator = \"GreaterThanThreshold\"\nAlarmActions = [\"nope\"]\n",
                "AlarmActions: \"nope\" is neither a topic of this file nor an ARN",
            ),
            (
                "name = \"s\"\n[[rules]]\nName = \"r\"\nEventPattern = { source = [\"aws.ec2\"] }\nTargets = [{ Id = \"t\", Topic = \"missing\" }]\n",
                "rule r: target t: Topic \"missing\" is not a topic of this file",
            ),
            (
                "name = \"s\"\n[launch_template]\nLaunchTemplateName = \"lt-x\"\nImageId = \"ami-1\"\nUserData = \"${NOPE}\"\n",
                "${NOPE} is not set",
            ),
            (
                "name = \"s\"\n[bucket]\nBucket = \"Not_A_Bucket\"\n",
                "bucket: Bucket \"Not_A_Bucket\" must be 3 to 63",
            ),
            (
                "name = \"s\"\n[bucket]\nBucket = \"192.168.1.1\"\n",
                "not look like an IP address",
            ),
            (
                "name = \"s\"\n[instance_profile]\nRoleName = \"bad name\"\n",
                "instance_profile: RoleName \"bad name\" must be 1 to 64",
            ),
            (
                "name = \"s\"\n[instance_profile]\nRoleName = \"r\"\nPolicies = [{ PolicyName = \"p\", PolicyDocument = \"[1]\" }]\n",
                "policy p's PolicyDocument must be a JSON object",
            ),
        ];
        for (text, want) in cases {
            let error = error_of(text);
            assert!(error.contains(want), "{text}\n=> {error}");
        }
    }

    #[test]
    fn the_aws_stack_has_a_role_a_profile_and_a_bucket() {
        let text = include_str!("../../../../examples/aws-stack.toml");
        let lookup = |name: &str| match name {
            "CHECKPOINT_BUCKET" => Some("my-checkpoints".to_owned()),
            other => env(other),
        };
        let stack = parse(text, &lookup, Placeholders::Required).expect("the example parses");
        let profile = stack.instance_profile.expect("an instance profile");
        assert_eq!(
            profile.role.role_name,
            "ReInvent-EC2SpotTestDev-InstanceRole"
        );
        assert_eq!(
            profile.instance_profile_name,
            "ReInvent-EC2SpotTestDev-InstanceProfile"
        );
        // EC2 may assume the role unless the file says otherwise.
        let trust: serde_json::Value =
            serde_json::from_str(&profile.role.assume_role_policy_document).expect("JSON");
        assert_eq!(
            trust["Statement"][0]["Principal"]["Service"],
            "ec2.amazonaws.com"
        );
        let (name, document) = &profile.role.policies[0];
        assert_eq!(name, "agent");
        assert!(
            document.contains("arn:aws:s3:::my-checkpoints/*"),
            "{document}"
        );
        let bucket = stack.bucket.expect("a bucket");
        assert_eq!(bucket.name, "my-checkpoints");
        assert_eq!(bucket.agent_key.as_deref(), Some("bin/spotlab"));
        // The instance's shell gets `${AWS_ENDPOINT_URL:-cloudwatch}`, not this process's.
        let template = stack.launch_template.expect("a launch template");
        let user_data = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(template.user_data_base64.expect("user data"))
                .expect("base64"),
        )
        .expect("UTF-8");
        assert!(
            user_data.contains("--report \"${AWS_ENDPOINT_URL:-cloudwatch}\""),
            "{user_data}"
        );
        assert!(
            user_data.contains("s3://my-checkpoints/bin/spotlab"),
            "{user_data}"
        );
    }

    #[test]
    fn the_example_stack_is_valid() {
        let text = include_str!("../../../../examples/walkthrough-stack.toml");
        let stack = parse(text, &env, Placeholders::Required).expect("the example parses");
        assert_eq!(stack.name, "ReInvent-EC2SpotTestDev");
        assert_eq!(stack.subnets.len(), 2);
        let template = stack.launch_template.expect("a launch template");
        let user_data = base64::engine::general_purpose::STANDARD
            .decode(template.user_data_base64.expect("user data"))
            .expect("base64");
        let user_data = String::from_utf8(user_data).expect("utf-8");
        assert!(
            user_data.contains(
                "spotlab agent --url \"http://127.0.0.1:8080/\" --report \"$AWS_ENDPOINT_URL\""
            ),
            "{user_data}"
        );
        assert_eq!(stack.topics.len(), 2);
        let alarm = &stack.alarms[0];
        assert_eq!(alarm.name, "ReInvent-EC2SpotTestDev-Alarm");
        assert_eq!(alarm.threshold, Some(0.1));
        assert_eq!(alarm.period, Some(60));
        assert_eq!(alarm.treat_missing_data.as_deref(), Some("ignore"));
        assert_eq!(
            alarm.alarm_actions,
            [Reference::Topic(
                "ReInvent-EC2SpotTestDev-TestFailureAlarmTopic".to_owned()
            )]
        );
        let rule = &stack.rules[0];
        assert_eq!(
            rule.event_pattern.as_deref(),
            Some(
                r#"{"detail-type":["EC2 Spot Instance Interruption Warning"],"source":["aws.ec2"]}"#
            )
        );
        assert_eq!(
            rule.targets[0].destination,
            Reference::Topic("ReInvent-EC2SpotTestDev-SpotInterruptionTopic".to_owned())
        );
    }
}
