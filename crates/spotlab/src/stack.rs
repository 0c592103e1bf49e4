//! `spotlab stack up FILE` / `spotlab stack down FILE`: the walkthrough's CloudFormation
//! stack in spotlab's terms. One TOML file (`stack/file.rs`) describes the network,
//! security group, launch template, topics, alarms and rules; they are applied through
//! the official SDKs (`stack/network.rs`, `stack/monitoring.rs`), so the same command
//! builds the stack on the local cloud and on AWS. Both directions are idempotent.
//! `up` prints the stack's outputs as JSON on stdout; progress goes to stderr.

mod bucket;
pub mod experiments;
mod file;
mod fleets;
mod identity;
mod monitoring;
pub mod network;
mod placeholders;
mod plan;
pub mod spec;
mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;

use anyhow::Context as _;
use serde::Serialize;

use crate::aws::Clients;
use crate::cli::{CleanupArgs, StackAction, StackArgs, StackFileArgs, StackUpArgs};
use placeholders::Placeholders;
use spec::Stack;

/// The stack's outputs, like a CloudFormation stack's: everything a fleet request or a
/// script needs from it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Outputs {
    /// The stack's name.
    pub stack_name: String,
    /// EC2's part: VPC, subnets, security group, launch template.
    #[serde(flatten)]
    pub network: network::Network,
    /// Topic name to ARN.
    pub topic_arns: BTreeMap<String, String>,
    /// Alarm name to ARN.
    pub alarm_arns: BTreeMap<String, String>,
    /// Rule name to ARN.
    pub rule_arns: BTreeMap<String, String>,
    /// The instances' role and instance profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_profile: Option<identity::ProfileOutput>,
    /// The role Fault Injection Service assumes for `interrupt` steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_injection_role_arn: Option<String>,
    /// The checkpoint bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<bucket::BucketOutput>,
}

/// Parses and checks a stack file's text; `lookup` fills its placeholders (each must
/// have a value).
pub fn parse(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Stack> {
    file::parse(text, lookup, Placeholders::Required)
}

/// Parses a stack file's text for deleting it: placeholders without a value stay as
/// written.
pub fn parse_for_teardown(text: &str) -> anyhow::Result<Stack> {
    file::parse(
        text,
        &|name| std::env::var(name).ok(),
        Placeholders::Lenient,
    )
}

/// Creates (or finds) everything the stack describes, through the SDKs. When the
/// stack's bucket names a key for the agent, `agent_binary` is put there (the running
/// executable when `None`).
pub async fn apply(
    clients: &Clients,
    stack: &Stack,
    agent_binary: Option<&std::path::Path>,
) -> anyhow::Result<Outputs> {
    let instance_profile = match &stack.instance_profile {
        Some(spec) => Some(identity::up(&clients.iam, stack, spec).await?),
        None => None,
    };
    let fault_injection_role_arn = match &stack.fault_injection_role {
        Some(spec) => Some(identity::role_up(&clients.iam, stack, spec).await?),
        None => None,
    };
    let bucket = match &stack.bucket {
        Some(spec) => {
            let binary = match agent_binary {
                Some(path) => path.to_owned(),
                None => std::env::current_exe()
                    .context("cannot tell where the running spotlab binary is")?,
            };
            Some(bucket::up(&clients.s3, stack, spec, &binary).await?)
        }
        None => None,
    };
    let network = network::up(
        &clients.ec2,
        stack,
        instance_profile
            .as_ref()
            .map(|p| p.instance_profile_arn.as_str()),
    )
    .await?;
    let monitoring = monitoring::up(&monitoring_clients(clients), stack).await?;
    Ok(Outputs {
        stack_name: stack.name.clone(),
        network,
        topic_arns: monitoring.topic_arns,
        alarm_arns: monitoring.alarm_arns,
        rule_arns: monitoring.rule_arns,
        instance_profile,
        fault_injection_role_arn,
        bucket,
    })
}

/// Runs the command.
pub fn run(args: StackArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match args.action {
            StackAction::Up(args) => up(&args).await,
            StackAction::Down(args) => down(&args).await,
            StackAction::Cleanup(args) => cleanup(&args).await,
        }
    })
}

async fn up(args: &StackUpArgs) -> anyhow::Result<()> {
    let file = &args.stack;
    let stack = file::load(&file.file, Placeholders::Required)?;
    let clients = Clients::new(&file.aws).await;
    if args.dry_run {
        return plan::show(&clients, &stack, args).await;
    }
    let context = || format!("stack {} at {}", stack.name, file.aws.target());
    let outputs = apply(&clients, &stack, args.agent_binary.as_deref())
        .await
        .with_context(context)?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &outputs)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

async fn down(args: &StackFileArgs) -> anyhow::Result<()> {
    let stack = file::load(&args.file, Placeholders::Lenient)?;
    let clients = Clients::new(&args.aws).await;
    teardown(&clients, &stack, args.wait)
        .await
        .with_context(|| format!("stack {} at {}", stack.name, args.aws.target()))
}

/// Deletes everything of the stack, in dependency order: its fleets and instances
/// (waiting up to `wait` for them to terminate), rules, alarms and topics, the launch
/// template and network, the instance profile and role, the bucket. What does not
/// exist is skipped.
pub async fn teardown(
    clients: &Clients,
    stack: &Stack,
    wait: std::time::Duration,
) -> anyhow::Result<()> {
    fleets::stop(&clients.ec2, stack, wait).await?;
    monitoring::down(&monitoring_clients(clients), stack).await?;
    network::down(&clients.ec2, stack).await?;
    if let Some(profile) = &stack.instance_profile {
        identity::delete_profile(&clients.iam, stack, &profile.instance_profile_name).await?;
        identity::delete_role(&clients.iam, stack, &profile.role.role_name).await?;
    }
    if let Some(role) = &stack.fault_injection_role {
        identity::delete_role(&clients.iam, stack, &role.role_name).await?;
    }
    if let Some(bucket) = &stack.bucket {
        bucket::down(&clients.s3, stack, &bucket.name).await?;
    }
    note(stack, "down: nothing of the stack is left");
    Ok(())
}

fn monitoring_clients(clients: &Clients) -> monitoring::Clients<'_> {
    monitoring::Clients {
        cloudwatch: &clients.cloudwatch,
        sns: &clients.sns,
        events: &clients.events,
    }
}

/// Every stack found by its tag, deleted: fleets and instances first, then
/// monitoring, network and templates, the instance profile and role, the bucket.
async fn cleanup(args: &CleanupArgs) -> anyhow::Result<()> {
    let clients = Clients::new(&args.aws).await;
    let at = args.aws.target();
    let monitored = monitoring::tagged(&monitoring_clients(&clients))
        .await
        .with_context(|| format!("finding tagged topics, alarms and rules at {at}"))?;
    let identities = identity::tagged(&clients.iam)
        .await
        .with_context(|| format!("finding tagged roles and instance profiles at {at}"))?;
    let buckets = bucket::tagged(&clients.s3)
        .await
        .with_context(|| format!("finding tagged buckets at {at}"))?;
    let templates = experiments::tagged(&clients)
        .await
        .with_context(|| format!("finding tagged experiment templates at {at}"))?;
    let names: BTreeSet<String> = match &args.stack {
        Some(name) => BTreeSet::from([name.clone()]),
        None => network::stack_names(&clients.ec2)
            .await?
            .into_iter()
            .chain(monitored.keys().cloned())
            .chain(identities.keys().cloned())
            .chain(buckets.keys().cloned())
            .chain(templates.keys().cloned())
            .collect(),
    };
    if names.is_empty() {
        eprintln!("spotlab cleanup: no stack found at {at}");
    }
    for name in names {
        let stack = Stack::named(&name);
        let context = || format!("cleaning up stack {name} at {at}");
        fleets::stop(&clients.ec2, &stack, args.wait)
            .await
            .with_context(context)?;
        if let Some(ids) = templates.get(&name) {
            experiments::delete_templates(&clients, &stack, ids)
                .await
                .with_context(context)?;
        }
        let found = monitored.get(&name).cloned().unwrap_or_default();
        monitoring::delete(
            &monitoring_clients(&clients),
            &stack,
            &found.rules,
            &found.alarms,
            &found.topics,
        )
        .await
        .with_context(context)?;
        network::down(&clients.ec2, &stack)
            .await
            .with_context(context)?;
        let (roles, profiles) = identities.get(&name).cloned().unwrap_or_default();
        for profile in &profiles {
            identity::delete_profile(&clients.iam, &stack, profile)
                .await
                .with_context(context)?;
        }
        for role in &roles {
            identity::delete_role(&clients.iam, &stack, role)
                .await
                .with_context(context)?;
        }
        for bucket in buckets.get(&name).into_iter().flatten() {
            bucket::down(&clients.s3, &stack, bucket)
                .await
                .with_context(context)?;
        }
        note(
            &stack,
            "cleaned up: nothing tagged with the stack's name is left",
        );
    }
    Ok(())
}

/// One line per resource the stack has, in the order `up` makes them.
pub fn resources(stack: &Stack) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(p) = &stack.instance_profile {
        lines.push(format!(
            "IAM role {}{} ({} inline and {} managed policies)",
            spec::IAM_PATH,
            p.role.role_name,
            p.role.policies.len(),
            p.role.managed_policy_arns.len()
        ));
        lines.push(format!(
            "IAM instance profile {}{} holding it",
            spec::IAM_PATH,
            p.instance_profile_name
        ));
    }
    if let Some(r) = &stack.fault_injection_role {
        lines.push(format!(
            "IAM role {}{} for Fault Injection Service ({} inline and {} managed policies)",
            spec::IAM_PATH,
            r.role_name,
            r.policies.len(),
            r.managed_policy_arns.len()
        ));
    }
    if let Some(b) = &stack.bucket {
        lines.push(format!("S3 bucket {}", b.name));
        if let Some(key) = &b.agent_key {
            lines.push(format!("  spotlab's binary at s3://{}/{key}", b.name));
        }
    }
    if let Some(vpc) = &stack.vpc {
        lines.push(format!("VPC {}", vpc.cidr_block));
    }
    for s in &stack.subnets {
        lines.push(format!(
            "subnet {} in {}",
            s.cidr_block, s.availability_zone
        ));
    }
    if let Some(g) = &stack.security_group {
        lines.push(format!("security group {}", g.group_name));
    }
    if let Some(t) = &stack.launch_template {
        let profile = stack
            .instance_profile
            .as_ref()
            .map(|p| format!(", instance profile {}", p.instance_profile_name))
            .unwrap_or_default();
        lines.push(format!(
            "launch template {} (image {}{profile})",
            t.name, t.image_id
        ));
    }
    for t in &stack.topics {
        lines.push(format!(
            "topic {} ({} subscription(s))",
            t.name,
            t.subscriptions.len()
        ));
    }
    for a in &stack.alarms {
        lines.push(format!("alarm {}", a.name));
    }
    for r in &stack.rules {
        lines.push(format!("rule {} ({} target(s))", r.name, r.targets.len()));
    }
    lines
}

/// One line of progress on stderr.
fn note(stack: &Stack, what: &str) {
    eprintln!("spotlab stack {}: {what}", stack.name);
}
