//! What an instance's processes should be doing, derived from its EC2 state: the shell
//! that runs instances as local process groups compares this with what it has and acts
//! (start the user data once, freeze, resume, SIGTERM, SIGKILL). Level-triggered, so a
//! control plane that restarts after a crash converges by asking again.

use fleet::{InstanceId, InstanceState};
use simtime::SimTime;

use crate::cloud::Cloud;
use crate::instances::MetadataOptions;

/// The state an instance's process group should be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessGoal {
    /// `pending`: nothing starts yet; a frozen group stays frozen.
    Hold,
    /// `running`: the user data has been started (once, at first boot); a frozen group
    /// resumes.
    Run,
    /// Hibernating or hibernated: the group is frozen (SIGSTOP), memory kept.
    Frozen,
    /// Shutting down or stopping: SIGTERM now; whatever is left is killed at `kill_at`.
    Ending {
        /// When the grace period ends (the instance becomes `terminated`/`stopped`).
        kill_at: SimTime,
    },
    /// `terminated` or `stopped`: nothing may run.
    Gone,
}

/// What the shell needs to run an instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Runtime {
    /// What its processes should be doing now.
    pub goal: ProcessGoal,
    /// Its user data, base64 as the launch template holds it.
    pub user_data: Option<String>,
    /// Its metadata service settings.
    pub metadata: MetadataOptions,
    /// Whether it was ever `running` (so its user data ran at first boot).
    pub booted: bool,
}

impl Cloud {
    /// What an instance's processes should be doing, or `None` for an unknown id.
    pub fn runtime(&self, id: &InstanceId) -> Option<Runtime> {
        let instance = self.world.engine().instance(id)?;
        let record = self.instances.get(id)?;
        let goal = match instance.state {
            InstanceState::Pending { .. } => ProcessGoal::Hold,
            InstanceState::Running => ProcessGoal::Run,
            InstanceState::Stopping { stopped_at } => {
                if instance.hibernated {
                    ProcessGoal::Frozen
                } else {
                    ProcessGoal::Ending {
                        kill_at: stopped_at,
                    }
                }
            }
            InstanceState::Stopped if instance.hibernated => ProcessGoal::Frozen,
            InstanceState::ShuttingDown { terminated_at } => ProcessGoal::Ending {
                kill_at: terminated_at,
            },
            InstanceState::Stopped | InstanceState::Terminated => ProcessGoal::Gone,
        };
        Some(Runtime {
            goal,
            user_data: record.user_data.clone(),
            metadata: record.metadata,
            booted: record.running_since.is_some(),
        })
    }

    /// Every instance that may have processes: not terminated.
    pub fn instances_with_processes(&self) -> Vec<InstanceId> {
        self.world
            .engine()
            .instances()
            .filter(|i| i.state != InstanceState::Terminated)
            .map(|i| i.id.clone())
            .collect()
    }
}
