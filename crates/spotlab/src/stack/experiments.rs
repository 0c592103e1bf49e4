//! Spot interruptions through AWS Fault Injection Service, as AWS offers them (there is
//! no EC2 call for it): an experiment template whose one action is
//! `aws:ec2:send-spot-instance-interruptions` on the chosen instances, started, and
//! followed until the notices are out. Templates carry the stack's tag, so `cleanup`
//! finds any a run left behind.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::bail;
use aws_sdk_fis::types::{
    CreateExperimentTemplateActionInput, CreateExperimentTemplateStopConditionInput,
    CreateExperimentTemplateTargetInput, ExperimentStatus,
};

use super::note;
use super::spec::{STACK_TAG, Stack};
use crate::aws::{Clients, Context as _};

/// FIS's Spot interruption action.
const ACTION: &str = "aws:ec2:send-spot-instance-interruptions";

/// How long before the interruption the notice comes: EC2's two minutes.
const NOTICE: &str = "PT2M";

/// What an interruption experiment left to delete.
#[derive(Clone, Debug)]
pub struct Started {
    /// The experiment template's id.
    pub template_id: String,
    /// The experiment's id.
    pub experiment_id: String,
}

/// Sends Spot interruption notices to `instances` through FIS, assuming `role_arn`;
/// returns once the experiment runs (or has completed). `poll` is how often to look.
pub async fn interrupt(
    clients: &Clients,
    stack: &Stack,
    role_arn: &str,
    instances: &[String],
    poll: Duration,
) -> anyhow::Result<Started> {
    // arn:PARTITION:iam::ACCOUNT:role/...: the instances are in the same account.
    let parts: Vec<&str> = role_arn.split(':').collect();
    let (Some(partition), Some(account)) = (parts.get(1), parts.get(4)) else {
        bail!("{role_arn:?} is not a role ARN");
    };
    let region = clients
        .ec2
        .config()
        .region()
        .map(|r| r.as_ref().to_owned())
        .unwrap_or_else(|| "us-east-1".to_owned());
    let arns: Vec<String> = instances
        .iter()
        .map(|id| format!("arn:{partition}:ec2:{region}:{account}:instance/{id}"))
        .collect();
    let target = CreateExperimentTemplateTargetInput::builder()
        .resource_type("aws:ec2:spot-instance")
        .set_resource_arns(Some(arns))
        .selection_mode("ALL")
        .build()?;
    let action = CreateExperimentTemplateActionInput::builder()
        .action_id(ACTION)
        .parameters("durationBeforeInterruption", NOTICE)
        .targets("SpotInstances", "SpotInstances")
        .build()?;
    let created = clients
        .fis
        .create_experiment_template()
        .description(format!(
            "spotlab stack {}: interrupt {}",
            stack.name,
            instances.join(", ")
        ))
        .role_arn(role_arn)
        .stop_conditions(
            CreateExperimentTemplateStopConditionInput::builder()
                .source("none")
                .build()?,
        )
        .targets("SpotInstances", target)
        .actions("interrupt", action)
        .tags(STACK_TAG, &stack.name)
        .send()
        .await
        .doing(|| "creating the interruption's experiment template".to_owned())?;
    let template_id = created
        .experiment_template()
        .and_then(|t| t.id())
        .ok_or_else(|| anyhow::anyhow!("CreateExperimentTemplate answered without an id"))?
        .to_owned();
    let started = clients
        .fis
        .start_experiment()
        .experiment_template_id(&template_id)
        .tags(STACK_TAG, &stack.name)
        .send()
        .await
        .doing(|| format!("starting an experiment from template {template_id}"))?;
    let experiment_id = started
        .experiment()
        .and_then(|e| e.id())
        .ok_or_else(|| anyhow::anyhow!("StartExperiment answered without an id"))?
        .to_owned();
    let done = Started {
        template_id,
        experiment_id: experiment_id.clone(),
    };
    // The notices are out once the action runs; give FIS a few minutes to get there.
    for _ in 0..(180 / poll.as_secs().max(1)).max(1) {
        let seen = clients
            .fis
            .get_experiment()
            .id(&experiment_id)
            .send()
            .await
            .doing(|| format!("reading experiment {experiment_id}"))?;
        let state = seen.experiment().and_then(|e| e.state());
        match state.and_then(|s| s.status()) {
            Some(ExperimentStatus::Running | ExperimentStatus::Completed) => return Ok(done),
            Some(
                ExperimentStatus::Failed | ExperimentStatus::Stopped | ExperimentStatus::Cancelled,
            ) => {
                delete_templates(clients, stack, std::slice::from_ref(&done.template_id)).await?;
                bail!(
                    "experiment {experiment_id} ended without interrupting: {}",
                    state.and_then(|s| s.reason()).unwrap_or("no reason given")
                );
            }
            _ => tokio::time::sleep(poll).await,
        }
    }
    bail!("experiment {experiment_id} was not running after 3 minutes")
}

/// Deletes these experiment templates; those already gone are skipped.
pub async fn delete_templates(
    clients: &Clients,
    stack: &Stack,
    ids: &[String],
) -> anyhow::Result<()> {
    for id in ids {
        match clients.fis.delete_experiment_template().id(id).send().await {
            Ok(_) => note(stack, &format!("deleted experiment template {id}")),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(error) => {
                return Err(error).doing(|| format!("deleting experiment template {id}"));
            }
        }
    }
    Ok(())
}

/// Experiment templates carrying a stack's tag: stack name to template ids.
pub async fn tagged(clients: &Clients) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut pages = clients
        .fis
        .list_experiment_templates()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.doing(|| "listing experiment templates".to_owned())?;
        for template in page.experiment_templates() {
            let tags: Option<&HashMap<String, String>> = template.tags();
            if let (Some(id), Some(stack)) = (template.id(), tags.and_then(|t| t.get(STACK_TAG))) {
                found.entry(stack.clone()).or_default().push(id.to_owned());
            }
        }
    }
    Ok(found)
}
