//! `spotlab stack up FILE` / `spotlab stack down FILE`: the walkthrough's CloudFormation
//! stack in spotlab's terms. One TOML file (`stack/file.rs`) describes the network,
//! security group, launch template, topics, alarms and rules; they are applied through
//! the official SDKs (`stack/network.rs`, `stack/monitoring.rs`), so the same command
//! builds the stack on the local cloud and on AWS. Both directions are idempotent.
//! `up` prints the stack's outputs as JSON on stdout; progress goes to stderr.

mod file;
mod fleets;
mod monitoring;
pub mod network;
mod placeholders;
pub mod spec;
mod template;

use std::collections::BTreeMap;
use std::io::Write as _;

use anyhow::Context as _;
use serde::Serialize;

use crate::aws::Clients;
use crate::cli::{CleanupArgs, StackAction, StackArgs, StackFileArgs};
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
}

/// Parses and checks a stack file's text; `lookup` fills its placeholders (each must
/// have a value).
pub fn parse(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Stack> {
    file::parse(text, lookup, Placeholders::Required)
}

/// Creates (or finds) everything the stack describes, through the SDKs.
pub async fn apply(clients: &Clients, stack: &Stack) -> anyhow::Result<Outputs> {
    let network = network::up(&clients.ec2, stack).await?;
    let monitoring = monitoring::up(
        &monitoring::Clients {
            cloudwatch: &clients.cloudwatch,
            sns: &clients.sns,
            events: &clients.events,
        },
        stack,
    )
    .await?;
    Ok(Outputs {
        stack_name: stack.name.clone(),
        network,
        topic_arns: monitoring.topic_arns,
        alarm_arns: monitoring.alarm_arns,
        rule_arns: monitoring.rule_arns,
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

async fn up(args: &StackFileArgs) -> anyhow::Result<()> {
    let stack = file::load(&args.file, Placeholders::Required)?;
    let clients = Clients::new(&args.aws).await;
    let context = || format!("stack {} at {}", stack.name, args.aws.target());
    let outputs = apply(&clients, &stack).await.with_context(context)?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &outputs)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

async fn down(args: &StackFileArgs) -> anyhow::Result<()> {
    let stack = file::load(&args.file, Placeholders::Lenient)?;
    let clients = Clients::new(&args.aws).await;
    let context = || format!("stack {} at {}", stack.name, args.aws.target());
    fleets::stop(&clients.ec2, &stack, args.wait)
        .await
        .with_context(context)?;
    monitoring::down(
        &monitoring::Clients {
            cloudwatch: &clients.cloudwatch,
            sns: &clients.sns,
            events: &clients.events,
        },
        &stack,
    )
    .await
    .with_context(context)?;
    network::down(&clients.ec2, &stack)
        .await
        .with_context(context)?;
    note(&stack, "down: nothing of the stack is left");
    Ok(())
}

/// Every stack's EC2 part, found by tag: fleets and instances first, then the
/// network and templates.
async fn cleanup(args: &CleanupArgs) -> anyhow::Result<()> {
    let clients = Clients::new(&args.aws).await;
    let names = match &args.stack {
        Some(name) => vec![name.clone()],
        None => network::stack_names(&clients.ec2).await?,
    };
    if names.is_empty() {
        eprintln!(
            "spotlab stack cleanup: no stack found at {}",
            args.aws.target()
        );
    }
    for name in names {
        let stack = Stack::named(&name);
        let context = || format!("cleaning up stack {name} at {}", args.aws.target());
        fleets::stop(&clients.ec2, &stack, args.wait)
            .await
            .with_context(context)?;
        network::down(&clients.ec2, &stack)
            .await
            .with_context(context)?;
        note(
            &stack,
            "cleaned up: no fleet, instance, template or network of the stack is left",
        );
    }
    Ok(())
}

/// One line of progress on stderr.
fn note(stack: &Stack, what: &str) {
    eprintln!("spotlab stack {}: {what}", stack.name);
}
