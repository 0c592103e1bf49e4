//! Experiments: a template's copy started at an instant, its state and each action's
//! (`initiating` → `running` → `completed`, or `failed`, `stopped`), with their times,
//! and the experiment as FIS shows it. The transitions themselves are the cloud's
//! (`super`), which resolves targets and injects the interruptions.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use simtime::SimTime;

use super::epoch_seconds;
use super::template::Template;
use crate::cloud::{ACCOUNT_ID, REGION};

/// An action's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ActionStatus {
    /// Waiting for the experiment to start running.
    Pending,
    /// Notices sent; the interruption comes at `until`, when the action completes.
    Running {
        /// When the targeted instances are interrupted.
        until: SimTime,
    },
    /// Done.
    Completed,
    /// Its target resolved to nothing under `emptyTargetResolutionMode` `skip`.
    Skipped,
    /// The experiment was stopped first.
    Stopped,
    /// The experiment failed before the action ran.
    Cancelled,
    /// It could not run.
    Failed(String),
}

/// One action's run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ActionRun {
    /// Its state.
    pub status: ActionStatus,
    /// When it started running.
    pub start: Option<SimTime>,
    /// When it ended.
    pub end: Option<SimTime>,
}

/// The experiment's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Started; its targets are resolved at `until`.
    Initiating {
        /// When it starts running.
        until: SimTime,
    },
    /// Its actions are running.
    Running,
    /// Every action completed (or was skipped).
    Completed,
    /// StopExperiment came first.
    Stopped,
    /// It could not run.
    Failed {
        /// FIS's reason text.
        reason: String,
        /// FIS's error code (`InvalidTarget`).
        code: String,
        /// The template part at fault (`targets.SpotInstances`).
        location: String,
    },
}

/// A started experiment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Experiment {
    /// `EXP...`.
    pub id: String,
    /// The template as it was at the start (later changes do not reach it).
    pub template: Template,
    /// The experiment's own tags.
    pub tags: BTreeMap<String, String>,
    /// When StartExperiment was called.
    pub created: SimTime,
    /// Where it stands.
    pub phase: Phase,
    /// Each action's run, by name.
    pub actions: BTreeMap<String, ActionRun>,
    /// When it ended.
    pub end: Option<SimTime>,
}

/// An experiment's ARN.
pub(crate) fn experiment_arn(id: &str) -> String {
    format!("arn:aws:fis:{REGION}:{ACCOUNT_ID}:experiment/{id}")
}

impl Experiment {
    /// The next instant something happens to it by itself.
    pub fn next_due(&self) -> Option<SimTime> {
        match self.phase {
            Phase::Initiating { until } => Some(until),
            Phase::Running => self
                .actions
                .values()
                .filter_map(|run| match run.status {
                    ActionStatus::Running { until } => Some(until),
                    _ => None,
                })
                .min(),
            Phase::Completed | Phase::Stopped | Phase::Failed { .. } => None,
        }
    }

    /// Whether it has ended.
    pub fn is_over(&self) -> bool {
        matches!(
            self.phase,
            Phase::Completed | Phase::Stopped | Phase::Failed { .. }
        )
    }

    fn state_json(&self) -> Value {
        match &self.phase {
            Phase::Initiating { .. } => {
                json!({"status": "initiating", "reason": "Experiment is initiating."})
            }
            Phase::Running => json!({"status": "running", "reason": "Experiment is running."}),
            Phase::Completed => {
                json!({"status": "completed", "reason": "Experiment completed."})
            }
            Phase::Stopped => json!({"status": "stopped", "reason": "Experiment stopped."}),
            Phase::Failed {
                reason,
                code,
                location,
            } => json!({
                "status": "failed",
                "reason": reason,
                "error": {"accountId": ACCOUNT_ID, "code": code, "location": location},
            }),
        }
    }

    fn action_json(&self, name: &str, run: &ActionRun) -> Value {
        let mut out = self
            .template
            .actions
            .get(name)
            .map_or_else(|| json!({}), super::template::Action::to_json);
        let (status, reason) = match &run.status {
            ActionStatus::Pending => ("pending", "Initial state".to_owned()),
            ActionStatus::Running { .. } => ("running", "Action is running.".to_owned()),
            ActionStatus::Completed => ("completed", "Action was completed.".to_owned()),
            ActionStatus::Skipped => (
                "skipped",
                "Action was skipped: its target resolved to no resources.".to_owned(),
            ),
            ActionStatus::Stopped => ("stopped", "Action was stopped.".to_owned()),
            ActionStatus::Cancelled => (
                "cancelled",
                "Action was cancelled: the experiment failed.".to_owned(),
            ),
            ActionStatus::Failed(reason) => ("failed", reason.clone()),
        };
        out["state"] = json!({"status": status, "reason": reason});
        if let Some(start) = run.start {
            out["startTime"] = epoch_seconds(start);
        }
        if let Some(end) = run.end {
            out["endTime"] = epoch_seconds(end);
        }
        out
    }

    /// The experiment as FIS shows it (`Experiment`).
    pub fn to_json(&self) -> Value {
        let targets: serde_json::Map<String, Value> = self
            .template
            .targets
            .iter()
            .map(|(name, target)| (name.clone(), target.to_json()))
            .collect();
        let actions: serde_json::Map<String, Value> = self
            .actions
            .iter()
            .map(|(name, run)| (name.clone(), self.action_json(name, run)))
            .collect();
        let mut out = json!({
            "id": self.id,
            "arn": experiment_arn(&self.id),
            "experimentTemplateId": self.template.id,
            "roleArn": self.template.role_arn,
            "state": self.state_json(),
            "targets": targets,
            "actions": actions,
            "stopConditions": self.template.stop_conditions,
            "creationTime": epoch_seconds(self.created),
            "startTime": epoch_seconds(self.created),
            "tags": self.tags,
            "experimentOptions": self.options_json(),
        });
        if let Some(end) = self.end {
            out["endTime"] = epoch_seconds(end);
        }
        out
    }

    fn options_json(&self) -> Value {
        let mut options = self.template.options_json();
        options["actionsMode"] = json!("run-all");
        options
    }

    /// The experiment as ListExperiments shows it.
    pub fn summary_json(&self) -> Value {
        json!({
            "id": self.id,
            "arn": experiment_arn(&self.id),
            "experimentTemplateId": self.template.id,
            "state": self.state_json(),
            "creationTime": epoch_seconds(self.created),
            "tags": self.tags,
            "experimentOptions": self.options_json(),
        })
    }
}
